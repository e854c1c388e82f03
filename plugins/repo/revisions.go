package repo

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
)

// commitRE matches an abbreviated or full commit hash.
var commitRE = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// maxRevisionBytes bounds the archive of another revision read for the
// graph (it is held in memory and written to a temporary directory).
const maxRevisionBytes = 256 << 20

// checkout is what git says about the repository at PATH: the URL of its
// origin remote (this repository's URL), the revisions its files on disk
// stand for (the branch checked out, and origin's default branch), and how
// to read another revision of it.
type checkout struct {
	dir    string // PATH
	prefix string // PATH below the work tree's top, "" or "a/b/"
	// URL is origin's fetch URL, "" when there is none.
	URL string
	// Revisions are the branch checked out and origin's default branch.
	Revisions []string

	ctx context.Context
	tmp string
}

// gitCheckout inspects the git work tree holding dir; nil when dir is not in
// one (or git is missing).
func gitCheckout(ctx context.Context, dir string) (*checkout, error) {
	if !gitrepo.Installed() {
		return nil, nil
	}
	run := func(args ...string) (string, error) {
		out, err := gitrepo.Run(ctx, gitrepo.RunOptions{Dir: dir}, args...)
		return strings.TrimSpace(string(out)), err
	}
	if out, err := run("rev-parse", "--is-inside-work-tree"); err != nil || out != "true" {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("reading the git work tree: %w", ctx.Err())
		}
		return nil, nil
	}
	c := &checkout{dir: dir, ctx: ctx}
	c.prefix, _ = run("rev-parse", "--show-prefix")
	c.URL, _ = run("config", "--get", "remote.origin.url")
	if b, err := run("symbolic-ref", "--quiet", "--short", "HEAD"); err == nil && b != "" {
		c.Revisions = append(c.Revisions, b)
	}
	if d, err := run("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"); err == nil && d != "" {
		c.Revisions = append(c.Revisions, strings.TrimPrefix(d, "origin/"))
	} else {
		// No default branch known: the usual names stand for it.
		c.Revisions = append(c.Revisions, repograph.DefaultRevisions...)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("reading the git work tree: %w", ctx.Err())
	}
	return c, nil
}

// read implements repograph.Options.ReadRevision: the revision as a local
// branch, a remote-tracking branch of origin or a tag, extracted from git
// into a temporary directory and scanned; nil when there is no such ref.
func (c *checkout) read(rev string) (*repograph.Repo, error) {
	if rev == "" || strings.HasPrefix(rev, "-") || strings.ContainsAny(rev, " \t\n\r\x00:^~?*[\\") || strings.Contains(rev, "..") {
		return nil, nil // not a ref name git would have
	}
	var sha string
	refs := []string{"refs/heads/" + rev, "refs/remotes/origin/" + rev, "refs/tags/" + rev}
	if commitRE.MatchString(rev) {
		refs = append(refs, rev) // a commit (Argo CD's targetRevision, Flux's ref.commit)
	}
	for _, ref := range refs {
		out, err := gitrepo.Run(c.ctx, gitrepo.RunOptions{Dir: c.dir}, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
		if err == nil {
			sha = strings.TrimSpace(string(out))
			break
		}
		if c.ctx.Err() != nil {
			return nil, fmt.Errorf("reading revision %s: %w", rev, c.ctx.Err())
		}
	}
	if sha == "" {
		return nil, nil
	}
	if c.tmp == "" {
		tmp, err := os.MkdirTemp("", "kubectl-gitops-repo-")
		if err != nil {
			return nil, fmt.Errorf("reading revision %s: %w", rev, err)
		}
		c.tmp = tmp
	}
	dir, err := os.MkdirTemp(c.tmp, "rev-")
	if err != nil {
		return nil, fmt.Errorf("reading revision %s: %w", rev, err)
	}
	tree := sha
	if c.prefix != "" {
		tree += ":" + strings.TrimSuffix(c.prefix, "/")
	}
	out, err := gitrepo.Run(c.ctx, gitrepo.RunOptions{Dir: c.dir}, "archive", "--format=tar", tree)
	if err != nil {
		// The revision has no PATH (it was added later): nothing there.
		if c.ctx.Err() != nil {
			return nil, fmt.Errorf("reading revision %s: %w", rev, c.ctx.Err())
		}
		return nil, nil
	}
	if len(out) > maxRevisionBytes {
		return nil, fmt.Errorf("reading revision %s: larger than %d MiB", rev, maxRevisionBytes>>20)
	}
	if err := extractTar(dir, out); err != nil {
		return nil, fmt.Errorf("reading revision %s: %w", rev, err)
	}
	r, err := repograph.Scan(dir, nil)
	if err != nil {
		return nil, fmt.Errorf("reading revision %s: %w", rev, err)
	}
	return r, nil
}

// extractTar writes the regular files of a tar archive (git archive) under
// dir, through an os.Root: links and other entries are left out.
func extractTar(dir string, data []byte) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }()
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		if name == "." || strings.HasPrefix(name, "../") || path.IsAbs(name) {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(filepath.FromSlash(name), 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := root.MkdirAll(filepath.FromSlash(path.Dir(name)), 0o755); err != nil {
				return err
			}
			f, err := root.OpenFile(filepath.FromSlash(name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// close removes the revisions read.
func (c *checkout) close() {
	if c != nil && c.tmp != "" {
		_ = os.RemoveAll(c.tmp)
	}
}

// graphOptions are the repograph options for PATH (root): urls given
// (flags, .gitops/lint.yaml), the OCI artifacts --repo-override says are
// pushed from its directories, and, in a git work tree, origin's URL, the
// revisions checked out, and other revisions read from git.
func (c *checkout) graphOptions(urls []string, root string, overrides []string) repograph.Options {
	opts := repograph.Options{RepoURLs: urls, Artifacts: artifactDirs(root, overrides)}
	if c == nil {
		return opts
	}
	if c.URL != "" {
		opts.RepoURLs = append(opts.RepoURLs, c.URL)
	}
	opts.Revisions = c.Revisions
	opts.ReadRevision = c.read
	return opts
}

// repoOverrideUsage is the help of repo graph's and lint's --repo-override.
const repoOverrideUsage = "An OCI artifact built from this repository: an OCIRepository whose spec.url is ORIGINAL_URL (oci://…) reads the Kustomization's path from DIR, the directory of PATH it is pushed from (flux push artifact --path DIR), ORIGINAL_URL=DIR (as drift's --repo-override; an ORIGINAL_URL ending in / maps every URL it starts; repeatable)"

// artifactDirs maps an OCIRepository's URL to the directory of the
// repository at root its artifact is pushed from, as --repo-override
// ORIGINAL_URL=DIR says (DIR relative to root, or absolute or file://
// inside it); nil without overrides. URLs mapped to anything else (a
// registry) or outside root are not followed.
func artifactDirs(root string, overrides []string) func(string) (string, bool) {
	if len(overrides) == 0 {
		return nil
	}
	return func(url string) (string, bool) {
		to := gitrepo.OverrideURL(overrides, url)
		if to == url || !strings.HasPrefix(url, "oci://") {
			return "", false
		}
		to = strings.TrimPrefix(to, "file://")
		if strings.Contains(to, "://") {
			return "", false
		}
		p := filepath.FromSlash(to)
		if filepath.IsAbs(p) {
			absRoot, err := filepath.Abs(root)
			if err != nil {
				return "", false
			}
			if p, err = filepath.Rel(absRoot, p); err != nil {
				return "", false
			}
		}
		dir, ok := repograph.Resolve(".", filepath.ToSlash(p))
		return dir, ok
	}
}
