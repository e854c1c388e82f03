package promote

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingEnvironmentBranch: a branch-per-environment pipeline whose prod
// branch does not exist yet still shows status and promotes between the
// others, with a warning naming the branch; -o json gets a document when
// there is nothing to promote.
func TestMissingEnvironmentBranch(t *testing.T) {
	dir, bare := branchPerEnvRepo(t, `apiVersion: gitops.kubectl-gitops.dev/v1alpha1
kind: Pipeline
branch: main
environments:
- name: dev
  branch: env/dev
- name: staging
  branch: env/staging
- name: prod
  branch: env/prod
applications:
- name: web
  versions:
  - file: values.yaml
    helmValues: image.tag
`, map[string]string{
		"dev":     "values.yaml:image:\n  tag: 1.1.0\n",
		"staging": "values.yaml:image:\n  tag: 1.0.0\n",
	})

	r := promote(t, "", dir, "status", "--no-live")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: branch env/prod (prod) does not exist on origin") ||
		!strings.Contains(r.stdout, "web  staging  1.0.0  1.1.0 from dev") {
		t.Fatalf("status: %s", r)
	}
	// --no-headers as kubectl get: the same rows, no header line.
	lines := func(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
	rows := lines(r.stdout)
	if !strings.HasPrefix(rows[0], "APP ") {
		t.Fatalf("status without its header:\n%s", r.stdout)
	}
	nh := promote(t, "", dir, "status", "--no-live", "--no-headers")
	if got := lines(nh.stdout); nh.code != 0 || len(got) != len(rows)-1 || !strings.HasPrefix(got[0], "web ") {
		t.Errorf("status --no-headers, want the %d rows only: %s", len(rows)-1, nh)
	}
	// -o wide: the same columns, then FROM and FROM-VERSION on the right,
	// whether a version is pending or not.
	wide := lines(promote(t, "", dir, "status", "--no-live", "-o", "wide").stdout)
	if len(wide) != len(rows) || strings.Join(strings.Fields(wide[0]), " ") != "APP ENV GIT PENDING FROM FROM-VERSION" {
		t.Fatalf("status -o wide:\n%s", strings.Join(wide, "\n"))
	}
	for i, want := range []string{"web dev 1.1.0 - - -", "web staging 1.0.0 1.1.0 from dev dev 1.1.0"} {
		if got := strings.Join(strings.Fields(wide[i+1]), " "); got != want {
			t.Errorf("status -o wide row %d: %q, want %q", i+1, got, want)
		}
	}
	// wide is status's own: history refuses it.
	if h := promote(t, "", dir, "history", "-o", "wide"); h.code != 2 {
		t.Errorf("history -o wide: exit %d, want 2: %s", h.code, h)
	}
	r = promote(t, "", dir, "web", "--to", "staging", "--skip-gates")
	if r.code != 0 || git(t, bare, "show", "env/staging:values.yaml") != "image:\n  tag: 1.1.0" {
		t.Fatalf("promote to staging: %s", r)
	}
	r = promote(t, "", dir, "web", "--to", "staging", "--skip-gates", "-o", "json")
	var out JSONOutcome
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || out.Environment != "staging" || len(out.Apps) != 0 {
		t.Fatalf("nothing to promote, -o json: %v\n%s", err, r)
	}
}

// branchPerEnvRepo makes a work tree (returned with its bare origin) whose
// main holds the pipeline and, for each environment of files, a branch
// env/<name> off main adding one file, given as "path:content", all pushed.
func branchPerEnvRepo(t *testing.T, pipeline string, files map[string]string) (dir, bare string) {
	t.Helper()
	bare = filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	dir = filepath.Join(t.TempDir(), "work")
	writeFile(t, filepath.Join(dir, ".gitops", "pipeline.yaml"), pipeline)
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "pipeline")
	git(t, dir, "remote", "add", "origin", bare)
	git(t, dir, "push", "-q", "origin", "main")
	for env, file := range files {
		path, content, _ := strings.Cut(file, ":")
		git(t, dir, "checkout", "-q", "-b", "env/"+env, "main")
		writeFile(t, filepath.Join(dir, filepath.FromSlash(path)), content)
		git(t, dir, "add", "-A")
		git(t, dir, "commit", "-q", "-m", env)
		git(t, dir, "push", "-q", "origin", "env/"+env)
	}
	git(t, dir, "checkout", "-q", "main")
	return dir, bare
}
