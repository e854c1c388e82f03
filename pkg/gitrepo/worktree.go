package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/safefile"
)

// Worktree is the temporary checkout a CommitAndPush edits. Paths are
// relative to its root, slash-separated; they may not leave the root (also
// not through a symbolic link) nor enter a .git directory. Only files
// written or removed through its methods are committed.
type Worktree struct {
	dir     string // absolute, symbolic links resolved
	base    string
	changed []string
	seen    map[string]bool
}

// Change is an edit of one file: Edit receives the current content (nil
// when the file does not exist) and returns the new one.
type Change struct {
	Path string
	Edit func(old []byte) ([]byte, error)
}

// Dir returns the worktree's root directory. Files written there directly
// are not committed; use WriteFile, Remove or Apply.
func (w *Worktree) Dir() string { return w.dir }

// Base returns the commit the worktree was checked out at.
func (w *Worktree) Base() string { return w.base }

// Changed returns the paths written or removed so far, in order.
func (w *Worktree) Changed() []string { return append([]string(nil), w.changed...) }

// resolve returns the path relative to the root (in git's form) and the
// absolute path of name, following symbolic links that stay inside the
// worktree.
func (w *Worktree) resolve(name string) (rel, abs string, err error) {
	clean, err := cleanRepoPath(name)
	if err != nil {
		return "", "", err
	}
	for _, part := range strings.Split(clean, "/") {
		if strings.EqualFold(part, ".git") {
			return "", "", fmt.Errorf("invalid path %q: inside .git", name)
		}
	}
	abs = filepath.Join(w.dir, filepath.FromSlash(clean))
	// Resolve the longest existing prefix, so a link to outside the
	// worktree (for example in the repository's content) cannot be
	// followed, while links inside it are.
	existing, rest := abs, ""
	for {
		if _, err := os.Lstat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		rest = filepath.Join(filepath.Base(existing), rest)
		existing = parent
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return "", "", fmt.Errorf("resolving %s: %w", clean, err)
	}
	real = filepath.Join(real, rest)
	r, err := filepath.Rel(w.dir, real)
	if err != nil || !filepath.IsLocal(r) {
		return "", "", fmt.Errorf("invalid path %q: resolves outside the worktree", name)
	}
	rel = filepath.ToSlash(r)
	for _, part := range strings.Split(rel, "/") {
		if strings.EqualFold(part, ".git") {
			return "", "", fmt.Errorf("invalid path %q: resolves inside .git", name)
		}
	}
	return rel, real, nil
}

// ReadFile returns the content of name; a missing file fails with an error
// matching fs.ErrNotExist.
func (w *Worktree) ReadFile(name string) ([]byte, error) {
	_, abs, err := w.resolve(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return data, nil
}

// WriteFile atomically replaces (or creates, with its directories) name
// with data, keeping the mode of an existing file.
func (w *Worktree) WriteFile(name string, data []byte) error {
	rel, abs, err := w.resolve(name)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	perm := fs.FileMode(0o644)
	if fi, err := os.Stat(abs); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("writing %s: not a regular file", name)
		}
		perm = fi.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := safefile.WriteFile(abs, data, perm); err != nil {
		return err
	}
	w.record(rel)
	return nil
}

// Remove deletes name; a missing file is not an error.
func (w *Worktree) Remove(name string) error {
	rel, abs, err := w.resolve(name)
	if err != nil {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	w.record(rel)
	return nil
}

// Apply runs the changes in order; a file whose content does not change is
// not written. It stops at the first error.
func (w *Worktree) Apply(changes ...Change) error {
	for _, c := range changes {
		if c.Edit == nil {
			return fmt.Errorf("editing %s: no edit function", c.Path)
		}
		old, err := w.ReadFile(c.Path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		data, err := c.Edit(old)
		if err != nil {
			return fmt.Errorf("editing %s: %w", c.Path, err)
		}
		if old != nil && bytes.Equal(old, data) {
			continue
		}
		if err := w.WriteFile(c.Path, data); err != nil {
			return err
		}
	}
	return nil
}

func (w *Worktree) record(rel string) {
	rel = path.Clean(rel)
	if w.seen[rel] {
		return
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	w.seen[rel] = true
	w.changed = append(w.changed, rel)
}
