package repolayout

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/safefile"
)

// Action is what writing does to one file.
type Action string

// Actions.
const (
	// Create: the file does not exist yet.
	Create Action = "create"
	// Unchanged: the file already has the generated content.
	Unchanged Action = "unchanged"
	// Overwrite: the file exists with other content (refused without Force).
	Overwrite Action = "overwrite"
)

// Change is the action for one file.
type Change struct {
	Path   string
	Action Action
}

// ConflictError lists the files that exist with other content; nothing was
// written.
type ConflictError struct {
	Paths []string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("refusing to overwrite %d changed file(s) (use --force): %s", len(e.Paths), strings.Join(e.Paths, ", "))
}

// Plan compares files with what dir holds, without writing. Paths in the
// result are slash-separated and relative to dir, in the order of files.
func Plan(dir string, files []File) ([]Change, error) {
	changes := make([]Change, 0, len(files))
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		old, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			changes = append(changes, Change{f.Path, Create})
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is said once
			}
			return nil, fmt.Errorf("reading %s: %w", p, err)
		case bytes.Equal(old, f.Data):
			changes = append(changes, Change{f.Path, Unchanged})
		default:
			changes = append(changes, Change{f.Path, Overwrite})
		}
	}
	return changes, nil
}

// WriteOptions control Write.
type WriteOptions struct {
	// Force overwrites files that exist with other content.
	Force bool
	// DryRun plans without writing.
	DryRun bool
}

// Write writes files under dir: new files are created, unchanged ones left
// alone, and files with other content overwritten only with Force; without
// it, a *ConflictError names them all and nothing is written. Each file is
// written with mode 0644.
//
// Writing is all or nothing: every new content is first written and synced
// to a temporary file beside its target (creating the directories it
// needs), and only when all of them are ready are they renamed over their
// targets. When any step fails, the files already renamed are removed or
// given back their old content, the temporary files and the directories
// created are removed, and the error says whether that rollback was whole.
func Write(dir string, files []File, opts WriteOptions) ([]Change, error) {
	changes, err := Plan(dir, files)
	if err != nil {
		return nil, err
	}
	var conflicts []string
	for _, c := range changes {
		if c.Action == Overwrite {
			conflicts = append(conflicts, c.Path)
		}
	}
	if len(conflicts) > 0 && !opts.Force {
		return changes, &ConflictError{Paths: conflicts}
	}
	if opts.DryRun {
		return changes, nil
	}
	var tx transaction
	for i, c := range changes {
		if c.Action == Unchanged {
			continue
		}
		if err := tx.stage(c.Path, filepath.Join(dir, filepath.FromSlash(c.Path)), files[i].Data); err != nil {
			return changes, tx.rollback(fmt.Errorf("writing %s: %w", c.Path, err))
		}
	}
	if err := tx.commit(); err != nil {
		return changes, tx.rollback(err)
	}
	return changes, nil
}

// staged is one file written to a temporary file, not yet renamed.
type staged struct {
	// rel is the target relative to the repository, for messages.
	rel, tmp, target string
	// existed says the target was a file before the rename: old and
	// oldMode are given back on rollback.
	existed bool
	old     []byte
	oldMode fs.FileMode
	renamed bool
}

// transaction writes a set of files all or nothing.
type transaction struct {
	files []*staged
	// dirs are the directories created, parents first.
	dirs []string
}

// mkdirAll creates dir and its missing parents, remembering them.
func (tx *transaction) mkdirAll(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s is not a directory", d)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		tx.dirs = append(tx.dirs, missing[i])
	}
	return nil
}

// stage writes data to a synced temporary file beside target.
func (tx *transaction) stage(rel, target string, data []byte) error {
	if err := tx.mkdirAll(filepath.Dir(target)); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return err
	}
	s := &staged{rel: rel, tmp: tmp.Name(), target: target}
	tx.files = append(tx.files, s)
	err = tmp.Chmod(0o644)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	return err
}

// commit renames every temporary file over its target.
func (tx *transaction) commit() error {
	for _, s := range tx.files {
		if st, err := os.Lstat(s.target); err == nil && st.Mode().IsRegular() {
			old, err := os.ReadFile(s.target)
			if err != nil {
				return fmt.Errorf("reading %s: %w", s.rel, err)
			}
			s.existed, s.old, s.oldMode = true, old, st.Mode().Perm()
		}
		if err := os.Rename(s.tmp, s.target); err != nil {
			return fmt.Errorf("writing %s: %w", s.rel, err)
		}
		s.renamed = true
	}
	// Persist the renames; a file system that cannot sync a directory
	// has renamed all the same.
	synced := map[string]bool{}
	for _, s := range tx.files {
		d := filepath.Dir(s.target)
		if synced[d] {
			continue
		}
		synced[d] = true
		if f, err := os.Open(d); err == nil {
			_ = f.Sync()
			_ = f.Close()
		}
	}
	return nil
}

// rollback undoes what the transaction did and returns cause, saying
// whether the directory is as it was.
func (tx *transaction) rollback(cause error) error {
	var failed []string
	for i := len(tx.files) - 1; i >= 0; i-- {
		s := tx.files[i]
		switch {
		case !s.renamed:
			if err := os.Remove(s.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
				failed = append(failed, s.tmp)
			}
		case s.existed:
			if err := safefile.WriteFile(s.target, s.old, s.oldMode); err != nil {
				failed = append(failed, s.target)
			}
		default:
			if err := os.Remove(s.target); err != nil && !errors.Is(err, fs.ErrNotExist) {
				failed = append(failed, s.target)
			}
		}
	}
	for i := len(tx.dirs) - 1; i >= 0; i-- {
		if err := os.Remove(tx.dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			failed = append(failed, tx.dirs[i])
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w; rolling back left %s as they are now", cause, strings.Join(failed, ", "))
	}
	return fmt.Errorf("%w; nothing was changed", cause)
}
