package gitsource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/hung"
)

// TestRedactURLPasswordWithAt: a password holding an unescaped "@" is
// removed whole, not up to its first "@".
func TestRedactURLPasswordWithAt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:p@ss@host/r.git", "https://host/r.git"},
		{"https://user:a@b@c@host:8443/r.git", "https://host:8443/r.git"},
		{"fetching https://u:t@k@host/r.git at main: https://x@y@h/z", "fetching https://host/r.git at main: https://h/z"},
		{"'https://u:p?s@host/r.git/'", "'https://host/r.git/'"},
		{"https://host/r.git@main", "https://host/r.git@main"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// processesWith returns the command lines of the processes whose command
// line contains token.
func processesWith(token string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil || !strings.Contains(string(b), token) {
			continue
		}
		out = append(out, strings.ReplaceAll(string(b), "\x00", " "))
	}
	return out
}

// TestCancelStopsGitHelpers: a fetch from a server that never answers,
// cancelled, leaves no git process behind — not even the HTTP helper git
// fetch starts (git-remote-http), which a signal to git alone orphans — and
// no checkout.
func TestCancelStopsGitHelpers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	token := "review-hang-" + strings.ReplaceAll(t.Name(), "/", "-")
	url := "http://" + hung.Listen(t, nil) + "/" + token + ".git"
	tmp := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Fetch(ctx, Spec{URL: url, Revision: "main", TempDir: tmp})
		done <- err
	}()
	// Wait for the HTTP helper to be connected.
	for i := 0; ; i++ {
		if ps := processesWith(token); len(ps) >= 2 {
			break
		}
		if i == 400 {
			t.Fatalf("git did not start: %v", processesWith(token))
		}
		time.Sleep(25 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("want context.Canceled, got %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Fetch did not return after cancellation")
	}
	var left []string
	for range 200 {
		if left = processesWith(token); len(left) == 0 {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("git processes left behind after cancellation: %q", left)
		for _, p := range left {
			t.Log(p)
		}
	}
	assertEmpty(t, tmp)
}

// TestFetchIgnoresCallersGitDir: run from a git hook (GIT_DIR and
// GIT_WORK_TREE set to the user's repository), Fetch still works in its own
// temporary repository and leaves the user's repository alone.
func TestFetchIgnoresCallersGitDir(t *testing.T) {
	r := newRepo(t)
	user := t.TempDir()
	gitT(t, user, "init", "--quiet")
	write(t, user, map[string]string{"mine.txt": "mine"})
	gitT(t, user, "add", "-A")
	gitT(t, user, "commit", "--quiet", "-m", "mine")
	head := gitT(t, user, "rev-parse", "HEAD")
	t.Setenv("GIT_DIR", filepath.Join(user, ".git"))
	t.Setenv("GIT_WORK_TREE", user)
	t.Setenv("GIT_INDEX_FILE", filepath.Join(user, ".git", "index"))

	co, err := Fetch(t.Context(), Spec{URL: r.bare, Revision: "main", Path: "apps/web"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = co.Close() }()
	if got := read(t, co, "v.txt"); got != "2" || co.Commit != r.second {
		t.Errorf("checkout: v.txt = %q at %s, want 2 at %s", got, co.Commit, r.second)
	}
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		_ = os.Unsetenv(k) // t.Setenv restores it
	}
	if got := gitT(t, user, "symbolic-ref", "--short", "HEAD"); got != "main" {
		t.Errorf("user's HEAD = %q, want branch main", got)
	}
	if got := gitT(t, user, "rev-parse", "HEAD"); got != head {
		t.Errorf("user's HEAD moved to %s, want %s", got, head)
	}
	if got := gitT(t, user, "status", "--porcelain"); got != "" {
		t.Errorf("user's work tree changed:\n%s", got)
	}
}
