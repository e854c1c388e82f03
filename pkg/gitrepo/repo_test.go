package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newRemote(t)
	clone := cloneOf(t, bare)

	r, err := Open(ctx, filepath.Join(clone, "envs", "dev"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(clone)
	got, _ := filepath.EvalSymlinks(r.Root())
	if got != want {
		t.Errorf("Root() = %s, want %s", got, want)
	}

	for name, dir := range map[string]string{
		"plain directory": t.TempDir(),
		"bare repository": bare,
		"inside .git":     filepath.Join(clone, ".git"),
	} {
		if _, err := Open(ctx, dir); !errors.Is(err, ErrNotRepo) {
			t.Errorf("%s: Open error = %v, want ErrNotRepo", name, err)
		}
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Open of a missing directory: no error")
	}
}

func TestPreflightRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string)
		remote string
		branch string
		want   error
		check  func(t *testing.T, err error)
	}{
		{
			name:   "clean on the right branch",
			remote: "origin", branch: "main",
		},
		{
			name:   "modified file",
			setup:  func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "README.md"), "changed\n") },
			remote: "origin", branch: "main",
			want: ErrDirty,
			check: func(t *testing.T, err error) {
				var de *DirtyError
				if !errors.As(err, &de) || !cmp.Equal(de.Paths, []string{"README.md"}) {
					t.Errorf("DirtyError paths = %v", de)
				}
			},
		},
		{
			name: "staged file",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "new.txt"), "x\n")
				run(t, dir, "add", "new.txt")
			},
			remote: "origin", branch: "main",
			want: ErrDirty,
		},
		{
			name:   "untracked file",
			setup:  func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "stray.txt"), "x\n") },
			remote: "origin", branch: "main",
			want: ErrDirty,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "stray.txt") {
					t.Errorf("error %q does not name the dirty path", err)
				}
			},
		},
		{
			name:   "detached HEAD",
			setup:  func(t *testing.T, dir string) { run(t, dir, "checkout", "--quiet", "--detach", "HEAD") },
			remote: "origin", branch: "main",
			want: ErrDetachedHead,
		},
		{
			name:   "no such remote",
			remote: "upstream", branch: "main",
			want: ErrNoRemote,
			check: func(t *testing.T, err error) {
				var ne *NoRemoteError
				if !errors.As(err, &ne) || ne.Name != "upstream" || !strings.Contains(err.Error(), `"upstream"`) {
					t.Errorf("error = %v, want a NoRemoteError naming upstream", err)
				}
			},
		},
		{
			name:   "wrong branch",
			setup:  func(t *testing.T, dir string) { run(t, dir, "switch", "--quiet", "-c", "feature") },
			remote: "origin", branch: "main",
			want: ErrWrongBranch,
			check: func(t *testing.T, err error) {
				var we *WrongBranchError
				if !errors.As(err, &we) || we.Want != "main" || we.Got != "feature" {
					t.Errorf("error = %v, want WrongBranchError{main, feature}", err)
				}
			},
		},
	}
	bare := newRemote(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := cloneOf(t, bare)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			before := snapshot(t, dir)
			err := openRepo(t, dir).Preflight(context.Background(), tt.remote, tt.branch)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Preflight: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Preflight error = %v, want %v", err, tt.want)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
			assertUnchanged(t, dir, before)
		})
	}
}

func TestDirtyErrorListsAtMostTen(t *testing.T) {
	t.Parallel()
	dir := cloneOf(t, newRemote(t))
	for i := range 15 {
		writeFile(t, filepath.Join(dir, "f"+string(rune('a'+i))), "x")
	}
	err := openRepo(t, dir).RequireClean(context.Background())
	var de *DirtyError
	if !errors.As(err, &de) || len(de.Paths) != 15 {
		t.Fatalf("RequireClean = %v, want a DirtyError with 15 paths", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "(and 5 more)") || strings.Contains(msg, "fk") {
		t.Errorf("message %q should list 10 paths and count the rest", msg)
	}
}

func TestRemoteURLAndDefaultBranch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newRemote(t)
	dir := cloneOf(t, bare)
	r := openRepo(t, dir)

	run(t, dir, "remote", "add", "forge", "https://user:s3cret@forge.example.com/acme/gitops.git")
	got, err := r.RemoteURL(ctx, "forge")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://forge.example.com/acme/gitops.git"; got != want {
		t.Errorf("RemoteURL = %q, want %q", got, want)
	}
	if _, err := r.RemoteURL(ctx, "nope"); !errors.Is(err, ErrNoRemote) {
		t.Errorf("RemoteURL(nope) error = %v, want ErrNoRemote", err)
	}

	if b, err := r.DefaultBranch(ctx, "origin"); err != nil || b != "main" {
		t.Errorf("DefaultBranch from origin/HEAD = %q, %v; want main", b, err)
	}
	// Without refs/remotes/origin/HEAD the remote is asked.
	run(t, dir, "symbolic-ref", "--delete", "refs/remotes/origin/HEAD")
	run(t, bare, "branch", "trunk", "main")
	run(t, bare, "symbolic-ref", "HEAD", "refs/heads/trunk")
	if b, err := r.DefaultBranch(ctx, "origin"); err != nil || b != "trunk" {
		t.Errorf("DefaultBranch from the remote = %q, %v; want trunk", b, err)
	}
}

