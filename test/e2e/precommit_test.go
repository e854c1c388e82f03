package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// precommitCanary is the plaintext secret the pre-commit tests try to commit.
const precommitCanary = "canary-s3cr3t-7f3a"

// plaintextSecret is a Secret whose password (line 7) is in plaintext.
const plaintextSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: app
stringData:
  password: ` + precommitCanary + `
`

// requirePreCommit returns the real pre-commit (Debian's pre-commit package;
// .ci/run installs it). Missing, it skips the test, or fails it when the
// environment requires every real part (make test).
func requirePreCommit(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("pre-commit")
	if err != nil {
		msg := "real pre-commit not available (apt-get install pre-commit): " + err.Error()
		if os.Getenv(controlplane.EnvRequire) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// cleanEnv is the test's environment without git's variables (a test run
// from inside a git hook must not steer the throwaway repositories), with
// HOME, PATH and the given overrides.
func cleanEnv(home string, path []string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || k == "HOME" || k == "PATH" || k == "PRE_COMMIT_HOME" ||
			k == "XDG_CONFIG_HOME" || k == "XDG_CACHE_HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, append([]string{
		"HOME=" + home,
		"PATH=" + strings.Join(append(path, "/usr/bin", "/bin"), string(os.PathListSeparator)),
		"GIT_CONFIG_NOSYSTEM=1",
		"NO_COLOR=1",
	}, extra...)...)
}

// execIn runs name in dir with env and returns its exit code and combined
// output.
func execIn(t *testing.T, dir string, env []string, name string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatalf("running %s %s: %v", name, strings.Join(args, " "), err)
	}
	return 0, out.String()
}

// mustExecIn is execIn that fails the test on a non-zero exit.
func mustExecIn(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	code, out := execIn(t, dir, env, name, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", name, strings.Join(args, " "), code, out)
	}
	return out
}

// hooksRepo is what pre-commit clones: a git clone of this checkout's HEAD
// with the work tree's .pre-commit-hooks.yaml committed on top (so the hooks
// file under test is the one in the work tree). It returns the clone and its
// commit.
func hooksRepo(t *testing.T, env []string) (dir, rev string) {
	t.Helper()
	top := strings.TrimSpace(mustExecIn(t, ".", env, "git", "rev-parse", "--show-toplevel"))
	dir = filepath.Join(t.TempDir(), "kubectl-gitops")
	mustExecIn(t, ".", env, "git", "clone", "--quiet", top, dir)
	hooks, err := os.ReadFile(filepath.Join(top, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".pre-commit-hooks.yaml"), hooks, 0o644); err != nil {
		t.Fatal(err)
	}
	mustExecIn(t, dir, env, "git", "add", ".pre-commit-hooks.yaml")
	mustExecIn(t, dir, env, "git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com",
		"commit", "--quiet", "--allow-empty", "--no-verify", "-m", "the hooks under test")
	return dir, strings.TrimSpace(mustExecIn(t, dir, env, "git", "rev-parse", "HEAD"))
}

// checkPreCommitHooks installs pre-commit with hooks (ids of this
// repository's .pre-commit-hooks.yaml) in a throwaway repository, then: a
// staged plaintext Secret is refused by every hook and not committed, the
// same Secret encrypted with SOPS by the suite's seal is committed, and
// `git commit -a` of the plaintext again is refused. Nothing prints the
// secret.
func checkPreCommitHooks(t *testing.T, path []string, extraEnv []string, hooks ...string) {
	preCommit := requirePreCommit(t)
	home := t.TempDir()
	env := cleanEnv(home, path, append([]string{"PRE_COMMIT_HOME=" + filepath.Join(home, "pre-commit")}, extraEnv...)...)
	hooksDir, rev := hooksRepo(t, env)

	repo := filepath.Join(t.TempDir(), "gitops")
	mustExecIn(t, ".", env, "git", "init", "--quiet", "-b", "main", repo)
	mustExecIn(t, repo, env, "git", "config", "user.name", "e2e")
	mustExecIn(t, repo, env, "git", "config", "user.email", "e2e@example.com")
	var config strings.Builder
	config.WriteString("repos:\n- repo: " + hooksDir + "\n  rev: " + rev + "\n  hooks:\n")
	for _, id := range hooks {
		config.WriteString("  - id: " + id + "\n")
	}
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".pre-commit-config.yaml", config.String())
	mustExecIn(t, repo, env, preCommit, "install")

	// A plaintext Secret staged: the commit is refused by every hook.
	write("secret.yaml", plaintextSecret)
	mustExecIn(t, repo, env, "git", "add", ".")
	code, out := execIn(t, repo, env, "git", "commit", "-m", "plaintext")
	if code == 0 {
		t.Fatalf("git commit of a plaintext Secret succeeded:\n%s", out)
	}
	for _, id := range hooks {
		if !strings.Contains(out, "- hook id: "+id+"\n- exit code: 1\n") {
			t.Errorf("hook %s did not fail with exit code 1 on the plaintext Secret:\n%s", id, out)
		}
	}
	if !strings.Contains(out, `secret.yaml:7`) || !strings.Contains(out, `stringData key "password" is plaintext`) {
		t.Errorf("the refusal does not name secret.yaml:7 and the key:\n%s", out)
	}
	if c, _ := execIn(t, repo, env, "git", "rev-parse", "--verify", "--quiet", "HEAD"); c == 0 {
		t.Errorf("a commit was made despite the failing hooks")
	}

	// The same Secret encrypted by the suite's seal (SOPS for an age
	// recipient, the Flux way): committed.
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	seal := mustExecIn(t, repo, env, filepath.Join(binDir, "kubectl-gitops-seal"), "-f", "secret.yaml", "--age", id.Recipient().String(),
		"--encrypted-regex", "^(data|stringData)$", "--in-place")
	enc, err := os.ReadFile(filepath.Join(repo, "secret.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(enc), precommitCanary) || !strings.Contains(string(enc), "ENC[AES256_GCM,") {
		t.Fatalf("seal did not encrypt secret.yaml:\n%s", enc)
	}
	mustExecIn(t, repo, env, "git", "add", ".")
	code, out2 := execIn(t, repo, env, "git", "commit", "-m", "encrypted")
	if code != 0 {
		t.Fatalf("git commit of a SOPS-encrypted Secret: exit %d\n%s", code, out2)
	}
	if got := strings.Count(out2, "Passed"); got != len(hooks) {
		t.Errorf("want %d hooks passed, got %d:\n%s", len(hooks), got, out2)
	}
	committed := mustExecIn(t, repo, env, "git", "show", "HEAD:secret.yaml")
	if committed != string(enc) {
		t.Errorf("the commit holds another secret.yaml than the encrypted one:\n%s", committed)
	}

	// Plaintext again, only in the work tree: `git commit -a` stages it into
	// a temporary index (GIT_INDEX_FILE), which the scan reads.
	head := mustExecIn(t, repo, env, "git", "rev-parse", "HEAD")
	write("secret.yaml", plaintextSecret)
	code, out3 := execIn(t, repo, env, "git", "commit", "-a", "-m", "plaintext with -a")
	if code == 0 || !strings.Contains(out3, "- hook id: "+hooks[0]+"\n- exit code: 1\n") {
		t.Errorf("git commit -a of a plaintext Secret: exit %d, want %s to refuse it:\n%s", code, hooks[0], out3)
	}
	if now := mustExecIn(t, repo, env, "git", "rev-parse", "HEAD"); now != head {
		t.Errorf("git commit -a made a commit despite the failing hooks")
	}

	for name, text := range map[string]string{"refused commit": out, "seal": seal, "accepted commit": out2, "refused commit -a": out3} {
		if strings.Contains(text, precommitCanary) {
			t.Errorf("the %s output holds the secret value:\n%s", name, text)
		}
	}
}

// The -system hooks run the kubectl-gitops-* binaries on PATH (as make
// install, krew or a release archive put them there; kubectl is not needed).
func TestPreCommitSystemHooksRefusePlaintextSecrets(t *testing.T) {
	checkPreCommitHooks(t, []string{binDir}, nil, "gitops-seal-scan-system", "gitops-repo-lint-system")
}

// The golang hooks build the plugins from the hooks repository at its rev
// (pre-commit runs `go install ./...` there) with the Go on PATH; the
// binaries of the test build are not on PATH. The module cache and the build
// cache are this machine's, so nothing is downloaded twice (without them
// the modules come through GOPROXY, as for a user).
func TestPreCommitGolangHooksRefusePlaintextSecrets(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	// HOME is a temporary directory in the test: keep Go's configuration
	// (GOENV: GOFLAGS, GOTOOLCHAIN, GOPROXY) and caches where they are.
	var extra []string
	for _, k := range []string{"GOENV", "GOMODCACHE", "GOCACHE", "GOPROXY"} {
		v := strings.TrimSpace(mustExecIn(t, ".", os.Environ(), goBin, "env", k))
		extra = append(extra, k+"="+v)
	}
	checkPreCommitHooks(t, []string{filepath.Dir(goBin)}, extra, "gitops-seal-scan", "gitops-repo-lint")
}
