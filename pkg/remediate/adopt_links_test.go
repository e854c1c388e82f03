//go:build unix

package remediate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
)

// TestAdoptRefusesLinks: --adopt renames a new file over the one it edits,
// which would turn a symbolic link into a regular file and split a hard
// link; such files are refused (the link and its target left as they were),
// and Write refuses a file that became a link after it was read.
func TestAdoptRefusesLinks(t *testing.T) {
	t.Parallel()
	const content = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata: {mode: production}\n"
	reportFor := func(file string) *compare.Report {
		return &compare.Report{Objects: []compare.ObjectReport{{
			APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "cfg", Source: file + ":1", Status: compare.StatusModified,
			Live:    obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: cfg, namespace: shop}, data: {mode: debug}}`),
			Changes: []objdiff.Change{modified(p("data", "mode"), "debug", "production")},
		}}}
	}
	tests := []struct {
		name   string
		link   func(t *testing.T, target, path string)
		reason string
	}{
		{"symbolic link", func(t *testing.T, target, path string) {
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link to "},
		{"hard link", func(t *testing.T, target, path string) {
			if err := os.Link(target, path); err != nil {
				t.Fatal(err)
			}
		}, "has 2 hard links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			target, path := filepath.Join(dir, "shared.yaml"), filepath.Join(dir, "app.yaml")
			if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			tt.link(t, target, path)
			before, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}

			a, err := Adopt(t.Context(), reportFor(path))
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Files) != 0 || len(a.Refused) != 1 || !strings.Contains(a.Refused[0].Reason, tt.reason) {
				t.Fatalf("files %d, refused %+v; want the file refused because it %s", len(a.Files), a.Refused, tt.reason)
			}
			if err := a.Write(); err != nil {
				t.Fatal(err)
			}
			after, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if after.Mode() != before.Mode() || !os.SameFile(before, after) {
				t.Errorf("%s replaced: mode %v, was %v", path, after.Mode(), before.Mode())
			}
			if b, _ := os.ReadFile(target); string(b) != content {
				t.Errorf("the link's target was written:\n%s", b)
			}

			// A regular file when adopted, a link when written: refused.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			a, err = Adopt(t.Context(), reportFor(path))
			if err != nil || len(a.Files) != 1 {
				t.Fatalf("a regular file: %d files, refused %+v, %v", len(a.Files), a.Refused, err)
			}
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			tt.link(t, target, path)
			if err := a.Write(); err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Write over a file that became a link: %v, want it refused (%s)", err, tt.reason)
			}
			if b, _ := os.ReadFile(target); string(b) != content {
				t.Errorf("the link's target was written:\n%s", b)
			}
		})
	}
}
