package versionedit

import (
	"errors"
	"strings"
	"testing"
)

func TestIsRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{">=1.0.0-alpha", true},
		{"6.x", true},
		{"~1.2", true},
		{"^1.2.3", true},
		{"*", true},
		{"1.2 - 1.4", true},
		{">= 1.2, < 2", true},
		{"1.2.3 || 2.x", true},
		{"1.4.2", false},
		{"v1.4", false},
		{"2.0.0-rc.1", false},
		{"1.4.2-alpine", false},
		{"latest", false},
		{"main", false},
		{"release-1.x", false},
		{digest1, false},
		{"", false},
		{"x", false},
	}
	for _, tc := range tests {
		if got := IsRange(tc.in); got != tc.want {
			t.Errorf("IsRange(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

const (
	helmReleaseDoc = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  chart:
    spec:
      chart: web
      version: %s # chart
`
	ociRepositoryDoc = `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: web
spec:
  url: oci://ghcr.io/acme/charts/web
  ref:
%s
`
	helmChartDoc = `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: web
spec:
  chart: web
  version: %s
`
)

// TestRangeRefused checks, for every Helm version kind, that Read returns a
// range as written and that Set neither writes a range nor writes a version
// over one.
func TestRangeRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		doc      string
		loc      Location
		version  string
		wantRead string
		wantErr  string // "" when Set must succeed
		wantLine string
	}{
		{name: "helmrelease range to version", doc: strings.Replace(helmReleaseDoc, "%s", `">=1.0.0-alpha"`, 1), loc: Location{HelmReleaseChart: true},
			version: "1.4.2", wantRead: ">=1.0.0-alpha", wantErr: `spec.chart.spec.version is the semver range ">=1.0.0-alpha"`, wantLine: "line 9"},
		{name: "helmrelease x range", doc: strings.Replace(helmReleaseDoc, "%s", "6.x", 1), loc: Location{HelmReleaseChart: true},
			version: "6.1.0", wantRead: "6.x", wantErr: `"6.x"`, wantLine: "line 9"},
		{name: "helmrelease version to range", doc: strings.Replace(helmReleaseDoc, "%s", "1.4.1", 1), loc: Location{HelmReleaseChart: true},
			version: "~1.4", wantRead: "1.4.1", wantErr: `"~1.4" is a semver range, not a version`},
		{name: "helmrelease version to version", doc: strings.Replace(helmReleaseDoc, "%s", "1.4.1", 1), loc: Location{HelmReleaseChart: true},
			version: "1.4.2", wantRead: "1.4.1"},
		{name: "ocirepository semver", doc: strings.Replace(ociRepositoryDoc, "%s", "    semver: \"^1.2.3\"\n    tag: 1.2.3", 1), loc: Location{OCIRepository: true},
			version: "1.3.0", wantRead: "^1.2.3", wantErr: `spec.ref.semver is the semver range "^1.2.3"`, wantLine: "line 8"},
		{name: "ocirepository tag to star", doc: strings.Replace(ociRepositoryDoc, "%s", "    tag: 1.2.3", 1), loc: Location{OCIRepository: true},
			version: "*", wantRead: "1.2.3", wantErr: `"*" is a semver range`},
		{name: "ocirepository tag takes no digest", doc: strings.Replace(ociRepositoryDoc, "%s", "    tag: 1.2.3", 1), loc: Location{OCIRepository: true},
			version: digest9, wantRead: "1.2.3", wantErr: "spec.ref.tag takes an OCI tag", wantLine: "line 8"},
		{name: "ocirepository digest wins over tag", doc: strings.Replace(ociRepositoryDoc, "%s", "    tag: 1.2.3\n    digest: "+digest1, 1), loc: Location{OCIRepository: true},
			version: "1.2.4", wantRead: digest1, wantErr: "spec.ref.digest takes a digest", wantLine: "line 9"},
		{name: "helmchart star", doc: strings.Replace(helmChartDoc, "%s", `"*"`, 1), loc: Location{HelmChart: true},
			version: "1.4.2", wantRead: "*", wantErr: `spec.version is the semver range "*"`, wantLine: "line 7"},
		{name: "helmchart tilde", doc: strings.Replace(helmChartDoc, "%s", "~1.2", 1), loc: Location{HelmChart: true},
			version: "1.2.9", wantRead: "~1.2", wantErr: "semver range", wantLine: "line 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			found, err := Read([]byte(tc.doc), tc.loc)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(found) != 1 || found[0].Version != tc.wantRead {
				t.Fatalf("Read = %+v, want one %q", found, tc.wantRead)
			}
			out, _, err := Set([]byte(tc.doc), tc.loc, tc.version)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Set: %v", err)
				}
				if !strings.Contains(string(out), tc.version+" # chart") {
					t.Fatalf("Set did not write %s:\n%s", tc.version, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("Set wrote %q:\n%s", tc.version, out)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.wantLine) {
				t.Errorf("Set error %q, want it to contain %q and %q", err, tc.wantErr, tc.wantLine)
			}
			if strings.Contains(tc.wantErr, "range") && !errors.Is(err, ErrRange) {
				t.Errorf("Set error %q does not wrap ErrRange", err)
			}
		})
	}
}

func TestInRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version, rng string
		want         bool
	}{
		{"6.2.1", "6.x", true},
		{"5.9.0", "6.x", false},
		{"1.0.0-beta.1", ">=1.0.0-alpha", true},
		{"1.2.9", "~1.2", true},
		{"1.3.0", "~1.2", false},
		{"1.9.0", "^1.2.3", true},
		{"2.0.0", "^1.2.3", false},
		{"latest", "*", false},
		{"1.0.0", "not a range", false},
	}
	for _, tc := range tests {
		if got := InRange(tc.version, tc.rng); got != tc.want {
			t.Errorf("InRange(%q, %q) = %v, want %v", tc.version, tc.rng, got, tc.want)
		}
	}
}
