package gitsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
)

// Spec says what to check out.
type Spec struct {
	// URL is anything `git fetch` accepts: https://, ssh://, git://,
	// file:// or scp-like user@host:repo. Credentials in it are used but
	// never shown.
	URL string
	// Revision is a branch, a tag, a full ref name (refs/...), a commit SHA
	// (full or abbreviated) or ""/"HEAD" for the remote's default branch.
	Revision string
	// Path is the directory inside the repository that matters, relative to
	// its root ("" or "." for the root). A leading "/" is allowed and means
	// the root too; ".." may not leave the repository.
	Path string
	// TempDir is the directory to create the checkout in ("" for
	// os.TempDir()).
	TempDir string
	// RemoteTracking: a branch the repository does not have
	// (refs/heads/<Revision>) may be one of its remote-tracking branches,
	// refs/remotes/<remote>/<Revision>, "origin" first, as `git checkout
	// <branch>` in that clone finds it. For a local clone standing in for
	// the real repository (drift --repo-override): such a branch is as
	// recent as the clone's last fetch, which Checkout.Warning says.
	RemoteTracking bool
	// Auth, when set, are the credentials of URL (see Auth): HTTP ones
	// sent only to its host, only over https or to a loopback address; an
	// SSH key used only with an ssh:// or user@host:path URL, the host key
	// checked against Auth.KnownHosts.
	Auth *Auth
}

// Checkout is one revision of a repository in a temporary directory. Close
// removes it.
type Checkout struct {
	// Root is the top of the checkout.
	Root string
	// Dir is Spec.Path inside Root (symbolic links resolved).
	Dir string
	// Path is Spec.Path cleaned, relative to Root ("." for the root).
	Path string
	// Commit is the full SHA of the checked-out commit.
	Commit string
	// URL is Spec.URL without credentials, for messages.
	URL string
	// Revision is Spec.Revision as given ("HEAD" when empty).
	Revision string
	// Warning, when set, says the revision was found as a remote-tracking
	// branch of the repository (Spec.RemoteTracking).
	Warning string
}

// Close removes the checkout. It is safe to call more than once and on a
// nil Checkout.
func (c *Checkout) Close() error {
	if c == nil || c.Root == "" {
		return nil
	}
	root := c.Root
	c.Root = ""
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("removing checkout %s: %w", root, err)
	}
	return nil
}

// ErrRevisionNotFound is returned (wrapped) when the repository has no such
// branch, tag or commit.
var ErrRevisionNotFound = errors.New("revision not found")

// ErrOutsideCheckout is returned (wrapped) when the path, or a symbolic
// link in the checkout, points outside the checkout.
var ErrOutsideCheckout = errors.New("outside the checkout")

// waitDelay is how long git may take to exit after an interrupt when the
// context ends, before it is killed.
const waitDelay = 5 * time.Second

var hexRev = regexp.MustCompile(`^[0-9a-fA-F]{4,64}$`)

