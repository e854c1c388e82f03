package versionedit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLocations are the locations FuzzSet picks from; the fixtures use
// these names.
var fuzzLocations = []Location{
	{KustomizeImage: "ghcr.io/acme/web"},
	{KustomizeImage: "web"},
	{HelmValues: "image.tag"},
	{HelmValues: "sidecars[1].image.tag"},
	{HelmReleaseChart: true},
	{HelmReleaseChart: true, Name: "web"},
	{ArgoTargetRevision: true},
	{ArgoTargetRevision: true, ArgoSourceIndex: intp(0)},
	{Setter: "flux-system:web"},
	{Setter: "ns:web"},
}

func fuzzIndex(loc Location) uint8 {
	for i, l := range fuzzLocations {
		if l.String() == loc.String() {
			return uint8(i)
		}
	}
	return 0
}

// FuzzSet checks that whenever Set succeeds, the only lines that differ
// carry the location's version, a second Set changes nothing and Read gives
// the version back. Normal test runs only replay the seed corpus.
func FuzzSet(f *testing.F) {
	for _, tc := range goldenCases {
		before, err := os.ReadFile(filepath.Join("testdata", tc.name, "before.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		for _, v := range []string{tc.version, "1.10", "v2.0.0-rc.1", digest9, "2.0@" + digest1, "a #b", "it's", "x: y"} {
			if v != "" {
				f.Add(string(before), fuzzIndex(tc.loc), v)
			}
		}
	}
	f.Add("images:\n- name: web", uint8(1), "1.0")
	f.Add("images: [{digest: "+digest1+", newTag: v1, name: web}]\n", uint8(1), "v2")
	f.Add("image:\r  tag: \"a\"\r", uint8(2), `q"\`)
	f.Add("\ufeffimage: {tag: &a !!str x}\nb: *a\n", uint8(2), "y")
	f.Fuzz(func(t *testing.T, data string, kind uint8, version string) {
		loc := fuzzLocations[int(kind)%len(fuzzLocations)]
		before := []byte(data)
		after, changes, err := Set(before, loc, version)
		if err != nil {
			return
		}
		if len(changes) == 0 {
			if !bytes.Equal(after, before) {
				t.Fatalf("no changes reported but the data changed:\n%q\n%q", before, after)
			}
			return
		}
		checkOnlyVersionLines(t, before, after, loc)
		again, changes2, err := Set(after, loc, version)
		if err != nil || !bytes.Equal(again, after) || len(changes2) != 0 {
			t.Fatalf("second Set is not a no-op: err=%v changes=%v", err, changes2)
		}
		if loc.Setter != "" {
			return // ":tag" and ":digest" markers read back a part of the version
		}
		found, err := Read(after, loc)
		if err != nil {
			t.Fatalf("read after: %v", err)
		}
		if len(found) != 1 || found[0].Version != version {
			t.Fatalf("read back %+v, want one %q", found, version)
		}
	})
}
