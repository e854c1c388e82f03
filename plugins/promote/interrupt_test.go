package promote

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// TestInterruptedPromotion runs the real binary and sends it SIGINT while
// it pushes, or after it pushed: it exits 130 and says what is on the
// remote instead of a bare "interrupted".
func TestInterruptedPromotion(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kubectl-gitops-promote")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kubectl-gitops-promote").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("during the push", func(t *testing.T) { interruptedPush(t, bin) })
	t.Run("after the push", func(t *testing.T) { interruptedAfterPush(t, bin) })
}

// interruptedPush: against a real bare remote whose pre-receive hook
// sleeps, SIGINT while git push is in flight says the push may have landed
// and how to check — the commit it pushed, git ls-remote, promote status.
// What the check prints then is what the remote really has.
func interruptedPush(t *testing.T, bin string) {
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	dir := exampleRepo(t, bare, nil)

	marks := t.TempDir()
	started, finished := filepath.Join(marks, "started"), filepath.Join(marks, "finished")
	hook := "#!/bin/sh\n: > '" + started + "'\nsleep 3\n: > '" + finished + "'\n"
	if err := os.WriteFile(filepath.Join(bare, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	before := git(t, dir, "ls-remote", "origin", "refs/heads/main")

	stderr := interrupt(t, bin, dir, started, nil, "web", "--to", "dev", "--version", "1.6.0")
	m := regexp.MustCompile(`warning: interrupted while pushing ([0-9a-f]{12}) to origin/main: the remote may have taken it anyway\.\n` +
		`  check with: git ls-remote origin refs/heads/main   \(it landed if this prints ([0-9a-f]{40})\)\n` +
		`  or:         kubectl gitops promote status\n`).FindStringSubmatch(stderr)
	if m == nil || !strings.HasPrefix(m[2], m[1]) {
		t.Fatalf("no note on what may have landed:\n%s", stderr)
	}

	// The check works: once the remote is done, ls-remote shows either the
	// commit named (it landed) or the old tip (it did not).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(finished); err == nil || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(time.Second) // the ref update follows the hook
	after := git(t, dir, "ls-remote", "origin", "refs/heads/main")
	switch {
	case strings.HasPrefix(after, m[2]):
		t.Logf("the interrupted push landed: %s", m[2])
	case after == before:
		t.Logf("the interrupted push did not land")
	default:
		t.Errorf("the remote has %q, neither the commit named (%s) nor the old tip %q", after, m[2], before)
	}
}

// interruptedAfterPush: SIGINT while a pull-request promotion waits for the
// forge, its branch pushed, says the promotion landed and that running the
// command again opens the pull request.
func interruptedAfterPush(t *testing.T, bin string) {
	remote := gitHTTPRemote(t)
	opened := filepath.Join(t.TempDir(), "opened")
	release := make(chan struct{})
	forge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = os.WriteFile(opened, nil, 0o600)
		select { // a forge that does not answer while the test runs
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(forge.Close)
	t.Cleanup(func() { close(release) }) // runs before forge.Close
	dir := exampleRepo(t, remote, func(dir string) {
		editPipeline(t, dir, func(s string) string {
			return strings.Replace(s, "branch: main\n", "branch: main\nforge:\n  type: gitea\n  url: "+forge.URL+"\n", 1)
		})
	})
	stderr := interrupt(t, bin, dir, opened, []string{"GITEA_TOKEN=t0ken"}, "web", "--to", "prod", "--from", "dev", "--skip-gates")
	branch := "promote/prod/web-1.5.0"
	tip := strings.Fields(git(t, dir, "ls-remote", "origin", "refs/heads/"+branch))
	if len(tip) == 0 {
		t.Fatalf("%s not on the remote:\n%s", branch, stderr)
	}
	want := "warning: interrupted after pushing " + tip[0][:12] + " to " + branch + ": the promotion landed, but its pull request may not be open: run the same command again to open it (it reuses the branch)\n"
	if !strings.Contains(stderr, want) {
		t.Fatalf("stderr lacks %q:\n%s", want, stderr)
	}
}

// interrupt runs the binary in dir, sends SIGINT once the file ready
// exists, and returns its stderr after checking it exited 130.
func interrupt(t *testing.T, bin, dir, ready string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(append(gitea.GitEnv(), "HOME="+t.TempDir(), "NO_COLOR=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill() //nolint:errcheck // already exited when the test passes

	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("exited before the point of interrupt (%v):\n%s\n%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("never reached the point of interrupt:\n%s", stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGINT:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130:\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return stderr.String()
}
