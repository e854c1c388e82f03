package repolint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArtifactGeneratorLayout: Flux's reference layout, Kustomizations
// reading the ExternalArtifacts of an ArtifactGenerator, lints clean; a
// path the generator copies from a directory that does not exist is a
// finding naming the artifact.
func TestArtifactGeneratorLayout(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../gitopsapi/testdata/artifactgen/repo")); err != nil {
		t.Fatal(err)
	}
	rep := lint(t, Options{Root: dir})
	if p := problems(rep.Findings); len(p) > 0 {
		t.Errorf("findings:\n%s", strings.Join(messages(p), "\n"))
	}

	apps := filepath.Join(dir, "clusters/staging/apps.yaml")
	data, err := os.ReadFile(apps)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "clusters/staging/apps.yaml", strings.Replace(string(data), "path: ./staging", "path: ./staging/eu", 1))
	got := messages(problems(lint(t, Options{Root: dir}).Findings))
	want := "clusters/staging/apps.yaml:14: Kustomization ag-flux/apps points at apps/staging/eu, which does not exist in the repository [missing-path]"
	if len(got) != 1 || got[0] != want {
		t.Errorf("findings:\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}
