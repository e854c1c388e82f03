package gitsource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
)

func TestMain(m *testing.M) {
	// The user's git configuration must not matter.
	for k, v := range map[string]string{
		"GIT_CONFIG_GLOBAL": os.DevNull, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
	} {
		if err := os.Setenv(k, v); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// repo is a bare repository with history:
//
//	first   apps/web/v.txt = 1                     (tag v1.0.0)
//	second  apps/web/v.txt = 2, link -> web        (tag v1.2.0, branch main)
//	feature apps/web/v.txt = feature               (branch feature, tag v2.0.0)
type repo struct {
	bare                 string
	first, second, featr string
}

func newRepo(t *testing.T) repo {
	t.Helper()
	base := t.TempDir()
	work := filepath.Join(base, "work")
	bare := filepath.Join(base, "repo.git")
	gitT(t, base, "init", "--quiet", work)
	gitT(t, base, "init", "--quiet", "--bare", bare)
	write(t, work, map[string]string{"apps/web/v.txt": "1", "README": "x"})
	gitT(t, work, "add", "-A")
	gitT(t, work, "commit", "--quiet", "-m", "first")
	gitT(t, work, "tag", "v1.0.0")
	first := gitT(t, work, "rev-parse", "HEAD")
	write(t, work, map[string]string{"apps/web/v.txt": "2"})
	if err := os.Symlink("web", filepath.Join(work, "apps", "link")); err != nil {
		t.Fatal(err)
	}
	gitT(t, work, "add", "-A")
	gitT(t, work, "commit", "--quiet", "-m", "second")
	gitT(t, work, "tag", "-a", "-m", "release", "v1.2.0")
	second := gitT(t, work, "rev-parse", "HEAD")
	gitT(t, work, "checkout", "--quiet", "-b", "feature")
	write(t, work, map[string]string{"apps/web/v.txt": "feature"})
	gitT(t, work, "commit", "--quiet", "-am", "feature")
	gitT(t, work, "tag", "v2.0.0")
	gitT(t, work, "tag", "latest")
	featr := gitT(t, work, "rev-parse", "HEAD")
	gitT(t, work, "push", "--quiet", bare, "main", "feature", "--tags")
	return repo{bare: bare, first: first, second: second, featr: featr}
}

func read(t *testing.T, co *Checkout, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(co.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestFetchRevisions(t *testing.T) {
	r := newRepo(t)
	url := "file://" + r.bare
	tests := []struct {
		name, url, rev, path string
		wantCommit, wantFile string
	}{
		{"default branch", url, "", "apps/web", r.second, "2"},
		{"HEAD", url, "HEAD", "apps/web", r.second, "2"},
		{"branch", url, "feature", "apps/web", r.featr, "feature"},
		{"full ref", url, "refs/heads/feature", "apps/web", r.featr, "feature"},
		{"lightweight tag", url, "v1.0.0", "apps/web", r.first, "1"},
		{"annotated tag", url, "v1.2.0", "/apps/web", r.second, "2"},
		{"full SHA of an old commit", url, r.first, "./apps/web/", r.first, "1"},
		{"abbreviated SHA", url, r.first[:8], "apps/web", r.first, "1"},
		{"plain path URL", r.bare, "main", "apps/web", r.second, "2"},
		{"path through a symbolic link inside", url, "main", "apps/link", r.second, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			co, err := Fetch(t.Context(), Spec{URL: tt.url, Revision: tt.rev, Path: tt.path, TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			if co.Commit != tt.wantCommit {
				t.Errorf("commit %s, want %s", co.Commit, tt.wantCommit)
			}
			if got := read(t, co, "v.txt"); got != tt.wantFile {
				t.Errorf("v.txt = %q, want %q", got, tt.wantFile)
			}
			if _, err := os.Stat(filepath.Join(co.Root, ".git")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the checkout keeps .git: %v", err)
			}
			if err := co.Close(); err != nil {
				t.Fatal(err)
			}
			if err := co.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			assertEmpty(t, tmp)
		})
	}
}

// The fallback for servers that do not serve commits by id: protocol v0
// refuses unadvertised objects.
func TestFetchSHAFallback(t *testing.T) {
	r := newRepo(t)
	t.Setenv("GIT_CONFIG_COUNT", "1")
	t.Setenv("GIT_CONFIG_KEY_0", "protocol.version")
	t.Setenv("GIT_CONFIG_VALUE_0", "0")
	co, err := Fetch(t.Context(), Spec{URL: "file://" + r.bare, Revision: r.first, Path: "apps/web", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = co.Close() }()
	if co.Commit != r.first || read(t, co, "v.txt") != "1" {
		t.Errorf("commit %s, v.txt %q", co.Commit, read(t, co, "v.txt"))
	}
}

func TestFetchErrors(t *testing.T) {
	r := newRepo(t)
	url := "file://" + r.bare
	tests := []struct {
		name     string
		spec     Spec
		wantIs   error
		wantText string
	}{
		{"unknown branch", Spec{URL: url, Revision: "nope"}, ErrRevisionNotFound, "revision not found: nope"},
		{"unknown commit", Spec{URL: url, Revision: strings.Repeat("ab", 20)}, ErrRevisionNotFound, ""},
		{"dot-dot path", Spec{URL: url, Path: "../outside"}, ErrOutsideCheckout, `"../outside"`},
		{"dot-dot deeper", Spec{URL: url, Path: "apps/../../x"}, ErrOutsideCheckout, ""},
		{"missing path", Spec{URL: url, Path: "apps/nothing"}, nil, `path "apps/nothing" does not exist`},
		{"file path", Spec{URL: url, Path: "README"}, nil, "is not a directory"},
		{"no such repository", Spec{URL: "file://" + filepath.Join(t.TempDir(), "none.git")}, nil, "none.git"},
		{"no URL", Spec{}, nil, "no repository URL"},
		{"option as revision", Spec{URL: url, Revision: "--upload-pack=touch /tmp/x"}, nil, "invalid revision"},
		{"option as URL", Spec{URL: "--upload-pack=x"}, nil, "invalid repository URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			tt.spec.TempDir = tmp
			co, err := Fetch(t.Context(), tt.spec)
			if err == nil {
				_ = co.Close()
				t.Fatal("no error")
			}
			if co != nil {
				t.Error("a checkout returned with the error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
			assertEmpty(t, tmp)
		})
	}
}

func TestSymlinkOutOfBounds(t *testing.T) {
	for _, target := range []string{"/etc", "../../../..", "../.."} {
		t.Run(target, func(t *testing.T) {
			base := t.TempDir()
			work, bare := filepath.Join(base, "w"), filepath.Join(base, "b.git")
			gitT(t, base, "init", "--quiet", work)
			gitT(t, base, "init", "--quiet", "--bare", bare)
			write(t, work, map[string]string{"apps/a.yaml": "a: 1"})
			if err := os.Symlink(target, filepath.Join(work, "apps", "evil")); err != nil {
				t.Fatal(err)
			}
			gitT(t, work, "add", "-A")
			gitT(t, work, "commit", "--quiet", "-m", "evil")
			gitT(t, work, "push", "--quiet", bare, "main")
			tmp := t.TempDir()
			_, err := Fetch(t.Context(), Spec{URL: bare, Path: "apps", TempDir: tmp})
			if !errors.Is(err, ErrOutsideCheckout) || !strings.Contains(err.Error(), "apps/evil") {
				t.Errorf("want an out-of-bounds error naming apps/evil, got %v", err)
			}
			assertEmpty(t, tmp)
		})
	}
}

func TestCredentialsNeverShown(t *testing.T) {
	// A port nothing listens on: git fails fast, with the URL in its message.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, url := range []string{
		"https://alice:s3cr3t-t0ken@" + addr + "/org/repo.git",
		"https://s3cr3t-t0ken@" + addr + "/org/repo.git",
		"http://x-access-token:s3cr3t-t0ken@" + addr + "/org/repo.git",
	} {
		tmp := t.TempDir()
		_, err := Fetch(t.Context(), Spec{URL: url, Revision: "main", TempDir: tmp})
		if err == nil {
			t.Fatalf("%s: no error", RedactURL(url))
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("credential in error: %v", err)
		}
		if !strings.Contains(err.Error(), addr+"/org/repo.git") {
			t.Errorf("error does not name the repository: %v", err)
		}
		_, err = ResolveSemver(t.Context(), url, "1.x")
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("ResolveSemver: %v", err)
		}
		assertEmpty(t, tmp)
	}
}

func TestCancelledLeavesNothing(t *testing.T) {
	r := newRepo(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tmp := t.TempDir()
	_, err := Fetch(ctx, Spec{URL: "file://" + r.bare, TempDir: tmp})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
	assertEmpty(t, tmp)
}

// TestGitDaemon fetches over the git:// protocol from a real git daemon.
func TestGitDaemon(t *testing.T) {
	r := newRepo(t)
	url := serveDaemon(t, filepath.Dir(r.bare)) + "/" + filepath.Base(r.bare)
	co, err := Fetch(t.Context(), Spec{URL: url, Revision: "v1.0.0", Path: "apps/web", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = co.Close() }()
	if co.Commit != r.first || read(t, co, "v.txt") != "1" {
		t.Errorf("commit %s, v.txt %q", co.Commit, read(t, co, "v.txt"))
	}
	tag, err := ResolveSemver(t.Context(), url, ">=1.0.0 <2.0.0")
	if err != nil || tag != "v1.2.0" {
		t.Errorf("ResolveSemver = %q, %v; want v1.2.0", tag, err)
	}
}

// serveDaemon runs `git daemon` on a free 127.0.0.1 port for base and
// returns its git:// URL.
func serveDaemon(t *testing.T, base string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("git", "daemon", "--export-all", "--reuseaddr", "--base-path="+base,
		fmt.Sprintf("--port=%d", port), "--listen=127.0.0.1", base)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("git daemon does not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "git://" + addr
}

func TestResolveSemver(t *testing.T) {
	r := newRepo(t)
	tests := []struct{ constraint, want string }{
		{"1.x", "v1.2.0"},
		{"~1.0.0", "v1.0.0"},
		{">=1.0.0", "v2.0.0"},
		{"*", "v2.0.0"},
	}
	for _, tt := range tests {
		got, err := ResolveSemver(t.Context(), "file://"+r.bare, tt.constraint)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.constraint, got, err, tt.want)
		}
	}
	if _, err := ResolveSemver(t.Context(), "file://"+r.bare, ">=3"); err == nil || !strings.Contains(err.Error(), "no tag matches") {
		t.Errorf(">=3: %v", err)
	}
	if _, err := ResolveSemver(t.Context(), "file://"+r.bare, "not a range"); err == nil {
		t.Error("a bad range is accepted")
	}
}

func TestPickSemver(t *testing.T) {
	out := "a\trefs/tags/v1.9.0\nb\trefs/tags/v1.10.0\nc\trefs/tags/release\nd\trefs/tags/2.0.0-rc.1\ne\trefs/heads/v9.0.0\n"
	tests := []struct{ constraint, want string }{
		{"1.x", "v1.10.0"},
		{">=2.0.0-0", "2.0.0-rc.1"},
		{"<1.10", "v1.9.0"},
	}
	for _, tt := range tests {
		c, err := semver.NewConstraint(tt.constraint)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := pickSemver(out, c); err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.constraint, got, err, tt.want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{"", ".", false}, {".", ".", false}, {"/", ".", false}, {"./", ".", false},
		{"./apps/web/", "apps/web", false}, {"/apps", "apps", false}, {"a/../b", "b", false},
		{"..", "", true}, {"../a", "", true}, {"a/../../b", "", true}, {"a/./../..", "", true},
	}
	for _, tt := range tests {
		got, err := CleanPath(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("CleanPath(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://u:p@host/r.git", "https://host/r.git"},
		{"https://token@host/r.git", "https://host/r.git"},
		{"ssh://git@host/r.git", "ssh://host/r.git"},
		{"git@github.com:org/r.git", "git@github.com:org/r.git"},
		{"file:///tmp/r.git", "file:///tmp/r.git"},
		{"see https://a:b@h/x and http://c@h/y", "see https://h/x and http://h/y"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in the temp dir: %s", e.Name())
	}
}
