package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintNothingToCheck: a PATH with no kustomization and no Kubernetes
// manifest (a wrong directory in a CI job) is a failure, exit 2, not a
// clean lint.
func TestLintNothingToCheck(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	empty := t.TempDir()
	notRepo := t.TempDir()
	if err := os.WriteFile(filepath.Join(notRepo, "README.md"), []byte("# hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notRepo, "config.yaml"), []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{empty, notRepo} {
		for _, out := range []string{"text", "json"} {
			r := runRepo(t, "", "lint", dir, "-o", out)
			if r.code != 2 || !strings.Contains(r.stderr, dir+": nothing to check") || r.stdout != "" {
				t.Errorf("lint %s -o %s: %s", dir, out, r)
			}
		}
	}
}

// TestInitGitOutsideAWorkTree: --git where there is no git repository fails
// before writing anything (it used to write the whole skeleton, then fail).
func TestInitGitOutsideAWorkTree(t *testing.T) {
	gitEnv(t)
	dir := filepath.Join(t.TempDir(), "gitops")
	r := runRepo(t, "", "init", "--operator", "flux", "--env-strategy", "branches", "--git", "--dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "not in a git work tree") {
		t.Errorf("init --git outside a work tree: %s", r)
	}
	if _, err := os.Stat(dir); err == nil {
		entries, _ := os.ReadDir(dir)
		t.Errorf("init --git outside a work tree wrote %d entries into %s", len(entries), dir)
	}
}

// TestInitDirIsAFile: --dir naming a file is a usage error that says so.
func TestInitDirIsAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runRepo(t, "", "init", "--operator", "flux", "--dir", f)
	if r.code != 2 || !strings.Contains(r.stderr, "--dir "+f+" is not a directory") {
		t.Errorf("init --dir FILE: %s", r)
	}
}

// TestCompletion: flag values and the PATH argument (directories only).
func TestCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"init", "--operator", ""}, "argocd\nflux\n:4\n"},
		{[]string{"init", "--layout", ""}, "mono\nper-team\n:4\n"},
		{[]string{"init", "--env-strategy", ""}, "dirs\nbranches\n:4\n"},
		{[]string{"lint", "-o", ""}, "text\njson\nsarif\nmarkdown\n:4\n"},
		{[]string{"graph", "-o", ""}, "text\ndot\nsvg\npng\n:4\n"},
		{[]string{"lint", ""}, ":16\n"},
		{[]string{"graph", ""}, ":16\n"},
		{[]string{"lint", "x", ""}, ":4\n"},
	}
	for _, tt := range tests {
		r := runRepo(t, "", append([]string{"__complete"}, tt.args...)...)
		if r.code != 0 || r.stdout != tt.want {
			t.Errorf("__complete %q: %s\nwant stdout %q", tt.args, r, tt.want)
		}
	}
}
