package promote

import (
	"bytes"
	"errors"
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

// TestInterruptedPushSaysItMayHaveLanded runs the real binary against a
// real bare remote whose pre-receive hook sleeps, and sends SIGINT while
// git push is in flight: it exits 130 and says the push may have landed
// and how to check — the commit it pushed, git ls-remote, promote status —
// instead of a bare "interrupted". What the check prints then is what the
// remote really has.
func TestInterruptedPushSaysItMayHaveLanded(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kubectl-gitops-promote")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kubectl-gitops-promote").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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

	cmd := exec.Command(bin, "-C", dir, "web", "--to", "dev", "--version", "1.6.0")
	cmd.Env = append(gitea.GitEnv(), "HOME="+t.TempDir(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill() //nolint:errcheck // already exited when the test passes

	// The push is in flight once the remote's hook runs.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("exited before pushing (%v):\n%s\n%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the push never reached the remote's hook:\n%s", stderr.String())
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
		t.Fatalf("exit %v, want 130:\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`warning: interrupted while pushing ([0-9a-f]{12}) to origin/main: the remote may have taken it anyway\.\n` +
		`  check with: git ls-remote origin refs/heads/main   \(it landed if this prints ([0-9a-f]{40})\)\n` +
		`  or:         kubectl gitops promote status\n`).FindStringSubmatch(stderr.String())
	if m == nil || !strings.HasPrefix(m[2], m[1]) {
		t.Fatalf("no note on what may have landed:\n%s", stderr.String())
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
