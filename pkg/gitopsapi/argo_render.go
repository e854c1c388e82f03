package gitopsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-jsonnet"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
)

// Jsonnet holds the options of an Argo CD directory source's .jsonnet files
// (spec.source.directory.jsonnet).
type Jsonnet struct {
	// TLAs and ExtVars are top-level arguments and external variables:
	// strings, or Jsonnet code when Code is set. Their values may name the
	// build environment ($ARGOCD_APP_NAME…, see Source.BuildEnv).
	TLAs    []JsonnetVar
	ExtVars []JsonnetVar
	// Libs are library directories relative to the repository's top,
	// searched after the source path.
	Libs []string
}

// JsonnetVar is one top-level argument or external variable.
type JsonnetVar struct {
	Name  string
	Value string
	Code  bool
}

// dropArgoHooks removes what Argo CD leaves out of its comparison from an
// Argo CD source's objects: resource hooks (argocd.argoproj.io/hook,
// helm.sh/hook) and objects marked argocd.argoproj.io/hook: Skip. They are
// listed as skipped.
func dropArgoHooks(set *manifest.Set) {
	kept := set.Objects[:0]
	for _, o := range set.Objects {
		hook, skip := compare.ArgoHookOf(o.Obj)
		switch {
		case hook:
			what := o.Obj.GetAnnotations()[compare.ArgoHook]
			if what == "" {
				what = "Helm " + o.Obj.GetAnnotations()[compare.HelmHook]
			}
			set.Skipped = append(set.Skipped, manifest.Skipped{Source: o.Source, Reason: "Argo CD " + what + " hook " + objName(o) + ": not compared, as Argo CD does not compare hooks"})
		case skip:
			set.Skipped = append(set.Skipped, manifest.Skipped{Source: o.Source, Reason: objName(o) + " is marked argocd.argoproj.io/hook: Skip: Argo CD does not apply it"})
		default:
			kept = append(kept, o)
		}
	}
	set.Objects = kept
}

func objName(o manifest.Object) string {
	name := o.Obj.GetName()
	if name == "" {
		name = o.Obj.GetGenerateName() + "*"
	}
	return o.Obj.GetKind() + "/" + name
}

// unknownBuildEnv are the variables of Argo CD's build environment that the
// Application does not tell: the revision (known once fetched: see
// Source.SetRevisionEnv) and the cluster's version.
var unknownBuildEnv = map[string]bool{
	"ARGOCD_APP_REVISION": true, "ARGOCD_APP_REVISION_SHORT": true, "ARGOCD_APP_REVISION_SHORT_8": true,
	"KUBE_VERSION": true, "KUBE_API_VERSIONS": true,
}

// SetRevisionEnv adds the fetched commit to the build environment
// ($ARGOCD_APP_REVISION and its short forms), as Argo CD does.
func (s *Source) SetRevisionEnv(commit string) {
	if s.BuildEnv == nil {
		s.BuildEnv = map[string]string{}
	}
	s.BuildEnv["ARGOCD_APP_REVISION"] = commit
	s.BuildEnv["ARGOCD_APP_REVISION_SHORT"] = commit[:min(7, len(commit))]
	s.BuildEnv["ARGOCD_APP_REVISION_SHORT_8"] = commit[:min(8, len(commit))]
}

// envsubst expands $VAR and ${VAR} from env as Argo CD does ("$$" is "$",
// unknown names are ""). It fails on the variables drift does not know.
func envsubst(s string, env map[string]string) (string, error) {
	var missing string
	out := os.Expand(s, func(name string) string {
		if name == "$" {
			return "$"
		}
		if _, known := env[name]; unknownBuildEnv[name] && !known && missing == "" {
			missing = name
		}
		return env[name]
	})
	if missing != "" {
		return "", fmt.Errorf("build environment variable $%s: %w", missing, ErrUnsupported)
	}
	return out, nil
}

