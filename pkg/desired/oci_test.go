package desired

import (
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
)

func TestAppliedDigest(t *testing.T) {
	const hex = "c5942b7526d0fdbf5bb175409b641453e20a9db77cd171c9f41d6f7584b13ad5"
	for rev, want := range map[string]string{
		"v1.2.0@sha256:" + hex:        "sha256:" + hex,
		"sha256:" + hex:               "sha256:" + hex,
		"latest@sha256:" + hex:        "sha256:" + hex,
		"main@sha1:0123456789ab":      "",
		"v1@sha256:" + hex[:12]:       "",
		"v1@sha256:" + hex[:63] + "g": "",
		"":                            "",
	} {
		if got := appliedDigest(rev); got != want {
			t.Errorf("appliedDigest(%q) = %q, want %q", rev, got, want)
		}
	}
}

func TestOCIRefLabel(t *testing.T) {
	for _, tt := range []struct {
		o    gitopsapi.OCISource
		want string
	}{
		{gitopsapi.OCISource{}, "latest"},
		{gitopsapi.OCISource{Tag: "v1"}, "v1"},
		{gitopsapi.OCISource{Tag: "v1", Semver: ">=1.0.0", SemverFilter: "-rc"}, "semver >=1.0.0, filter -rc"},
		{gitopsapi.OCISource{Tag: "v1", Semver: ">=1.0.0", Digest: "sha256:ab"}, "sha256:ab"},
	} {
		if got := ociRefLabel(&tt.o); got != tt.want {
			t.Errorf("ociRefLabel(%+v) = %q, want %q", tt.o, got, tt.want)
		}
	}
}

func TestOverrideURLOCI(t *testing.T) {
	ov := []string{"oci://registry.example.com/fleet/app=/srv/artifacts/app", "oci://ghcr.io/acme/=oci://mirror.local:5000/acme/"}
	for url, want := range map[string]string{
		"oci://registry.example.com/fleet/app":  "/srv/artifacts/app",
		"oci://registry.example.com/fleet/app/": "/srv/artifacts/app",
		"oci://ghcr.io/acme/web":                "oci://mirror.local:5000/acme/web",
		"oci://ghcr.io/other/web":               "oci://ghcr.io/other/web",
	} {
		if got := OverrideURL(ov, url); got != want {
			t.Errorf("OverrideURL(%q) = %q, want %q", url, got, want)
		}
	}
}
