package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const promoteMessage = "promote(stage): web 0.9.0 → 1.0.0\n\nPromoted-App: web\nPromoted-From: dev\nPromoted-To: stage\nPromoted-Version: 1.0.0\n"

func mainSpec() PushSpec { return PushSpec{Remote: "origin", Base: "main", Retries: 3} }

func TestCommitAndPush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newRemote(t)
	dir := cloneOf(t, bare)
	r := openRepo(t, dir)
	before := snapshot(t, dir)
	start := tip(t, bare, "main")

	var wtDir string
	res, err := r.CommitAndPush(ctx, mainSpec(), promoteMessage, func(wt *Worktree) error {
		wtDir = wt.Dir()
		if wt.Base() != start {
			t.Errorf("worktree base = %s, want %s", wt.Base(), start)
		}
		if err := wt.Apply(setTag("stage", "1.0.0"), setTag("dev", "1.0.0") /* unchanged */); err != nil {
			return err
		}
		if err := wt.WriteFile("envs/new/kustomization.yaml", []byte("resources: []\n")); err != nil {
			return err
		}
		return wt.Remove("README.md")
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commit != tip(t, bare, "main") || res.Parent != start || res.Attempts != 1 || res.Created ||
		res.Target != "main" || res.Remote != "origin" {
		t.Errorf("Result = %+v; remote tip %s, start %s", res, tip(t, bare, "main"), start)
	}
	if got := run(t, bare, "rev-parse", res.Commit+"^"); got != start {
		t.Errorf("parent of pushed commit = %s, want %s", got, start)
	}
	changed := lines(run(t, bare, "diff-tree", "--no-commit-id", "--name-status", "-r", res.Commit))
	want := []string{"D\tREADME.md", "A\tenvs/new/kustomization.yaml", "M\tenvs/stage/kustomization.yaml"}
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("pushed changes (-want +got):\n%s", diff)
	}
	if got := run(t, bare, "log", "-1", "--format=%an <%ae>%n%B", res.Commit); got != "Test User <test@example.com>\n"+strings.TrimSpace(promoteMessage) {
		t.Errorf("pushed commit:\n%s", got)
	}
	assertUnchanged(t, dir, before)
	assertGone(t, wtDir)
	if got := run(t, dir, "rev-parse", "refs/remotes/origin/main"); got != res.Commit {
		t.Errorf("origin/main = %s, want the pushed commit %s", got, res.Commit)
	}

	// The user's checkout can now be fast-forwarded.
	if moved, err := r.FastForward(ctx, "main", "origin"); err != nil || !moved {
		t.Fatalf("FastForward = %v, %v", moved, err)
	}
	if got := run(t, dir, "rev-parse", "HEAD"); got != res.Commit {
		t.Errorf("HEAD after fast-forward = %s, want %s", got, res.Commit)
	}
}

