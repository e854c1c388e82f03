package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"sigs.k8s.io/kustomize/api/konfig"
)

// fileExtensions are the files kubectl reads in a directory (cli-runtime's
// resource.FileExtensions); the match is case-sensitive, as there.
var fileExtensions = []string{".json", ".yaml", ".yml"}

// input is one file to read, or a kustomization file to report as skipped.
type input struct {
	path string
	skip string // reason, when the file is not read
}

// expand turns one -f name into files: a directory is walked in lexical
// order (subdirectories only when recursive), any other name is kept as
// given. A name that cannot be found is recorded as an error.
func (l *loader) expand(name string, recursive bool) []input {
	if name == Stdin {
		return []input{{path: name}}
	}
	info, err := os.Stat(name)
	if err != nil {
		l.errs = append(l.errs, pathError(name, err))
		return nil
	}
	if !info.IsDir() {
		return []input{{path: name, skip: kustomizationReason(name)}}
	}
	var out []input
	err = filepath.WalkDir(name, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			l.errs = append(l.errs, pathError(path, err))
			return nil // a directory that cannot be listed is skipped
		}
		if d.IsDir() {
			if path != name && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if reason := kustomizationReason(path); reason != "" {
			out = append(out, input{path: path, skip: reason})
			return nil
		}
		if slices.Contains(fileExtensions, filepath.Ext(path)) {
			out = append(out, input{path: path})
		}
		return nil
	})
	if err != nil { // only from the callback, which returns none
		l.errs = append(l.errs, pathError(name, err))
	}
	return out
}

// kustomizationReason returns why path is skipped when its name is one
// kustomize reads as a kustomization file, or "" otherwise.
func kustomizationReason(path string) string {
	if !slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(path)) {
		return ""
	}
	return fmt.Sprintf("kustomization file, not a cluster object: build it with -k %s", filepath.Dir(path))
}

// readFile reads path, or stdin for "-".
func readFile(path string, stdin io.Reader) ([]byte, error) {
	if path == Stdin {
		if stdin == nil {
			return nil, errors.New("reading -: no standard input was given")
		}
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading -: %w", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	return data, nil
}

// pathError names path once: "reading a.yaml: no such file or directory"
// rather than repeating it from the *fs.PathError. errors.Is still sees
// fs.ErrNotExist and the like through the wrapped errno.
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = pe.Err
	}
	return fmt.Errorf("reading %s: %w", path, err)
}