func TestShowFileRevParseAncestry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newRemote(t)
	dir := cloneOf(t, bare)
	r := openRepo(t, dir)
	first := run(t, dir, "rev-parse", "HEAD")
	writeFile(t, filepath.Join(dir, "envs/dev/kustomization.yaml"), "images:\n- name: web\n  newTag: 1.1.0\n")
	run(t, dir, "commit", "--quiet", "-am", "bump dev")
	second := run(t, dir, "rev-parse", "HEAD")
	writeFile(t, filepath.Join(dir, "README.md"), "other\n")
	run(t, dir, "commit", "--quiet", "-am", "readme")
	run(t, dir, "tag", "-a", "-m", "release", "v1")

	if got, err := r.RevParse(ctx, "v1"); err != nil || got != run(t, dir, "rev-parse", "HEAD") {
		t.Errorf("RevParse(annotated tag) = %q, %v; want the commit", got, err)
	}
	if _, err := r.RevParse(ctx, "no-such-rev"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("RevParse(no-such-rev) error = %v, want ErrUnknownRevision", err)
	}
	if _, err := r.RevParse(ctx, "--all"); err == nil {
		t.Error("RevParse(--all): no error")
	}

	data, err := r.ShowFile(ctx, first, "envs/dev/kustomization.yaml")
	if err != nil || string(data) != seedFiles["envs/dev/kustomization.yaml"] {
		t.Errorf("ShowFile = %q, %v", data, err)
	}
	data, err = r.ShowFile(ctx, "HEAD", "./envs/dev/../dev/kustomization.yaml")
	if err != nil || !strings.Contains(string(data), "1.1.0") {
		t.Errorf("ShowFile(HEAD, unclean path) = %q, %v", data, err)
	}
	if _, err := r.ShowFile(ctx, "HEAD", "envs/prod/kustomization.yaml"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ShowFile(missing path) error = %v, want ErrNotFound", err)
	}
	if _, err := r.ShowFile(ctx, "no-such-rev", "README.md"); !errors.Is(err, ErrUnknownRevision) || errors.Is(err, ErrNotFound) {
		t.Errorf("ShowFile(unknown revision) error = %v, want ErrUnknownRevision only", err)
	}
	if _, err := r.ShowFile(ctx, "HEAD", "envs"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("ShowFile(directory) error = %v, want a non-ErrNotFound error", err)
	}
	if _, err := r.ShowFile(ctx, "HEAD", "../outside"); err == nil {
		t.Error("ShowFile(../outside): no error")
	}

	for _, c := range []struct {
		a, b string
		want bool
	}{{first, second, true}, {second, first, false}, {first, first, true}} {
		if got, err := r.IsAncestor(ctx, c.a, c.b); err != nil || got != c.want {
			t.Errorf("IsAncestor(%.7s, %.7s) = %v, %v; want %v", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := r.IsAncestor(ctx, "no-such-rev", first); err == nil {
		t.Error("IsAncestor(unknown revision): no error")
	}

	if got, err := r.LastCommitTouching(ctx, "HEAD", "envs/dev/kustomization.yaml"); err != nil || got != second {
		t.Errorf("LastCommitTouching(file) = %q, %v; want %s", got, err, second)
	}
	if got, err := r.LastCommitTouching(ctx, "HEAD", "envs/dev"); err != nil || got != second {
		t.Errorf("LastCommitTouching(dir) = %q, %v; want %s", got, err, second)
	}
	if got, err := r.LastCommitTouching(ctx, "HEAD", "envs/stage/kustomization.yaml"); err != nil || got != first {
		t.Errorf("LastCommitTouching(stage) = %q, %v; want %s", got, err, first)
	}
	if _, err := r.LastCommitTouching(ctx, "HEAD", "envs/*"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastCommitTouching(glob) error = %v, want ErrNotFound (paths are literal)", err)
	}
}

func TestFastForward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  error
		moved bool
	}{
		{name: "behind and clean", moved: true},
		{name: "dirty", setup: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "README.md"), "local\n") }, want: ErrDirty},
		{name: "wrong branch", setup: func(t *testing.T, dir string) { run(t, dir, "switch", "--quiet", "-c", "other") }, want: ErrWrongBranch},
		{name: "detached", setup: func(t *testing.T, dir string) { run(t, dir, "checkout", "--quiet", "--detach") }, want: ErrDetachedHead},
		{name: "diverged", setup: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "local.txt"), "local\n")
			run(t, dir, "add", "local.txt")
			run(t, dir, "commit", "--quiet", "-m", "local")
		}, want: ErrDiverged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bare := newRemote(t)
			dir := cloneOf(t, bare)
			r := openRepo(t, dir)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			remoteTip := pushChange(t, bare, "other.txt", "other\n")
			if err := r.Fetch(ctx, "origin"); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			moved, err := r.FastForward(ctx, "main", "origin")
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("FastForward error = %v, want %v", err, tt.want)
				}
				assertUnchanged(t, dir, before)
				return
			}
			if err != nil || moved != tt.moved {
				t.Fatalf("FastForward = %v, %v; want %v", moved, err, tt.moved)
			}
			if got := run(t, dir, "rev-parse", "HEAD"); got != remoteTip {
				t.Errorf("HEAD = %s, want %s", got, remoteTip)
			}
			if s := run(t, dir, "status", "--porcelain"); s != "" {
				t.Errorf("status after fast-forward: %q", s)
			}
			if moved, err := r.FastForward(ctx, "main", "origin"); err != nil || moved {
				t.Errorf("second FastForward = %v, %v; want false, nil", moved, err)
			}
		})
	}
}

func TestErrorsNameCommandAndHideCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := cloneOf(t, newRemote(t))
	r := openRepo(t, dir)
	missing := filepath.Join(t.TempDir(), "missing.git")
	url := "file://user:s3cret@" + filepath.ToSlash(missing)
	err := r.Fetch(ctx, url, "refs/heads/main")
	if err == nil {
		t.Fatal("fetch from a missing repository: no error")
	}
	var ge *GitError
	if !errors.As(err, &ge) || ge.ExitCode <= 0 {
		t.Fatalf("error %v is not a *GitError with an exit code", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "s3cret") || strings.Contains(msg, "user:") {
		t.Errorf("error leaks credentials: %s", msg)
	}
	if !strings.Contains(msg, "git fetch") {
		t.Errorf("error does not name the command: %s", msg)
	}

	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.CurrentBranch(ctx2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error = %v, want context.Canceled", err)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://github.com/acme/x.git", "https://github.com/acme/x.git"},
		{"https://user:pa55@github.com/acme/x.git", "https://github.com/acme/x.git"},
		{"https://ghp_token@github.com/acme/x", "https://github.com/acme/x"},
		{"fatal: unable to access 'https://u:p@h.example/x/': denied", "fatal: unable to access 'https://h.example/x/': denied"},
		{"two http://a:b@h1/ and ssh://git@h2:22/r", "two http://h1/ and ssh://h2:22/r"},
		{"https://u:TOP@SECRET@h.example/x.git", "https://h.example/x.git"},
		{"https://u:it's\"q@h.example/x.git", "https://h.example/x.git"},
		{"git@github.com:acme/x.git", "git@github.com:acme/x.git"},
		{"mail me at a@b.c", "mail me at a@b.c"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseStatusZ(t *testing.T) {
	t.Parallel()
	out := " M a.txt\x00R  new.txt\x00old.txt\x00?? dir/\x00UU c d.txt\x00"
	want := []string{"a.txt", "new.txt", "dir/", "c d.txt"}
	if diff := cmp.Diff(want, parseStatusZ([]byte(out))); diff != "" {
		t.Errorf("parseStatusZ (-want +got):\n%s", diff)
	}
}

func TestEnvScrubbed(t *testing.T) {
	// Not parallel: it changes the environment.
	dir := cloneOf(t, newRemote(t))
	t.Setenv("GIT_DIR", filepath.Join(t.TempDir(), "elsewhere"))
	t.Setenv("LC_ALL", "de_DE.UTF-8")
	r, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("Open with GIT_DIR set: %v", err)
	}
	if b, err := r.CurrentBranch(context.Background()); err != nil || b != "main" {
		t.Errorf("CurrentBranch = %q, %v", b, err)
	}
	env := gitEnv(nil)
	if slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "GIT_DIR=") || strings.Contains(kv, "de_DE") }) ||
		!slices.Contains(env, "LC_ALL=C") || !slices.Contains(env, "GIT_TERMINAL_PROMPT=0") {
		t.Errorf("environment not scrubbed:\n%s", strings.Join(env, "\n"))
	}
}

func TestExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newRemote(t)
	dir := cloneOf(t, bare)
	r := openRepo(t, dir)
	first := run(t, dir, "rev-parse", "HEAD")
	writeFile(t, filepath.Join(dir, "envs/dev/kustomization.yaml"), "changed\n")
	run(t, dir, "commit", "--quiet", "-am", "change")
	writeFile(t, filepath.Join(dir, "README.md"), "local edit\n")
	before := snapshot(t, dir)

	out := filepath.Join(t.TempDir(), "export")
	if err := r.Export(ctx, first, out); err != nil {
		t.Fatal(err)
	}
	for name, want := range seedFiles {
		got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, ".git")); err == nil {
		t.Error("export contains .git")
	}
	assertUnchanged(t, dir, before)
	if err := r.Export(ctx, "no-such-rev", out); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("Export(unknown revision) error = %v", err)
	}
}