// jsonnetVM makes the VM Argo CD evaluates a source's .jsonnet files with:
// its TLAs and external variables, imports searched in the importing file's
// directory, then the libraries (last first), then the source path. Unlike
// Argo CD's, imports never read outside root.
func jsonnetVM(src *Source, root, dir string) (*jsonnet.VM, error) {
	vm := jsonnet.MakeVM()
	j := src.Directory.Jsonnet
	if j == nil {
		j = &Jsonnet{}
	}
	for _, v := range j.TLAs {
		val, err := envsubst(v.Value, src.BuildEnv)
		if err != nil {
			return nil, fmt.Errorf("jsonnet tla %s: %w", v.Name, err)
		}
		if v.Code {
			vm.TLACode(v.Name, val)
		} else {
			vm.TLAVar(v.Name, val)
		}
	}
	for _, v := range j.ExtVars {
		val, err := envsubst(v.Value, src.BuildEnv)
		if err != nil {
			return nil, fmt.Errorf("jsonnet extVar %s: %w", v.Name, err)
		}
		if v.Code {
			vm.ExtCode(v.Name, val)
		} else {
			vm.ExtVar(v.Name, val)
		}
	}
	paths := []string{dir}
	for _, lib := range j.Libs {
		p := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(lib, "/")))
		if !inside(root, p) {
			return nil, fmt.Errorf("jsonnet lib %q is outside the repository", lib)
		}
		paths = append(paths, p)
	}
	vm.Importer(&rootImporter{root: root, paths: paths, cache: map[string]*importEntry{}})
	return vm, nil
}

// inside reports whether p (cleaned, symbolic links not resolved) is root
// or below it.
func inside(root, p string) bool {
	r, err := filepath.Rel(root, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
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
	if !inside(im.root, p) {
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
	case !inside(im.root, real):
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

// evalJsonnet evaluates one .jsonnet file of an Argo CD directory source and
// returns its objects as Argo CD reads them: an array is a list of objects
// (Lists among them flattened by manifest.Load), anything else one object.
func evalJsonnet(ctx context.Context, src *Source, root, dir, file string) (*manifest.Set, error) {
	vm, err := jsonnetVM(src, root, dir)
	if err != nil {
		return nil, err
	}
	type result struct {
		out string
		err error
	}
	// go-jsonnet cannot be interrupted: an evaluation that does not end is
	// left behind when ctx ends.
	done := make(chan result, 1)
	go func() {
		out, err := vm.EvaluateFile(file)
		done <- result{out, err}
	}()
	var r result
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r = <-done:
	}
	if r.err != nil {
		return nil, fmt.Errorf("evaluating jsonnet %s: %s", relTo(root, file), strings.ReplaceAll(r.err.Error(), root+string(filepath.Separator), ""))
	}
	var docs []json.RawMessage
	if err := json.Unmarshal([]byte(r.out), &docs); err != nil {
		docs = []json.RawMessage{json.RawMessage(r.out)}
	}
	var stream bytes.Buffer
	for _, d := range docs {
		var obj map[string]any
		if err := json.Unmarshal(d, &obj); err != nil {
			return nil, fmt.Errorf("evaluating jsonnet %s: the result is not an object or an array of objects", relTo(root, file))
		}
		stream.WriteString("---\n")
		stream.Write(d)
		stream.WriteString("\n")
	}
	set, err := manifest.Load(ctx, manifest.Options{Filenames: []string{manifest.Stdin}, Stdin: &stream})
	if err != nil {
		return nil, fmt.Errorf("reading the output of jsonnet %s: %w", relTo(root, file), err)
	}
	for i := range set.Objects {
		set.Objects[i].Source = manifest.Source{File: relTo(root, file) + " (jsonnet)"}
	}
	for i := range set.Skipped {
		set.Skipped[i].Source = manifest.Source{File: relTo(root, file) + " (jsonnet)"}
	}
	return set, nil
}
