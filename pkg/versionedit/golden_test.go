package versionedit

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

const (
	digest1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digest9 = "sha256:9999999999999999999999999999999999999999999999999999999999999999"
)

func intp(i int) *int { return &i }

// goldenCases are testdata/<name>/before.yaml edited into after.yaml, by Set
// with version or, when image is set, by SetImageName. wantRead is what Read
// returns from after.yaml.
var goldenCases = []struct {
	name     string
	loc      Location
	version  string
	image    string
	wantRead []string
}{
	{name: "kustomize-tag", loc: Location{KustomizeImage: "ghcr.io/acme/web"}, version: "1.4.2", wantRead: []string{"1.4.2"}},
	{name: "kustomize-flow-quoted", loc: Location{KustomizeImage: "ghcr.io/acme/web"}, version: "1.10", wantRead: []string{"1.10"}},
	{name: "kustomize-insert", loc: Location{KustomizeImage: "ghcr.io/acme/web"}, version: "1.4.2", wantRead: []string{"1.4.2"}},
	{name: "kustomize-insert-flow", loc: Location{KustomizeImage: "ghcr.io/acme/web"}, version: "1.4.2", wantRead: []string{"1.4.2"}},
	{name: "kustomize-digest-rename", loc: Location{KustomizeImage: "ghcr.io/acme/web"}, version: digest9, wantRead: []string{digest9}},
	{name: "kustomize-tag-removes-digest", loc: Location{KustomizeImage: "ghcr.io/acme/web"}, version: "1.5.0", wantRead: []string{"1.5.0"}},
	{name: "kustomize-tag-and-digest", loc: Location{KustomizeImage: "ghcr.io/acme/web"}, version: "1.4.2@" + digest9, wantRead: []string{"1.4.2@" + digest9}},
	{name: "kustomize-crlf", loc: Location{KustomizeImage: "ghcr.io/acme/web"}, version: "v1.4.2", wantRead: []string{"v1.4.2"}},
	{name: "kustomize-newname", loc: Location{KustomizeImage: "ghcr.io/acme/web"}, image: "registry.acme.io/web", wantRead: []string{"1.4.1"}},
	{name: "helm-values", loc: Location{HelmValues: "image.tag"}, version: "1.4.2", wantRead: []string{"1.4.2"}},
	{name: "helm-values-index", loc: Location{HelmValues: "sidecars[1].image.tag"}, version: "1.4.2", wantRead: []string{"1.4.2"}},
	{name: "helm-values-alias", loc: Location{HelmValues: "migrations.image.tag"}, version: "1.4.2", wantRead: []string{"1.4.2"}},
	{name: "helm-values-float", loc: Location{HelmValues: "image.tag"}, version: "1.10", wantRead: []string{"1.10"}},
	{name: "helmrelease-multidoc", loc: Location{HelmReleaseChart: true, Name: "web"}, version: "1.4.2", wantRead: []string{"1.4.2"}},
	{name: "ocirepository-tag", loc: Location{OCIRepository: true}, version: "6.6.0", wantRead: []string{"6.6.0"}},
	{name: "ocirepository-digest", loc: Location{OCIRepository: true, Name: "web"}, version: digest9, wantRead: []string{digest9}},
	{name: "helmchart-version", loc: Location{HelmChart: true}, version: "1.10", wantRead: []string{"1.10"}},
	{name: "argo-single", loc: Location{ArgoTargetRevision: true}, version: "v1.4.2", wantRead: []string{"v1.4.2"}},
	{name: "argo-multisource", loc: Location{ArgoTargetRevision: true, ArgoSourceIndex: intp(0)}, version: "1.4.2", wantRead: []string{"1.4.2"}},
	{name: "setter-deployment", loc: Location{Setter: "flux-system:web"}, version: "1.4.2", wantRead: []string{"1.4.2", "1.4.2", "1.4.2", "1.4.2"}},
	{name: "setter-digest", loc: Location{Setter: "flux-system:web"}, version: "1.4.2@" + digest9, wantRead: []string{"1.4.2@" + digest9, digest9}},
	{name: "setter-name", loc: Location{Setter: "flux-system:web"}, image: "registry.acme.io/web", wantRead: []string{"1.4.1", "1.4.1", "1.4.1", "1.4.1"}},
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", tc.name)
			before, err := os.ReadFile(filepath.Join(dir, "before.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			set := func(data []byte) ([]byte, []Change, error) {
				if tc.image != "" {
					return SetImageName(data, tc.loc, tc.image)
				}
				return Set(data, tc.loc, tc.version)
			}
			after, changes, err := set(before)
			if err != nil {
				t.Fatalf("set: %v", err)
			}
			golden.Check(t, filepath.Join(dir, "after.yaml"), after)
			if len(changes) == 0 {
				t.Fatal("no changes reported")
			}
			checkOnlyVersionLines(t, before, after, tc.loc)
			checkChangeLines(t, before, after, changes)

			again, changes2, err := set(after)
			if err != nil || !bytes.Equal(again, after) || len(changes2) != 0 {
				t.Errorf("second set is not a no-op: err=%v changes=%v", err, changes2)
			}
			found, err := Read(after, tc.loc)
			if err != nil {
				t.Fatalf("read after: %v", err)
			}
			var got []string
			for _, f := range found {
				got = append(got, f.Version)
			}
			if diff := cmp.Diff(tc.wantRead, got); diff != "" {
				t.Errorf("read after (-want +got):\n%s", diff)
			}
		})
	}
}

