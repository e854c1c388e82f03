package health

import (
	"strings"
	"testing"
)

func TestParseImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in                string
		repo, tag, digest string
	}{
		{"ghcr.io/acme/web:1.4.2", "ghcr.io/acme/web", "1.4.2", ""},
		{"ghcr.io/acme/web@" + dig, "ghcr.io/acme/web", "", dig},
		{"ghcr.io/acme/web:1.4.2@" + dig, "ghcr.io/acme/web", "1.4.2", dig},
		{"localhost:5000/web", "localhost:5000/web", "", ""},
		{"localhost:5000/web:v2", "localhost:5000/web", "v2", ""},
		{"nginx", "nginx", "", ""},
		// The last "@" separates the digest, as in pkg/versionedit and
		// pkg/imageref (the first "@" made the digest "x@sha256:…").
		{"web:1@x@" + dig, "web", "1@x", dig},
	}
	for _, tt := range tests {
		got := parseImage(tt.in)
		if got.repo != tt.repo || got.tag != tt.tag || got.digest != tt.digest {
			t.Errorf("parseImage(%q) = %q %q %q, want %q %q %q", tt.in, got.repo, got.tag, got.digest, tt.repo, tt.tag, tt.digest)
		}
	}
}

func TestSameRepo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"nginx", "docker.io/library/nginx", true},
		{"library/nginx", "index.docker.io/library/nginx", true},
		{"acme/web", "docker.io/acme/web", true},
		{"ghcr.io/acme/web", "ghcr.io/acme/web", true},
		{"ghcr.io/acme/web", "docker.io/acme/web", false},
		{"localhost/web", "docker.io/localhost/web", false},
		{"localhost:5000/web", "localhost:5000/web", true},
	}
	for _, tt := range tests {
		if got := sameRepo(tt.a, tt.b); got != tt.want {
			t.Errorf("sameRepo(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestIsDigest(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{dig: true, "sha512:" + dig[7:] + dig[7:]: true, "1.4.2": false, "sha256:abc": false, "v1:2": false,
		// What a runtime refuses is no digest, as in pkg/versionedit.
		"sha256:" + strings.ToUpper(dig[7:]): false, "md5:" + dig[7:39]: false, "sha256:" + dig[7:47]: false} {
		if got := isDigest(in); got != want {
			t.Errorf("isDigest(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestFluxRevisionSHA(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"main@sha1:" + shaA:       shaA,
		"v1.0.0@sha1:" + shaA:     shaA,
		"sha1:" + shaA:            shaA,
		"latest@" + dig:           dig[7:],
		"main/" + shaA:            shaA,
		"refs/heads/main/" + shaA: shaA,
		"release/v1@sha1:" + shaB: shaB,
		"1.4.2":                   "1.4.2",
	} {
		if got := fluxRevisionSHA(in); got != want {
			t.Errorf("fluxRevisionSHA(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSameCommit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{shaA, shaA, true},
		{shaA, shaA[:7], true},
		{shaA[:12], shaA, true},
		{shaA, shaA[:6], false},
		{shaA, shaB, false},
		{"1.4.2", "1.4.2", true},
		{"1.4.2", "1.4", false},
		{"ABCDEF1", "abcdef1234", true},
	}
	for _, tt := range tests {
		if got := sameCommit(tt.a, tt.b); got != tt.want {
			t.Errorf("sameCommit(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
