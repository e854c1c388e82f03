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
// replaced atomically (pkg/safefile), with mode 0644.
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
	for i, c := range changes {
		if c.Action == Unchanged {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(c.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return changes, fmt.Errorf("creating directory for %s: %w", c.Path, err)
		}
		if err := safefile.WriteFile(p, files[i].Data, 0o644); err != nil {
			return changes, fmt.Errorf("writing %s: %w", c.Path, err)
		}
	}
	return changes, nil
}
