package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Repo is a Git working tree (the main one or a linked worktree). Its
// methods may be called from several goroutines: the operations that
// update shared refs or worktree records (fetches, pushes, adding and
// removing worktrees) are serialised, because git fails them on each
// other's locks or half-written worktrees.
type Repo struct {
	root string
	mu   sync.Mutex
}

// Open returns the repository whose working tree contains dir. It fails with
// ErrNotRepo when dir is not inside a working tree (a bare repository or a
// .git directory is not one).
func Open(ctx context.Context, dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening repository at %s: %w", dir, err)
	}
	out, err := git(ctx, cmdOpts{dir: abs}, "rev-parse", "--show-toplevel")
	if err != nil {
		s := stderrOf(err)
		if strings.Contains(s, "not a git repository") || strings.Contains(s, "must be run in a work tree") {
			return nil, fmt.Errorf("opening repository at %s: %w", dir, ErrNotRepo)
		}
		return nil, fmt.Errorf("opening repository at %s: %w", dir, err)
	}
	root := strings.TrimRight(string(out), "\r\n")
	if root == "" {
		return nil, fmt.Errorf("opening repository at %s: %w", dir, ErrNotRepo)
	}
	return &Repo{root: filepath.FromSlash(root)}, nil
}

// Root returns the top-level directory of the working tree.
func (r *Repo) Root() string { return r.root }

func (r *Repo) git(ctx context.Context, args ...string) ([]byte, error) {
	return git(ctx, cmdOpts{dir: r.root}, args...)
}

// CurrentBranch returns the short name of the checked-out branch, or an
// error matching ErrDetachedHead.
func (r *Repo) CurrentBranch(ctx context.Context) (string, error) {
	out, err := r.git(ctx, "symbolic-ref", "--quiet", "HEAD")
	if err != nil {
		if exitCode(err) == 1 {
			return "", fmt.Errorf("reading current branch in %s: %w", r.root, ErrDetachedHead)
		}
		return "", fmt.Errorf("reading current branch: %w", err)
	}
	ref := strings.TrimSpace(string(out))
	b, ok := strings.CutPrefix(ref, "refs/heads/")
	if !ok {
		return "", fmt.Errorf("reading current branch in %s: HEAD points to %s: %w", r.root, ref, ErrDetachedHead)
	}
	return b, nil
}

// DirtyPaths returns the paths with uncommitted changes: staged, modified,
// deleted, conflicted and untracked files that are not ignored. The index
// is not refreshed (no lock is taken on it).
func (r *Repo) DirtyPaths(ctx context.Context) ([]string, error) {
	out, err := git(ctx, cmdOpts{dir: r.root, env: []string{"GIT_OPTIONAL_LOCKS=0"}},
		"status", "--porcelain=v1", "-z", "--untracked-files=normal", "--ignore-submodules=none")
	if err != nil {
		return nil, fmt.Errorf("reading status: %w", err)
	}
	return parseStatusZ(out), nil
}

func parseStatusZ(out []byte) []string {
	var paths []string
	fields := strings.Split(string(out), "\x00")
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if len(f) < 4 {
			continue
		}
		paths = append(paths, f[3:])
		if f[0] == 'R' || f[0] == 'C' {
			i++ // the original path of a rename or copy follows
		}
	}
	return paths
}

// IsClean reports whether the working tree has no uncommitted change (see
// DirtyPaths).
func (r *Repo) IsClean(ctx context.Context) (bool, error) {
	paths, err := r.DirtyPaths(ctx)
	return len(paths) == 0, err
}

// RequireClean returns a *DirtyError (ErrDirty) listing the dirty paths
// unless the working tree is clean.
func (r *Repo) RequireClean(ctx context.Context) error {
	paths, err := r.DirtyPaths(ctx)
	if err != nil {
		return err
	}
	if len(paths) > 0 {
		return &DirtyError{Root: r.root, Paths: paths}
	}
	return nil
}

// RequireBranch returns a *WrongBranchError (ErrWrongBranch) unless branch
// is checked out, or ErrDetachedHead.
func (r *Repo) RequireBranch(ctx context.Context, branch string) error {
	got, err := r.CurrentBranch(ctx)
	if err != nil {
		return err
	}
	if got != branch {
		return &WrongBranchError{Want: branch, Got: got}
	}
	return nil
}

