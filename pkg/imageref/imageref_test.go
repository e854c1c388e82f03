package imageref

import (
	"strings"
	"testing"
)

var (
	d256 = "sha256:" + strings.Repeat("ab12", 16)
	d512 = "sha512:" + strings.Repeat("cd34", 32)
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Ref
	}{
		{"nginx", Ref{Name: "nginx"}},
		{"nginx:1.27", Ref{Name: "nginx", Tag: "1.27"}},
		{"localhost:5000/app:1.2", Ref{Name: "localhost:5000/app", Tag: "1.2"}},
		{"localhost:5000/app", Ref{Name: "localhost:5000/app"}},
		{"ghcr.io/acme/web@" + d256, Ref{Name: "ghcr.io/acme/web", Digest: d256}},
		{"ghcr.io/acme/web:v2@" + d256, Ref{Name: "ghcr.io/acme/web", Tag: "v2", Digest: d256}},
		{"localhost:5000/app:1.2@" + d512, Ref{Name: "localhost:5000/app", Tag: "1.2", Digest: d512}},
		{"Registry.Example:443/Acme/Web:V1", Ref{Name: "Registry.Example:443/Acme/Web", Tag: "V1"}},
		// The last "@" separates the digest.
		{"app:1@x@" + d256, Ref{Name: "app", Tag: "1@x", Digest: d256}},
		{"app@", Ref{Name: "app"}},
		{"", Ref{}},
	}
	for _, tt := range tests {
		if got := Parse(tt.in); got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestIsDigest(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		d256:                                  true,
		d512:                                  true,
		"sha384:" + strings.Repeat("ef", 48):  true,
		strings.ToUpper(d256):                 false, // uppercase hex: the runtime refuses it
		"sha256:" + strings.ToUpper(d256[7:]): false,
		"sha512:" + d256[7:]:                  false, // wrong length for the algorithm
		"md5:" + strings.Repeat("ab", 16):     false,
		"sha256:abc":                          false,
		"1.4.2":                               false,
		"v1:2":                                false,
		"":                                    false,
	} {
		if got := IsDigest(in); got != want {
			t.Errorf("IsDigest(%q) = %v, want %v", in, got, want)
		}
	}
}
