package chartsource

import (
	"testing"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// Versions resolve as source-controller resolves them: exact string first,
// then the highest strict semantic version matching; empty and "*" are the
// latest stable version.
func TestVersionResolution(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	index := func(vs ...string) repo.ChartVersions {
		var cvs repo.ChartVersions
		for i, v := range vs {
			cvs = append(cvs, &repo.ChartVersion{Metadata: &chartv2.Metadata{Name: "app", Version: v},
				Created: t0.Add(time.Duration(i) * time.Hour)})
		}
		return cvs
	}
	all := []string{"1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1", "6.0.1", "6.4.0", "7.0.0-alpha.1", "v8.0.0", "not-semver", "1.02.0"}
	tests := []struct {
		name, ver, want string
		wantErr         bool
	}{
		{name: "empty is the latest stable", ver: "", want: "v8.0.0"},
		{name: "star is the latest stable", ver: "*", want: "v8.0.0"},
		{name: "exact", ver: "1.2.0", want: "1.2.0"},
		{name: "exact string even if not semver", ver: "not-semver", want: "not-semver"},
		{name: "x range", ver: "6.x", want: "6.4.0"},
		{name: "caret", ver: "^1.0.0", want: "1.10.0"},
		{name: "tilde", ver: "~1.2", want: "1.2.0"},
		{name: "prerelease range includes prereleases", ver: ">=1.0.0-alpha", want: "v8.0.0"},
		{name: "prerelease range below a stable", ver: ">=7.0.0-alpha <8.0.0", want: "7.0.0-alpha.1"},
		{name: "prerelease excluded without a prerelease in the range", ver: ">=7.0.0 <8.0.0", wantErr: true},
		{name: "non-strict versions are not candidates", ver: "1.2.x", want: "1.2.0"},
		{name: "no match", ver: "9.x", wantErr: true},
		{name: "invalid range", ver: ">>1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickIndexVersion(index(all...), "app", tt.ver)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("pickIndexVersion(%q) = %s, want an error", tt.ver, got.Version)
				}
				return
			}
			if err != nil {
				t.Fatalf("pickIndexVersion(%q): %v", tt.ver, err)
			}
			if got.Version != tt.want {
				t.Errorf("pickIndexVersion(%q) = %s, want %s", tt.ver, got.Version, tt.want)
			}
			// The same over OCI tags (where Helm writes "+" as "_").
			tag, err := pickTag(all, tt.ver)
			if err != nil || tag != tt.want {
				t.Errorf("pickTag(%q) = %q, %v; want %s", tt.ver, tag, err, tt.want)
			}
		})
	}

	t.Run("build metadata: the newest created wins among equal versions", func(t *testing.T) {
		got, err := pickIndexVersion(index("1.0.0+b", "1.0.0+a"), "app", "1.x")
		if err != nil || got.Version != "1.0.0+a" {
			t.Fatalf("got %v, %v; want 1.0.0+a (created last)", got, err)
		}
	})
	t.Run("tags spell + as _", func(t *testing.T) {
		tag, err := pickTag([]string{"1.0.0_build.1", "0.9.0"}, "1.0.0+build.1")
		if err != nil || tag != "1.0.0_build.1" {
			t.Fatalf("pickTag = %q, %v; want 1.0.0_build.1", tag, err)
		}
	})
}