func TestCommitAndPushRebasesWhenTheRemoteMoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newRemote(t)
	dir := cloneOf(t, bare)
	r := openRepo(t, dir)
	before := snapshot(t, dir)
	start := tip(t, bare, "main")

	var other string
	res, err := r.CommitAndPush(ctx, mainSpec(), promoteMessage, func(wt *Worktree) error {
		// Someone else lands a change after our fetch.
		other = pushChange(t, bare, "envs/dev/kustomization.yaml", "images:\n- name: web\n  newTag: 1.1.0\n")
		return wt.Apply(setTag("stage", "1.0.0"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || res.Parent != other || res.Commit != tip(t, bare, "main") {
		t.Errorf("Result = %+v, want 2 attempts on top of %s", res, other)
	}
	if got := lines(run(t, bare, "rev-list", "main")); len(got) != 3 || got[1] != other || got[2] != start {
		t.Errorf("remote history = %v, want [ours, %s, %s]", got, other, start)
	}
	if merges := run(t, bare, "rev-list", "--merges", "main"); merges != "" {
		t.Errorf("merge commits on the remote: %s", merges)
	}
	assertUnchanged(t, dir, before)
}

func TestCommitAndPushLeavesNothingOnFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spec  func(PushSpec) PushSpec
		setup func(t *testing.T, dir, bare string)
		edits func(t *testing.T, bare string, cancel func()) func(*Worktree) error
		want  error
		check func(t *testing.T, err error)
	}{
		{
			name: "edit function fails",
			edits: func(t *testing.T, _ string, _ func()) func(*Worktree) error {
				return func(wt *Worktree) error {
					if err := wt.Apply(setTag("stage", "1.0.0")); err != nil {
						return err
					}
					return wt.Apply(Change{Path: "envs/dev/kustomization.yaml", Edit: func([]byte) ([]byte, error) {
						return nil, errBoom
					}})
				}
			},
			want: errBoom,
		},
		{
			name: "context cancelled during the edits",
			edits: func(t *testing.T, _ string, cancel func()) func(*Worktree) error {
				return func(wt *Worktree) error {
					cancel()
					return wt.Apply(setTag("stage", "1.0.0"))
				}
			},
			want: context.Canceled,
		},
		{
			name: "pre-commit hook refuses",
			setup: func(t *testing.T, dir, _ string) {
				writeFile(t, filepath.Join(dir, ".git", "hooks", "pre-commit"), "#!/bin/sh\necho 'policy: no promotions on Fridays' >&2\nexit 1\n")
				if err := os.Chmod(filepath.Join(dir, ".git", "hooks", "pre-commit"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "policy: no promotions on Fridays") {
					t.Errorf("error %q does not carry the hook's message", err)
				}
			},
		},
		{
			name: "concurrent conflicting change",
			edits: func(t *testing.T, bare string, _ func()) func(*Worktree) error {
				return func(wt *Worktree) error {
					pushChange(t, bare, "envs/stage/kustomization.yaml", "images:\n- name: web\n  newTag: 0.9.1\n")
					return wt.Apply(setTag("stage", "1.0.0"))
				}
			},
			want: ErrConflict,
			check: func(t *testing.T, err error) {
				var ce *ConflictError
				if !errors.As(err, &ce) || !cmp.Equal(ce.Paths, []string{"envs/stage/kustomization.yaml"}) {
					t.Errorf("error = %v, want a ConflictError on envs/stage/kustomization.yaml", err)
				}
			},
		},
		{
			name: "same change landed meanwhile",
			edits: func(t *testing.T, bare string, _ func()) func(*Worktree) error {
				return func(wt *Worktree) error {
					pushChange(t, bare, "envs/stage/kustomization.yaml", "images:\n- name: web\n  newTag: 1.0.0\n")
					return wt.Apply(setTag("stage", "1.0.0"))
				}
			},
			want: ErrNoChanges,
		},
		{
			name: "nothing changed",
			edits: func(t *testing.T, _ string, _ func()) func(*Worktree) error {
				return func(wt *Worktree) error { return wt.Apply(setTag("dev", "1.0.0")) }
			},
			want: ErrNoChanges,
		},
		{
			name: "rejected and no retries left",
			spec: func(s PushSpec) PushSpec { s.Retries = 0; return s },
			edits: func(t *testing.T, bare string, _ func()) func(*Worktree) error {
				return func(wt *Worktree) error {
					pushChange(t, bare, "other.txt", "x\n")
					return wt.Apply(setTag("stage", "1.0.0"))
				}
			},
			want: ErrRejected,
			check: func(t *testing.T, err error) {
				var re *RejectedError
				if !errors.As(err, &re) || re.Attempts != 1 || re.Reason != "fetch first" {
					t.Errorf("error = %#v, want a RejectedError after 1 attempt (fetch first)", err)
				}
			},
		},
		{
			name: "remote hook refuses",
			setup: func(t *testing.T, _, bare string) {
				writeFile(t, filepath.Join(bare, "hooks", "pre-receive"), "#!/bin/sh\necho 'frozen' >&2\nexit 1\n")
				if err := os.Chmod(filepath.Join(bare, "hooks", "pre-receive"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			want: ErrRejected,
		},
		{
			name: "path escapes the worktree",
			edits: func(t *testing.T, _ string, _ func()) func(*Worktree) error {
				return func(wt *Worktree) error { return wt.WriteFile("../escape.txt", []byte("x")) }
			},
		},
		{
			name: "path inside .git",
			edits: func(t *testing.T, _ string, _ func()) func(*Worktree) error {
				return func(wt *Worktree) error { return wt.WriteFile(".git/config", []byte("x")) }
			},
		},
		{
			name: "target branch exists",
			spec: func(s PushSpec) PushSpec { s.Target = "promote/stage/web-1.0.0"; return s },
			setup: func(t *testing.T, dir, _ string) {
				run(t, dir, "push", "--quiet", "origin", "HEAD:refs/heads/promote/stage/web-1.0.0")
			},
			want: ErrTargetExists,
		},
		{
			name: "base branch missing",
			spec: func(s PushSpec) PushSpec { s.Base = "nope"; return s },
			want: ErrNotFound,
		},
		{
			name: "no such remote",
			spec: func(s PushSpec) PushSpec { s.Remote = "upstream"; return s },
			want: ErrNoRemote,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			bare := newRemote(t)
			dir := cloneOf(t, bare)
			r := openRepo(t, dir)
			if tt.setup != nil {
				tt.setup(t, dir, bare)
			}
			spec := mainSpec()
			if tt.spec != nil {
				spec = tt.spec(spec)
			}
			edits := func(wt *Worktree) error { return wt.Apply(setTag("stage", "1.0.0")) }
			if tt.edits != nil {
				edits = tt.edits(t, bare, cancel)
			}
			var wtDir string
			remoteBefore := run(t, bare, "for-each-ref")
			before := snapshot(t, dir)

			_, err := r.CommitAndPush(ctx, spec, promoteMessage, func(wt *Worktree) error {
				wtDir = wt.Dir()
				return edits(wt)
			})
			if err == nil {
				t.Fatal("CommitAndPush: no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CommitAndPush error = %v, want %v", err, tt.want)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
			t.Logf("error: %v", err)
			assertUnchanged(t, dir, before)
			assertGone(t, wtDir)
			if strings.Contains(tt.name, "concurrent") || strings.Contains(tt.name, "meanwhile") || strings.Contains(tt.name, "rejected") {
				return // the other clone's push changed the remote
			}
			if got := run(t, bare, "for-each-ref"); got != remoteBefore {
				t.Errorf("remote refs changed:\n%s\nwant\n%s", got, remoteBefore)
			}
		})
	}
}

var errBoom = errors.New("boom")

func TestCommitAndPushPanicInEdits(t *testing.T) {
	t.Parallel()
	bare := newRemote(t)
	dir := cloneOf(t, bare)
	r := openRepo(t, dir)
	before := snapshot(t, dir)
	var wtDir string
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic was swallowed")
			}
		}()
		_, _ = r.CommitAndPush(context.Background(), mainSpec(), promoteMessage, func(wt *Worktree) error {
			wtDir = wt.Dir()
			if err := wt.Apply(setTag("stage", "1.0.0")); err != nil {
				return err
			}
			panic("edit bug")
		})
	}()
	assertUnchanged(t, dir, before)
	assertGone(t, wtDir)
}

func TestCommitAndPushCancelledWhileGitRuns(t *testing.T) {
	t.Parallel()
	bare := newRemote(t)
	dir := cloneOf(t, bare)
	r := openRepo(t, dir)
	marker := filepath.Join(t.TempDir(), "hook-started")
	hook := filepath.Join(dir, ".git", "hooks", "pre-commit")
	writeFile(t, hook, "#!/bin/sh\ntouch '"+marker+"'\nsleep 2\n")
	if err := os.Chmod(hook, 0o755); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	remoteBefore := tip(t, bare, "main")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			if _, err := os.Stat(marker); err == nil {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	var wtDir string
	_, err := r.CommitAndPush(ctx, mainSpec(), promoteMessage, func(wt *Worktree) error {
		wtDir = wt.Dir()
		return wt.Apply(setTag("stage", "1.0.0"))
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	assertUnchanged(t, dir, before)
	assertGone(t, wtDir)
	if got := tip(t, bare, "main"); got != remoteBefore {
		t.Errorf("remote moved to %s", got)
	}
}

func TestCommitAndPushPullRequestBranch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newRemote(t)
	dir := cloneOf(t, bare)
	r := openRepo(t, dir)
	before := snapshot(t, dir)
	mainTip := tip(t, bare, "main")
	spec := PushSpec{Remote: "origin", Base: "main", Target: "promote/stage/web-1.0.0", Retries: 2}

	res, err := r.CommitAndPush(ctx, spec, promoteMessage, func(wt *Worktree) error {
		return wt.Apply(setTag("stage", "1.0.0"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Parent != mainTip || res.Commit != tip(t, bare, spec.Target) {
		t.Errorf("Result = %+v", res)
	}
	if got := tip(t, bare, "main"); got != mainTip {
		t.Errorf("main moved to %s", got)
	}

	// Pushing to it again is refused ...
	_, err = r.CommitAndPush(ctx, spec, promoteMessage, func(wt *Worktree) error {
		return wt.Apply(setTag("stage", "1.0.1"))
	})
	if !errors.Is(err, ErrTargetExists) {
		t.Fatalf("second push error = %v, want ErrTargetExists", err)
	}
	// ... unless updating is allowed: it then fast-forwards the branch.
	spec.UpdateExisting = true
	res2, err := r.CommitAndPush(ctx, spec, promoteMessage, func(wt *Worktree) error {
		if got, _ := wt.ReadFile("envs/stage/kustomization.yaml"); !strings.Contains(string(got), "1.0.0") {
			t.Errorf("update does not start from the existing branch: %q", got)
		}
		return wt.Apply(setTag("stage", "1.0.1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Created || res2.Parent != res.Commit || res2.Commit != tip(t, bare, spec.Target) {
		t.Errorf("update Result = %+v, want parent %s", res2, res.Commit)
	}
	assertUnchanged(t, dir, before)
}

func TestWorktreeRefusesSymlinkEscape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newRemote(t)
	outside := t.TempDir()
	// The repository content holds a link to outside itself.
	seed := cloneOf(t, bare)
	if err := os.Symlink(outside, filepath.Join(seed, "out")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	if err := os.Symlink("envs/dev", filepath.Join(seed, "devlink")); err != nil {
		t.Fatal(err)
	}
	run(t, seed, "add", "-A")
	run(t, seed, "commit", "--quiet", "-m", "links")
	run(t, seed, "push", "--quiet", "origin", "main")

	dir := cloneOf(t, bare)
	r := openRepo(t, dir)
	res, err := r.CommitAndPush(ctx, mainSpec(), promoteMessage, func(wt *Worktree) error {
		if err := wt.WriteFile("out/pwned.txt", []byte("x")); err == nil {
			t.Error("writing through a link to outside: no error")
		}
		// A link inside the worktree is followed: the real file changes.
		return wt.Apply(Change{Path: "devlink/kustomization.yaml", Edit: func([]byte) ([]byte, error) {
			return []byte("images:\n- name: web\n  newTag: 2.0.0\n"), nil
		}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(outside, "pwned.txt")); err == nil {
		t.Error("file written outside the worktree")
	}
	changed := lines(run(t, bare, "diff-tree", "--no-commit-id", "--name-only", "-r", res.Commit))
	if diff := cmp.Diff([]string{"envs/dev/kustomization.yaml"}, changed); diff != "" {
		t.Errorf("changed paths (-want +got):\n%s", diff)
	}
}

// TestConcurrentCommitAndPush lands 20 changes, each from its own clone, on
// one remote branch at the same time: all must land, linearly, without any
// ref update on the remote that is not a fast-forward.
func TestConcurrentCommitAndPush(t *testing.T) {
	t.Parallel()
	const n = 20
	ctx := context.Background()
	bare := newRemote(t)
	start := tip(t, bare, "main")
	clones := make([]*Repo, n)
	for i := range clones {
		clones[i] = openRepo(t, cloneOf(t, bare))
	}

	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready
			spec := PushSpec{Remote: "origin", Base: "main", Retries: 200}
			name := fmt.Sprintf("envs/app%02d/version.txt", i)
			results[i], errs[i] = clones[i].CommitAndPush(ctx, spec, "change "+strconv.Itoa(i)+"\n\nChange-Index: "+strconv.Itoa(i)+"\n",
				func(wt *Worktree) error { return wt.WriteFile(name, []byte(strconv.Itoa(i)+"\n")) })
		})
	}
	close(ready)
	wg.Wait()

	retried, attempts := 0, 0
	for i, err := range errs {
		attempts += results[i].Attempts
		if err != nil {
			t.Errorf("clone %d: %v", i, err)
		}
		if results[i].Attempts > 1 {
			retried++
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d of %d changes were retried; %d pushes in all", retried, n, attempts)

	final := tip(t, bare, "main")
	if got := run(t, bare, "rev-list", "--count", start+".."+final); got != strconv.Itoa(n) {
		t.Errorf("%s commits landed, want %d", got, n)
	}
	if merges := run(t, bare, "rev-list", "--merges", "main"); merges != "" {
		t.Errorf("history is not linear: merges %s", merges)
	}
	var files []string
	for _, l := range lines(run(t, bare, "ls-tree", "-r", "--name-only", final, "envs")) {
		if strings.HasSuffix(l, "version.txt") {
			files = append(files, l)
		}
	}
	if len(files) != n {
		t.Errorf("%d changed files on the remote, want %d: %v", len(files), n, files)
	}
	for i, res := range results {
		if !runOK(bare, "merge-base", "--is-ancestor", res.Commit, final) {
			t.Errorf("clone %d: pushed commit %s is not in the final history", i, res.Commit)
		}
	}
	// Every update of the remote branch was a fast-forward: each earlier
	// tip in the remote's reflog is an ancestor of the next one.
	tips := lines(run(t, bare, "reflog", "show", "--format=%H", "refs/heads/main"))
	if len(tips) != n+1 {
		t.Errorf("remote reflog has %d entries, want %d", len(tips), n+1)
	}
	for i := 0; i+1 < len(tips); i++ {
		newer, older := tips[i], tips[i+1]
		if out := runOK(bare, "merge-base", "--is-ancestor", older, newer); !out {
			t.Errorf("remote update %s -> %s is not a fast-forward", older, newer)
		}
	}
}

func runOK(dir string, args ...string) bool {
	_, err := git(context.Background(), cmdOpts{dir: dir}, args...)
	return err == nil
}

// TestConcurrentCommitAndPushOneRepo runs several transactions at once from
// one clone: their fetches, worktrees and pushes must not trip over each
// other's locks.
func TestConcurrentCommitAndPushOneRepo(t *testing.T) {
	t.Parallel()
	const n = 6
	bare := newRemote(t)
	dir := cloneOf(t, bare)
	r := openRepo(t, dir)
	before := snapshot(t, dir)
	start := tip(t, bare, "main")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = r.CommitAndPush(context.Background(), PushSpec{Remote: "origin", Base: "main", Retries: 100},
				"change "+strconv.Itoa(i), func(wt *Worktree) error {
					return wt.WriteFile(fmt.Sprintf("f%d.txt", i), []byte("x\n"))
				})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("change %d: %v", i, err)
		}
	}
	if got := run(t, bare, "rev-list", "--count", start+"..main"); got != strconv.Itoa(n) {
		t.Errorf("%s commits landed, want %d", got, n)
	}
	assertUnchanged(t, dir, before)
}