// Fetch checks out spec.Revision of spec.URL into a new temporary directory.
// Branches, tags, full ref names and full commit SHAs are fetched with
// --depth 1; an abbreviated SHA, or a full one the server refuses to serve
// by id, falls back to fetching every branch and tag. On any error,
// cancellation included, nothing is left behind.
func Fetch(ctx context.Context, spec Spec) (co *Checkout, err error) {
	rel, err := CleanPath(spec.Path)
	if err != nil {
		return nil, err
	}
	rev := spec.Revision
	if rev == "" {
		rev = "HEAD"
	}
	safe := RedactURL(spec.URL)
	if spec.URL == "" {
		return nil, errors.New("fetching: no repository URL")
	}
	// Neither may pass for an option of git.
	if strings.HasPrefix(spec.URL, "-") {
		return nil, fmt.Errorf("fetching: invalid repository URL %q", safe)
	}
	if strings.HasPrefix(rev, "-") || strings.ContainsAny(rev, " \t\n") {
		return nil, fmt.Errorf("fetching %s: invalid revision %q", safe, rev)
	}
	env, cleanup, err := spec.Auth.prepare(spec.URL, spec.TempDir)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", safe, err)
	}
	defer cleanup()
	root, err := os.MkdirTemp(spec.TempDir, "kubectl-gitops-src-")
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", safe, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(root)
			co = nil
		}
	}()
	g := &git{dir: root, env: env, auth: spec.Auth, url: spec.URL}
	if _, err := g.run(ctx, "init", "--quiet"); err != nil {
		return nil, fmt.Errorf("fetching %s: %w", safe, err)
	}
	target, warning := "FETCH_HEAD", ""
	_, ferr := g.run(ctx, "fetch", "--quiet", "--depth", "1", "--no-tags", spec.URL, rev)
	if ferr != nil && spec.RemoteTracking && ctx.Err() == nil && errors.Is(g.fetchError(safe, rev, ferr), ErrRevisionNotFound) &&
		!strings.HasPrefix(rev, "refs/") && rev != "HEAD" {
		ref, err := g.remoteTracking(ctx, spec.URL, rev)
		if err != nil {
			return nil, fmt.Errorf("fetching %s: %w", safe, err)
		}
		if ref != "" {
			if _, ferr = g.run(ctx, "fetch", "--quiet", "--depth", "1", "--no-tags", spec.URL, ref); ferr == nil {
				warning = fmt.Sprintf("%s has no branch %s: using its remote-tracking branch %s, as of that clone's last fetch", safe, rev, ref)
			}
		}
	}
	if ferr != nil {
		if ctx.Err() != nil || !hexRev.MatchString(rev) {
			return nil, g.fetchError(safe, rev, ferr)
		}
		// A commit the server does not serve by id (protocol v0 without
		// allowAnySHA1InWant) or an abbreviated one: fetch everything.
		if _, err := g.run(ctx, "fetch", "--quiet", spec.URL, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"); err != nil {
			return nil, g.fetchError(safe, rev, err)
		}
		out, err := g.run(ctx, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("fetching %s: %w", safe, ctx.Err())
			}
			return nil, fmt.Errorf("fetching %s: %w: %s", safe, ErrRevisionNotFound, rev)
		}
		target = strings.TrimSpace(out)
	}
	if _, err := g.run(ctx, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", target); err != nil {
		return nil, fmt.Errorf("checking out %s at %s: %w", safe, rev, err)
	}
	out, err := g.run(ctx, "rev-parse", "HEAD")
	if err != nil {
		return nil, fmt.Errorf("checking out %s at %s: %w", safe, rev, err)
	}
	commit := strings.TrimSpace(out)
	if err := os.RemoveAll(filepath.Join(root, ".git")); err != nil {
		return nil, fmt.Errorf("checking out %s: %w", safe, err)
	}
	dir, err := resolveInside(root, rel)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", safe, rev, err)
	}
	return &Checkout{Root: root, Dir: dir, Path: rel, Commit: commit, URL: safe, Revision: rev, Warning: warning}, nil
}

// remoteTracking returns the remote-tracking branch of the repository at
// url named branch: refs/remotes/origin/<branch> when there is one, else
// the only refs/remotes/<remote>/<branch>; "" when there is none. Several
// remotes other than origin having it is an error naming them.
func (g *git) remoteTracking(ctx context.Context, url, branch string) (string, error) {
	out, err := g.run(ctx, "ls-remote", "--refs", url, "refs/remotes/*")
	if err != nil {
		return "", err
	}
	var found []string
	for line := range strings.Lines(out) {
		_, ref, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok {
			continue
		}
		remote, name, ok := strings.Cut(strings.TrimPrefix(ref, "refs/remotes/"), "/")
		if !ok || remote == "" || name != branch {
			continue
		}
		if remote == "origin" {
			return ref, nil
		}
		found = append(found, ref)
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%w: %s is no branch, and several remote-tracking branches have that name (%s): name one as the revision",
		ErrRevisionNotFound, branch, strings.Join(found, ", "))
}

// CleanPath cleans a path inside a repository: "" and "/" are the root
// ("."), a leading "/" or "./" is dropped, and a path whose ".." would leave
// the repository is an error wrapping ErrOutsideCheckout.
func CleanPath(p string) (string, error) {
	s := strings.TrimLeft(filepath.ToSlash(p), "/")
	if s == "" {
		return ".", nil
	}
	depth := 0
	for _, seg := range strings.Split(s, "/") {
		switch seg {
		case "", ".":
		case "..":
			depth--
		default:
			depth++
		}
		if depth < 0 {
			return "", fmt.Errorf("path %q: %w", p, ErrOutsideCheckout)
		}
	}
	return path.Clean(s), nil
}

