package forge

import (
	"errors"
	"testing"
)

// TestCheckTokenTarget: a token goes over https (plain http only to a
// loopback address or when the user allows it) to the remote's host, its
// api. host, the API host inferred from the remote, or a host the user
// confirmed — never to a host a repository file picked.
func TestCheckTokenTarget(t *testing.T) {
	tests := []struct {
		name, remote, url string
		kind              Kind
		trust             Trust
		wantErr           string // "" ok, "insecure" or "host"
	}{
		{"inferred from the remote", "https://gitea.example.com/acme/web.git", "", Gitea, Trust{}, ""},
		{"github.com api host", "git@github.com:acme/web.git", "", GitHub, Trust{}, ""},
		{"github.com with its api url", "git@github.com:acme/web.git", "https://api.github.com", GitHub, Trust{}, ""},
		{"ghe.com data residency", "https://acme.ghe.com/acme/web.git", "https://api.acme.ghe.com", GitHub, Trust{}, ""},
		{"other port on the remote's host", "ssh://git@gitea.example.com:2222/acme/web.git", "https://gitea.example.com:3000", Gitea, Trust{}, ""},
		{"host case", "https://Gitea.Example.com/acme/web.git", "https://GITEA.example.com", Gitea, Trust{}, ""},
		{"loopback http", "http://127.0.0.1:3000/acme/web.git", "http://127.0.0.1:3000", Gitea, Trust{}, ""},
		{"another host", "https://gitea.example.com/acme/web.git", "https://attacker.example", Gitea, Trust{}, "host"},
		{"a suffix is not the host", "https://example.com/acme/web.git", "https://evilexample.com", Gitea, Trust{}, "host"},
		{"a look-alike subdomain", "https://example.com/acme/web.git", "https://example.com.attacker.io", Gitea, Trust{}, "host"},
		{"another host confirmed", "https://gitea.example.com/acme/web.git", "https://attacker.example", Gitea, Trust{Hosts: []string{" Attacker.example "}}, ""},
		{"plain http to the remote's host", "https://gitea.example.com/acme/web.git", "http://gitea.example.com", Gitea, Trust{}, "insecure"},
		{"an http remote", "http://gitea.example.com/acme/web.git", "", Gitea, Trust{}, "insecure"},
		{"plain http allowed", "http://gitea.example.com/acme/web.git", "", Gitea, Trust{AllowHTTP: true}, ""},
		{"plain http to a confirmed host still insecure", "https://gitea.example.com/acme/web.git", "http://attacker.example", Gitea, Trust{Hosts: []string{"attacker.example"}}, "insecure"},
		{"localhost is not 127.0.0.1", "http://127.0.0.1:3000/acme/web.git", "http://localhost:8080", Gitea, Trust{}, "host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := ParseRemote(tt.remote, Config{Kind: tt.kind, URL: tt.url})
			if err != nil {
				t.Fatal(err)
			}
			err = CheckTokenTarget(repo, tt.remote, tt.trust)
			var te *TokenTargetError
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want ok, got %v", err)
			case tt.wantErr == "":
			case !errors.As(err, &te):
				t.Fatalf("want a *TokenTargetError, got %v", err)
			case te.Insecure != (tt.wantErr == "insecure"):
				t.Fatalf("want %s, got %v", tt.wantErr, err)
			}
		})
	}
}
