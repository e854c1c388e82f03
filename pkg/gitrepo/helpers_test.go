package gitrepo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMain isolates git from the user's configuration: a global config file
// of our own (identity, default branch), no system config, a private HOME
// and TMPDIR.
func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gitrepo-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "gitconfig")
	const config = "[user]\n\tname = Test User\n\temail = test@example.com\n" +
		"[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n" +
		"[advice]\n\tdetachedHead = false\n"
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, v := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "GIT_CONFIG_PARAMETERS"} {
		_ = os.Unsetenv(v)
	}
	for k, v := range map[string]string{
		"GIT_CONFIG_GLOBAL":   cfg,
		"GIT_CONFIG_NOSYSTEM": "1",
		"HOME":                dir,
		"XDG_CONFIG_HOME":     dir,
		"TMPDIR":              tmp,
	} {
		_ = os.Setenv(k, v)
	}
	code := m.Run()
	// No temporary worktree may outlive its transaction.
	entries, err := os.ReadDir(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "kubectl-gitops-") {
			fmt.Fprintln(os.Stderr, "temporary worktree left behind:", e.Name())
			code = 1
		}
	}
	return code
}

// run runs git in dir and returns its trimmed stdout, failing the test on error.
func run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	return runEnv(t, dir, nil, args...)
}

func runEnv(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// seedFiles are the files of the initial commit on the remote.
var seedFiles = map[string]string{
	"README.md":                     "gitops\n",
	"envs/dev/kustomization.yaml":   "images:\n- name: web\n  newTag: 1.0.0\n",
	"envs/stage/kustomization.yaml": "images:\n- name: web\n  newTag: 0.9.0\n",
}

// newRemote creates a bare repository with one commit on main and returns
// its path. Every ref update on it is logged (for force-push checks).
func newRemote(t testing.TB) string {
	t.Helper()
	base := t.TempDir()
	bare := filepath.Join(base, "remote.git")
	run(t, base, "init", "--quiet", "--bare", bare)
	run(t, bare, "config", "core.logAllRefUpdates", "always")
	seed := filepath.Join(base, "seed")
	run(t, base, "init", "--quiet", seed)
	for name, content := range seedFiles {
		writeFile(t, filepath.Join(seed, name), content)
	}
	run(t, seed, "add", "-A")
	run(t, seed, "commit", "--quiet", "-m", "initial")
	run(t, seed, "push", "--quiet", bare, "main")
	return bare
}

// cloneOf clones the remote into a new directory.
func cloneOf(t testing.TB, bare string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	run(t, filepath.Dir(dir), "clone", "--quiet", bare, dir)
	return dir
}

// pushChange commits content to name in a fresh clone of bare and pushes
// it to main, as another user would.
func pushChange(t testing.TB, bare, name, content string) string {
	t.Helper()
	dir := cloneOf(t, bare)
	writeFile(t, filepath.Join(dir, name), content)
	run(t, dir, "add", "-A")
	run(t, dir, "commit", "--quiet", "-m", "change "+name)
	run(t, dir, "push", "--quiet", "origin", "HEAD:refs/heads/main")
	return run(t, dir, "rev-parse", "HEAD")
}

func openRepo(t testing.TB, dir string) *Repo {
	t.Helper()
	r, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// state is what the user's checkout must keep across an operation.
type state struct {
	Status    string
	Head      string
	HeadRef   string
	Branches  string
	Worktrees []string
	Admin     []string // entries of .git/worktrees
}

func snapshot(t testing.TB, dir string) state {
	t.Helper()
	s := state{
		Status:   run(t, dir, "status", "--porcelain=v1", "--untracked-files=all"),
		Head:     run(t, dir, "rev-parse", "HEAD"),
		Branches: run(t, dir, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
	}
	cmd := exec.Command("git", "symbolic-ref", "-q", "HEAD")
	cmd.Dir = dir
	out, _ := cmd.Output()
	s.HeadRef = strings.TrimSpace(string(out))
	for line := range strings.Lines(run(t, dir, "worktree", "list", "--porcelain")) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "worktree "); ok {
			s.Worktrees = append(s.Worktrees, p)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, ".git", "worktrees"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		s.Admin = append(s.Admin, e.Name())
	}
	return s
}

func assertUnchanged(t testing.TB, dir string, before state) {
	t.Helper()
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("user's checkout changed (-before +after):\n%s", diff)
	}
}

func assertGone(t testing.TB, path string) {
	t.Helper()
	if path == "" {
		return
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s still exists (err=%v)", path, err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("%s still exists (err=%v)", filepath.Dir(path), err)
	}
}

func tip(t testing.TB, bare, branch string) string {
	t.Helper()
	return run(t, bare, "rev-parse", "refs/heads/"+branch)
}

func lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// setTag returns a Change that sets the web tag of an environment.
func setTag(env, tag string) Change {
	return Change{
		Path: "envs/" + env + "/kustomization.yaml",
		Edit: func(old []byte) ([]byte, error) {
			return []byte("images:\n- name: web\n  newTag: " + tag + "\n"), nil
		},
	}
}