// Remotes returns the names of the configured remotes.
func (r *Repo) Remotes(ctx context.Context) ([]string, error) {
	out, err := r.git(ctx, "remote")
	if err != nil {
		return nil, fmt.Errorf("listing remotes: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// RequireRemote returns a *NoRemoteError (ErrNoRemote) unless the remote is
// configured.
func (r *Repo) RequireRemote(ctx context.Context, name string) error {
	if err := checkArg("remote", name); err != nil {
		return err
	}
	known, err := r.Remotes(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(known, name) {
		return &NoRemoteError{Name: name, Known: known}
	}
	return nil
}

// RemoteURL returns the (fetch) URL of a remote, after url.<base>.insteadOf
// rewriting, with the user information removed (see RedactURL): it is meant
// for display and for recognising the forge, never for authenticating.
func (r *Repo) RemoteURL(ctx context.Context, name string) (string, error) {
	if err := r.RequireRemote(ctx, name); err != nil {
		return "", err
	}
	out, err := r.git(ctx, "remote", "get-url", name)
	if err != nil {
		return "", fmt.Errorf("reading URL of remote %s: %w", name, err)
	}
	return RedactURL(strings.TrimSpace(string(out))), nil
}

// DefaultBranch returns the branch the remote's HEAD points to: from
// refs/remotes/<remote>/HEAD when it is set locally, else by asking the
// remote. It fails with ErrNotFound when the remote has no HEAD branch.
func (r *Repo) DefaultBranch(ctx context.Context, remote string) (string, error) {
	if err := r.RequireRemote(ctx, remote); err != nil {
		return "", err
	}
	out, err := r.git(ctx, "symbolic-ref", "--quiet", "refs/remotes/"+remote+"/HEAD")
	if err == nil {
		if b, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "refs/remotes/"+remote+"/"); ok && b != "" {
			return b, nil
		}
	} else if exitCode(err) != 1 {
		return "", fmt.Errorf("reading default branch of %s: %w", remote, err)
	}
	out, err = r.git(ctx, "ls-remote", "--symref", remote, "HEAD")
	if err != nil {
		return "", fmt.Errorf("reading default branch of %s: %w", remote, err)
	}
	for line := range strings.Lines(string(out)) {
		target, name, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok || name != "HEAD" {
			continue
		}
		if b, ok := strings.CutPrefix(target, "ref: refs/heads/"); ok {
			return b, nil
		}
	}
	return "", fmt.Errorf("reading default branch of %s: remote HEAD is not a branch: %w", remote, ErrNotFound)
}

// Preflight checks that the checkout is fit for a change to remote/branch:
// on a branch (ErrDetachedHead), clean (ErrDirty), with the remote
// configured (ErrNoRemote) and, unless branch is empty, on branch
// (ErrWrongBranch). It changes nothing.
func (r *Repo) Preflight(ctx context.Context, remote, branch string) error {
	if _, err := r.CurrentBranch(ctx); err != nil {
		return err
	}
	if err := r.RequireClean(ctx); err != nil {
		return err
	}
	if err := r.RequireRemote(ctx, remote); err != nil {
		return err
	}
	if branch != "" {
		return r.RequireBranch(ctx, branch)
	}
	return nil
}

// Fetch fetches refspecs from remote (a remote name or URL), without
// writing FETCH_HEAD. Fetches by one Repo are serialised.
func (r *Repo) Fetch(ctx context.Context, remote string, refspecs ...string) error {
	if err := checkArg("remote", remote); err != nil {
		return fmt.Errorf("fetching: %w", err)
	}
	args := []string{"fetch", "--quiet", "--no-write-fetch-head", remote}
	for _, rs := range refspecs {
		if err := checkArg("refspec", rs); err != nil {
			return fmt.Errorf("fetching from %s: %w", RedactURL(remote), err)
		}
		args = append(args, rs)
	}
	var err error
	for attempt := 1; ; attempt++ {
		r.mu.Lock()
		_, err = r.git(ctx, args...)
		r.mu.Unlock()
		// Another process (the user's git, another run) may hold a ref
		// lock or be adding a worktree: that passes, so try again.
		if err == nil || attempt == 3 || !isLocalRace(stderrOf(err)) || ctx.Err() != nil {
			break
		}
		if berr := backoff(ctx, attempt); berr != nil {
			break
		}
	}
	if err != nil {
		if strings.Contains(stderrOf(err), "couldn't find remote ref") {
			return fmt.Errorf("fetching from %s: %w: %w", RedactURL(remote), ErrNotFound, err)
		}
		return fmt.Errorf("fetching from %s: %w", RedactURL(remote), err)
	}
	return nil
}

// isLocalRace tells whether a git failure comes from a concurrent update of
// the local repository.
func isLocalRace(stderr string) bool {
	return strings.Contains(stderr, "cannot lock ref") ||
		(strings.Contains(stderr, "Unable to create") && strings.Contains(stderr, ".lock")) ||
		strings.Contains(stderr, "bad object worktrees/")
}

// RevParse returns the full hash of the commit rev names (a tag is peeled),
// or an error matching ErrUnknownRevision.
func (r *Repo) RevParse(ctx context.Context, rev string) (string, error) {
	if err := checkArg("revision", rev); err != nil {
		return "", fmt.Errorf("resolving revision: %w", err)
	}
	out, err := r.git(ctx, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		if exitCode(err) == 1 {
			return "", fmt.Errorf("resolving %s: %w", rev, ErrUnknownRevision)
		}
		return "", fmt.Errorf("resolving %s: %w", rev, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// cleanRepoPath turns a slash- or OS-separated path relative to the
// repository root into git's form, refusing paths that leave the root.
func cleanRepoPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if strings.ContainsAny(p, "\x00\n") {
		return "", fmt.Errorf("invalid path %q", p)
	}
	s := path.Clean(filepath.ToSlash(p))
	if !filepath.IsLocal(filepath.FromSlash(s)) || path.IsAbs(s) {
		return "", fmt.Errorf("invalid path %q: not relative to the repository root", p)
	}
	return s, nil
}

// ShowFile returns the content of path (relative to the repository root) at
// revision rev. A path that does not exist at rev fails with ErrNotFound, a
// revision that does not exist with ErrUnknownRevision.
func (r *Repo) ShowFile(ctx context.Context, rev, p string) ([]byte, error) {
	if err := checkArg("revision", rev); err != nil {
		return nil, fmt.Errorf("reading file: %w", err)
	}
	clean, err := cleanRepoPath(p)
	if err != nil {
		return nil, fmt.Errorf("reading file at %s: %w", rev, err)
	}
	spec := rev + ":" + clean
	out, err := git(ctx, cmdOpts{dir: r.root, stdin: strings.NewReader(spec + "\n")}, "cat-file", "--batch")
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: %w", clean, rev, err)
	}
	br := bufio.NewReader(bytes.NewReader(out))
	header, err := br.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: unexpected output from git cat-file", clean, rev)
	}
	fields := strings.Fields(header)
	if len(fields) >= 2 && (fields[len(fields)-1] == "missing" || fields[len(fields)-1] == "ambiguous") {
		if _, err := r.RevParse(ctx, rev); err != nil {
			return nil, fmt.Errorf("reading %s: %w", clean, err)
		}
		return nil, fmt.Errorf("reading %s at %s: %w", clean, rev, ErrNotFound)
	}
	if len(fields) != 3 {
		return nil, fmt.Errorf("reading %s at %s: unexpected output from git cat-file: %q", clean, rev, header)
	}
	if fields[1] != "blob" {
		return nil, fmt.Errorf("reading %s at %s: is a %s, not a file", clean, rev, fields[1])
	}
	size, err := strconv.Atoi(fields[2])
	if err != nil || size < 0 {
		return nil, fmt.Errorf("reading %s at %s: unexpected output from git cat-file: %q", clean, rev, header)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(br, data); err != nil {
		return nil, fmt.Errorf("reading %s at %s: short output from git cat-file", clean, rev)
	}
	return data, nil
}

// IsAncestor reports whether commit a is an ancestor of (or equal to)
// commit b.
func (r *Repo) IsAncestor(ctx context.Context, a, b string) (bool, error) {
	if err := checkArg("revision", a); err != nil {
		return false, err
	}
	if err := checkArg("revision", b); err != nil {
		return false, err
	}
	_, err := r.git(ctx, "merge-base", "--is-ancestor", a, b)
	switch {
	case err == nil:
		return true, nil
	case exitCode(err) == 1:
		return false, nil
	default:
		return false, fmt.Errorf("checking whether %s is an ancestor of %s: %w", a, b, err)
	}
}

// LastCommitTouching returns the hash of the last commit reachable from rev
// that changed path (a file or a directory, taken literally, relative to the
// root), or ErrNotFound when none did.
func (r *Repo) LastCommitTouching(ctx context.Context, rev, p string) (string, error) {
	if err := checkArg("revision", rev); err != nil {
		return "", err
	}
	clean, err := cleanRepoPath(p)
	if err != nil {
		return "", err
	}
	out, err := git(ctx, cmdOpts{dir: r.root, env: []string{"GIT_LITERAL_PATHSPECS=1"}},
		"log", "-1", "--format=%H", "--end-of-options", rev, "--", clean)
	if err != nil {
		return "", fmt.Errorf("finding last commit touching %s at %s: %w", clean, rev, err)
	}
	h := strings.TrimSpace(string(out))
	if h == "" {
		return "", fmt.Errorf("finding last commit touching %s at %s: %w", clean, rev, ErrNotFound)
	}
	return h, nil
}

// FastForward fast-forwards the checked-out branch to refs/remotes/<remote>/<branch>
// with `git merge --ff-only`, but only when the checkout is on branch
// (ErrWrongBranch, ErrDetachedHead), is clean (ErrDirty) and the local
// branch is an ancestor of the remote-tracking one (ErrDiverged). It does
// not fetch. It reports whether HEAD moved.
func (r *Repo) FastForward(ctx context.Context, branch, remote string) (bool, error) {
	if err := r.RequireBranch(ctx, branch); err != nil {
		return false, fmt.Errorf("fast-forwarding %s: %w", branch, err)
	}
	if err := r.RequireClean(ctx); err != nil {
		return false, fmt.Errorf("fast-forwarding %s: %w", branch, err)
	}
	local, err := r.RevParse(ctx, "refs/heads/"+branch)
	if err != nil {
		return false, fmt.Errorf("fast-forwarding %s: %w", branch, err)
	}
	upstreamRef := "refs/remotes/" + remote + "/" + branch
	upstream, err := r.RevParse(ctx, upstreamRef)
	if err != nil {
		return false, fmt.Errorf("fast-forwarding %s: %w", branch, err)
	}
	if local == upstream {
		return false, nil
	}
	ok, err := r.IsAncestor(ctx, local, upstream)
	if err != nil {
		return false, fmt.Errorf("fast-forwarding %s: %w", branch, err)
	}
	if !ok {
		return false, fmt.Errorf("fast-forwarding %s to %s/%s: %w", branch, remote, branch, ErrDiverged)
	}
	if _, err := r.git(ctx, "merge", "--ff-only", "--quiet", "--no-stat", upstream); err != nil {
		return false, fmt.Errorf("fast-forwarding %s: %w", branch, err)
	}
	return true, nil
}

// Export writes the files of commit rev into dir (created when missing;
// existing files are overwritten), as a checkout would: through a private
// temporary index, so the repository's index and working tree are not
// touched, with the repository's checkout filters and line-ending rules.
func (r *Repo) Export(ctx context.Context, rev, dir string) error {
	commit, err := r.RevParse(ctx, rev)
	if err != nil {
		return fmt.Errorf("exporting %s: %w", rev, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("exporting %s: %w", rev, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("exporting %s: %w", rev, err)
	}
	tmp, err := os.MkdirTemp("", "kubectl-gitops-index-")
	if err != nil {
		return fmt.Errorf("exporting %s: %w", rev, err)
	}
	defer os.RemoveAll(tmp)
	o := cmdOpts{dir: r.root, env: []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index")}}
	if _, err := git(ctx, o, "read-tree", commit); err != nil {
		return fmt.Errorf("exporting %s: %w", rev, err)
	}
	prefix := filepath.ToSlash(abs)
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if _, err := git(ctx, o, "checkout-index", "--all", "--force", "--prefix="+prefix); err != nil {
		return fmt.Errorf("exporting %s into %s: %w", rev, dir, err)
	}
	return nil
}
