package jsonneteval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-jsonnet"
)

// Var is one top-level argument or external variable: a string, or Jsonnet
// code when Code is set.
type Var struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Code  bool   `json:"code,omitempty"`
}

// Request is one evaluation: File, inside Root, evaluated with its TLAs and
// external variables; imports are searched in the importing file's
// directory, then in Paths (the last first). Nothing outside Root is read.
type Request struct {
	Root    string   `json:"root"`
	File    string   `json:"file"`
	Paths   []string `json:"paths,omitempty"`
	TLAs    []Var    `json:"tlas,omitempty"`
	ExtVars []Var    `json:"extVars,omitempty"`
}

// vm makes the VM of a request.
func (r *Request) vm() *jsonnet.VM {
	vm := jsonnet.MakeVM()
	for _, v := range r.TLAs {
		if v.Code {
			vm.TLACode(v.Name, v.Value)
		} else {
			vm.TLAVar(v.Name, v.Value)
		}
	}
	for _, v := range r.ExtVars {
		if v.Code {
			vm.ExtCode(v.Name, v.Value)
		} else {
			vm.ExtVar(v.Name, v.Value)
		}
	}
	vm.Importer(&rootImporter{root: r.Root, paths: r.Paths, cache: map[string]*importEntry{}})
	return vm
}

// evaluate runs the request in this process: the code the worker runs,
// and the whole evaluation where there is no worker.
func (r *Request) evaluate() (string, error) {
	out, err := r.vm().EvaluateFile(r.File)
	if err != nil {
		return "", errors.New(strings.ReplaceAll(err.Error(), r.Root+string(filepath.Separator), ""))
	}
	return out, nil
}

// Inside reports whether p (cleaned, symbolic links not resolved) is root
// or below it.
func Inside(root, p string) bool {
	r, err := filepath.Rel(root, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

// relTo is p relative to root, with slashes.
func relTo(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

// rootImporter is go-jsonnet's FileImporter confined to root: an import
// that names, or resolves through symbolic links to, a file outside the
// checkout is an error, never read.
type rootImporter struct {
	root  string // symbolic links resolved
	paths []string
	cache map[string]*importEntry
}

type importEntry struct {
	contents jsonnet.Contents
	exists   bool
	err      error
}

func (im *rootImporter) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	dirs := []string{filepath.Dir(importedFrom)}
	for i := len(im.paths) - 1; i >= 0; i-- {
		dirs = append(dirs, im.paths[i])
	}
	if filepath.IsAbs(importedPath) {
		dirs = []string{""}
	}
	for _, d := range dirs {
		p := filepath.Clean(filepath.Join(d, importedPath))
		e := im.read(p)
		if e.err != nil {
			return jsonnet.Contents{}, "", e.err
		}
		if e.exists {
			return e.contents, p, nil
		}
	}
	return jsonnet.Contents{}, "", fmt.Errorf("couldn't open import %q: no match locally or in the Jsonnet library paths", importedPath)
}

func (im *rootImporter) read(p string) *importEntry {
	if e, ok := im.cache[p]; ok {
		return e
	}
	e := &importEntry{}
	im.cache[p] = e
	if !Inside(im.root, p) {
		e.err = fmt.Errorf("import %s: outside the repository", relTo(im.root, p))
		return e
	}
	real, err := filepath.EvalSymlinks(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return e
	case err != nil:
		e.err = fmt.Errorf("import %s: %w", relTo(im.root, p), err)
		return e
	case !Inside(im.root, real):
		e.err = fmt.Errorf("import %s: symbolic link to outside the repository", relTo(im.root, p))
		return e
	}
	data, err := os.ReadFile(real)
	if err != nil {
		e.err = fmt.Errorf("import %s: %w", relTo(im.root, p), err)
		return e
	}
	e.exists, e.contents = true, jsonnet.MakeContentsRaw(data)
	return e
}
