package ocisource

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

func TestRelatedHost(t *testing.T) {
	for _, tt := range []struct {
		registry, host string
		want           bool
	}{
		{"ghcr.io", "ghcr.io", true},
		{"index.docker.io", "auth.docker.io", true}, // Docker Hub's token service
		{"registry.example.com:5000", "auth.example.com", true},
		{"127.0.0.1:5000", "127.0.0.1:5001", true},
		{"127.0.0.1:5000", "localhost:5000", false},
		{"127.0.0.1:5000", "127.0.0.2", false},
		{"ghcr.io", "evil.example.com", false},
		{"alice.github.io", "mallory.github.io", false}, // a public suffix: different owners
		{"registry.example.com", "example.com.evil.net", false},
		{"localhost:5000", "registry", false},
	} {
		if got := relatedHost(tt.registry, tt.host); got != tt.want {
			t.Errorf("relatedHost(%q, %q) = %v, want %v", tt.registry, tt.host, got, tt.want)
		}
	}
}

func TestDockerConfigKeys(t *testing.T) {
	kc, err := parseDockerConfig([]byte(`{"auths":{
		"https://index.docker.io/v1/": {"auth": "aHViOnB3"},
		"GHCR.io": {"username": "gh", "password": "pw"},
		"http://127.0.0.1:5000/v2/": {"identitytoken": "tok"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]authn.AuthConfig{
		"docker.io/library/app":  {Username: "hub", Password: "pw"},
		"ghcr.io/org/app":        {Username: "gh", Password: "pw"},
		"127.0.0.1:5000/app":     {IdentityToken: "tok"},
		"registry.example.com/a": {},
		"127.0.0.1:5001/app":     {},
	} {
		repo, err := name.NewRepository(ref)
		if err != nil {
			t.Fatal(err)
		}
		a, err := kc.Resolve(repo)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if *got != want {
			t.Errorf("%s: %+v, want %+v", ref, *got, want)
		}
	}
	if _, err := parseDockerConfig([]byte(`{"auths":{"r":{"auth":"bm8tY29sb24="}}}`)); err == nil {
		t.Error("an auth field without a colon was accepted")
	}
}