// checkChangeLines checks that each change names a line showing its value:
// the old value in before for a removal, the new value in after otherwise.
func checkChangeLines(t *testing.T, before, after []byte, changes []Change) {
	t.Helper()
	bl, al := splitLines(before), splitLines(after)
	for _, c := range changes {
		lines, text := al, c.New
		if c.New == "" {
			lines, text = bl, c.Old
		}
		if c.Line < 1 || c.Line > len(lines) || !strings.Contains(lines[c.Line-1], text) {
			t.Errorf("change %v: its line does not show %q", c, text)
		}
	}
}

// checkOnlyVersionLines computes the line diff of before and after and
// checks that every removed line carries the location's data in before and
// every added line carries it in after.
func checkOnlyVersionLines(t *testing.T, before, after []byte, loc Location) {
	t.Helper()
	bl, al := splitLines(before), splitLines(after)
	removed, added := lineDiff(bl, al)
	if len(removed)+len(added) == 0 {
		t.Errorf("no line differs")
	}
	// A last line without a line break gains one when a line is inserted
	// after it: that is no change of its content.
	if n := len(bl); n > 0 && len(removed) > 0 && removed[len(removed)-1] == n && !strings.ContainsAny(bl[n-1], "\r\n") {
		for i, a := range added {
			if strings.TrimRight(al[a-1], "\r\n") == bl[n-1] {
				removed = removed[:len(removed)-1]
				added = slices.Delete(added, i, i+1)
				break
			}
		}
	}
	for _, side := range []struct {
		name  string
		data  []byte
		lines []int
	}{{"removed", before, removed}, {"added", after, added}} {
		allowed := versionLines(t, side.data, loc)
		for _, l := range side.lines {
			if !allowed[l] {
				t.Errorf("%s line %d %q does not carry the version (version lines %v)", side.name, l, splitLines(side.data)[l-1], slices.Sorted(mapKeys(allowed)))
			}
		}
	}
}

func mapKeys(m map[int]bool) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// versionLines returns the lines holding the keys and values of the
// location.
func versionLines(t *testing.T, data []byte, loc Location) map[int]bool {
	t.Helper()
	p, err := parse(data)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	occ, err := p.locate(loc)
	if err != nil {
		t.Fatalf("locate: %v", err)
	}
	lines := map[int]bool{}
	for _, o := range occ {
		for _, l := range o.lines {
			lines[l] = true
		}
	}
	return lines
}

// splitLines splits data into lines (breaks included) the way yaml.v3
// numbers them.
func splitLines(data []byte) []string {
	s := newSource(data)
	var lines []string
	for i := range s.Lines() {
		start := s.LineStart(i + 1)
		if i == 0 {
			start = 0 // keep a BOM on line 1
		}
		end := len(data)
		if i+1 < s.Lines() {
			end = s.LineStart(i + 2)
		}
		lines = append(lines, string(data[start:end]))
	}
	return lines
}

// lineDiff returns the 1-based numbers of the lines of a not in a longest
// common subsequence with b, and of the lines of b not in it.
func lineDiff(a, b []string) (removed, added []int) {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	x, y := a[pre:len(a)-suf], b[pre:len(b)-suf]
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case j == len(y) || i < len(x) && lcs[i+1][j] >= lcs[i][j+1]:
			removed = append(removed, pre+i+1)
			i++
		default:
			added = append(added, pre+j+1)
			j++
		}
	}
	return removed, added
}

func TestLineDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b           string
		removed, added []int
	}{
		{"a\nb\nc\n", "a\nb\nc\n", nil, nil},
		{"a\nb\nc\n", "a\nB\nc\n", []int{2}, []int{2}},
		{"a\nb\nc\n", "a\nb\nx\nc\n", nil, []int{3}},
		{"a\nb\nc\n", "a\nc\n", []int{2}, nil},
		{"a\r\nb\r\n", "a\nb\r\n", []int{1}, []int{1}},
	}
	for _, tc := range tests {
		r, a := lineDiff(splitLines([]byte(tc.a)), splitLines([]byte(tc.b)))
		if !slices.Equal(r, tc.removed) || !slices.Equal(a, tc.added) {
			t.Errorf("lineDiff(%q, %q) = %v, %v; want %v, %v", tc.a, tc.b, r, a, tc.removed, tc.added)
		}
	}
}