// resolveInside returns root/rel with symbolic links resolved, after
// checking that it and every symbolic link in the checkout stay inside root.
func resolveInside(root, rel string) (string, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	err = filepath.WalkDir(realRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		name, _ := filepath.Rel(realRoot, p)
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			// Dangling: judge the link text itself.
			link, lerr := os.Readlink(p)
			if lerr != nil {
				return lerr
			}
			if !filepath.IsAbs(link) {
				link = filepath.Join(filepath.Dir(p), link)
			}
			target = filepath.Clean(link)
		}
		if !jsonneteval.Inside(realRoot, target) {
			return fmt.Errorf("symbolic link %s: %w", filepath.ToSlash(name), ErrOutsideCheckout)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(realRoot, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("path %q does not exist", rel)
		}
		return "", err
	}
	if !jsonneteval.Inside(realRoot, dir) {
		return "", fmt.Errorf("path %q: %w", rel, ErrOutsideCheckout)
	}
	if fi, err := os.Stat(dir); err != nil {
		return "", err
	} else if !fi.IsDir() {
		return "", fmt.Errorf("path %q is not a directory", rel)
	}
	return dir, nil
}

// git runs git in one directory.
type git struct {
	dir string
	// env is added to git's environment (the credentials of Spec.Auth).
	env []string
	// auth and url, when set, are the credentials env holds and the
	// repository they are for, for errors.
	auth *Auth
	url  string
}

// run runs git with a non-interactive environment and returns its stdout.
// Errors carry the first lines of stderr, with credentials removed.
func (g *git) run(ctx context.Context, args ...string) (string, error) {
	full := append([]string{"-c", "core.hooksPath=" + os.DevNull, "-c", "protocol.ext.allow=never"}, args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = g.dir
	cmd.Env = gitrepo.Env(append([]string{"GCM_INTERACTIVE=never", "GIT_OPTIONAL_LOCKS=0"}, g.env...)...)
	// git runs in a session of its own, with every helper it starts
	// (git-remote-https, ssh, credential helpers): no terminal to prompt
	// on, and the interrupt on cancellation reaches them all, so none is
	// left behind holding a connection to a server that does not answer.
	interruptGroup(cmd)
	cmd.WaitDelay = waitDelay
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	shown := make([]string, 0, len(args))
	for _, a := range args {
		shown = append(shown, RedactURL(a))
	}
	msg := "git " + strings.Join(shown, " ")
	if ctx.Err() == nil && strings.Contains(stderr.String(), "Host key verification failed.") {
		// ssh's banner would fill the lines shown: say it plainly.
		return "", fmt.Errorf("%s: %w", msg, ErrHostKeyVerification)
	}
	if s := firstLines(RedactURL(stderr.String()), 3); s != "" {
		msg += ": " + s
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s: %w", msg, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return "", fmt.Errorf("%s: exit status %d", msg, ee.ExitCode())
	}
	return "", fmt.Errorf("%s: %w", msg, err)
}

// fetchError turns a failed fetch into an error saying what was not found,
// when git says so.
func (g *git) fetchError(safe, rev string, err error) error {
	if errors.Is(err, ErrHostKeyVerification) {
		return fmt.Errorf("fetching %s: %w", safe, g.auth.hostKeyError(g.url, err))
	}
	msg := err.Error()
	if strings.Contains(msg, "couldn't find remote ref") || strings.Contains(msg, "unadvertised object") || strings.Contains(msg, "not our ref") {
		return fmt.Errorf("fetching %s: %w: %s", safe, ErrRevisionNotFound, rev)
	}
	return fmt.Errorf("fetching %s at %s: %w", safe, rev, err)
}

// RedactURL returns the URL without user information (user names and
// passwords or tokens); scp-like addresses (git@host:repo) are returned as
// they are, their user name being no secret. It is gitrepo.RedactURL, which
// also takes any text holding URLs.
func RedactURL(raw string) string {
	return gitrepo.RedactURL(raw)
}

func firstLines(s string, n int) string {
	var lines []string
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(lines) == n {
			lines = append(lines, "...")
			break
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "; ")
}
