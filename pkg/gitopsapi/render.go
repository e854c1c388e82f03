package gitopsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
)

// ErrUnsupported is returned (wrapped) by Render for content it cannot
// build, such as a Helm chart.
var ErrUnsupported = errors.New("not supported")

var kustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// Render builds src's desired objects from root, the top of a checkout of
// its revision, as the operator does:
//
//   - a path with a kustomization file is built with kustomize (Argo CD:
//     loads restricted to the kustomization's directory, as its default
//     build options; Flux: unrestricted, as kustomize-controller, but never
//     outside root: the build reads a copy of root held in memory);
//   - a Flux path without one gets one generated, listing its .yaml/.yml
//     manifests and the subdirectories that have a kustomization file;
//   - an Argo CD path without one is read as a plain directory: .yaml, .yml
//     and .json files, and .jsonnet files evaluated with Directory.Jsonnet
//     (imports never leave root), subdirectories with Directory.Recurse,
//     filtered by Directory.Include and Exclude;
//   - the operator's own kustomize options edit the path's kustomization
//     before the build, as the operator does (Flux: Overlay; Argo CD:
//     ArgoKustomize, as its repo-server's kustomize edit commands);
//   - Argo CD resource hooks and objects marked Skip are left out (listed
//     as skipped), as Argo CD leaves them out of its comparison.
//   - Flux post-build variables (PostBuild, read by Load) are substituted
//     in the build's objects, before the Overlay's labels and annotations.
//
// Objects' sources name files relative to root ("apps/web/deploy.yaml:3")
// or, for a kustomize build, the path ("apps/web (kustomize)"). Tracking
// metadata is not added here: see Source.Track.
func Render(ctx context.Context, src *Source, root string) (*manifest.Set, error) {
	rel, err := gitsource.CleanPath(src.Path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, filepath.FromSlash(rel))
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("rendering %s: path %q is not a directory of the checkout", src.ID(), rel)
	}
	hasKustomization := kustomizationIn(dir) != ""
	var set *manifest.Set
	switch {
	case hasKustomization || src.Kustomize:
		set, err = renderKustomize(ctx, src, root, rel, !hasKustomization)
	case src.ArgoKustomize != nil:
		return nil, fmt.Errorf("rendering %s: spec.source.kustomize is set but %s has no kustomization file", src.ID(), rel)
	case exists(filepath.Join(dir, "Chart.yaml")):
		return nil, fmt.Errorf("rendering %s: %s is a Helm chart: %w", src.ID(), rel, ErrUnsupported)
	default:
		set, err = renderDirectory(ctx, src, root, rel)
	}
	if err != nil {
		return nil, err
	}
	if src.Operator == ArgoCD {
		dropArgoHooks(set)
	}
	return set, nil
}

func kustomizationIn(dir string) string {
	for _, name := range kustomizationFiles {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() {
			return name
		}
	}
	return ""
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

var manifestFile = regexp.MustCompile(`\.(yaml|yml|json|jsonnet)$`)

// renderDirectory reads an Argo CD directory source.
func renderDirectory(ctx context.Context, src *Source, root, rel string) (*manifest.Set, error) {
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", src.ID(), err)
	}
	// The path may be a symbolic link (inside the checkout: Fetch checks).
	dir, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", src.ID(), err)
	}
	include, err := compileGlob(src.Directory.Include)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: directory.include: %w", src.ID(), err)
	}
	exclude, err := compileGlob(src.Directory.Exclude)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: directory.exclude: %w", src.ID(), err)
	}
	var files, jsonnetFiles []string
	var skipped []manifest.Skipped
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && !src.Directory.Recurse {
				return filepath.SkipDir
			}
			return nil
		}
		if !manifestFile.MatchString(d.Name()) {
			return nil
		}
		r, _ := filepath.Rel(dir, p)
		r = filepath.ToSlash(r)
		if exclude != nil && exclude.MatchString(r) {
			return nil
		}
		if include != nil && !include.MatchString(r) {
			return nil
		}
		if strings.HasSuffix(d.Name(), ".jsonnet") {
			if src.Operator != ArgoCD {
				skipped = append(skipped, manifest.Skipped{Source: manifest.Source{File: relTo(root, p)}, Reason: "jsonnet is not evaluated"})
				return nil
			}
			jsonnetFiles = append(jsonnetFiles, p)
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", src.ID(), err)
	}
	set := &manifest.Set{}
	if len(files) > 0 {
		if set, err = manifest.Load(ctx, manifest.Options{Filenames: files}); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", src.ID(), relError(root, err))
		}
	}
	for i := range set.Objects {
		set.Objects[i].Source.File = relTo(root, set.Objects[i].Source.File)
	}
	for i := range set.Skipped {
		set.Skipped[i].Source.File = relTo(root, set.Skipped[i].Source.File)
	}
	set.Skipped = append(set.Skipped, skipped...)
	for _, f := range jsonnetFiles {
		js, err := evalJsonnet(ctx, src, root, dir, f)
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", src.ID(), err)
		}
		set.Objects = append(set.Objects, js.Objects...)
		set.Skipped = append(set.Skipped, js.Skipped...)
	}
	return set, nil
}

// relError rewrites the file names of manifest parse errors relative to
// root.
func relError(root string, err error) error {
	var errs []error
	collect := func(e error) {
		var pe *manifest.ParseError
		if errors.As(e, &pe) {
			c := *pe
			c.File = relTo(root, c.File)
			errs = append(errs, &c)
			return
		}
		errs = append(errs, errors.New(strings.ReplaceAll(e.Error(), root+string(filepath.Separator), "")))
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collect(e)
		}
	} else {
		collect(err)
	}
	return errors.Join(errs...)
}

func relTo(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

// renderKustomize builds rel with kustomize over an in-memory copy of root,
// generating a kustomization first when generate is set (Flux), and
// applying the source's overlay.
func renderKustomize(ctx context.Context, src *Source, root, rel string, generate bool) (*manifest.Set, error) {
	mem := filesys.MakeFsInMemory()
	if err := copyTree(ctx, root, mem); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", src.ID(), err)
	}
	target := path.Join("/", rel)
	var skipped []manifest.Skipped
	if generate {
		sk, err := generateKustomization(mem, target)
		if err != nil {
			return nil, fmt.Errorf("rendering %s: generating a kustomization for %s: %w", src.ID(), rel, err)
		}
		for _, s := range sk {
			skipped = append(skipped, manifest.Skipped{Source: manifest.Source{File: strings.TrimPrefix(s, "/")}, Reason: "no Kubernetes object in it"})
		}
	}
	if ov := src.Overlay; ov != nil && (ov.Namespace != "" || ov.NamePrefix != "" || ov.NameSuffix != "" || len(ov.Kustomization) > 0 || len(ov.Components) > 0) {
		if err := mergeFluxOverlay(mem, target, ov); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", src.ID(), err)
		}
	}
	if src.ArgoKustomize != nil {
		if err := editArgoKustomization(mem, target, src.ArgoKustomize, src.BuildEnv); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", src.ID(), err)
		}
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	if src.Operator == Flux {
		opts.LoadRestrictions = types.LoadRestrictionsNone
	}
	res, err := krusty.MakeKustomizer(opts).Run(mem, target)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: building %s with kustomize: %w", src.ID(), rel, err)
	}
	if src.PostBuild != nil {
		if err := src.PostBuild.substitute(ctx, res); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", src.ID(), err)
		}
	}
	out, err := res.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", src.ID(), err)
	}
	set, err := manifest.Load(ctx, manifest.Options{Filenames: []string{manifest.Stdin}, Stdin: bytes.NewReader(out)})
	if err != nil {
		return nil, fmt.Errorf("rendering %s: reading the kustomize output of %s: %w", src.ID(), rel, err)
	}
	for i := range set.Objects {
		set.Objects[i].Source = manifest.Source{File: rel, Kustomize: true}
		if ov := src.Overlay; ov != nil {
			for k, v := range ov.Labels {
				setLabel(set.Objects[i].Obj, k, v)
			}
			for k, v := range ov.Annotations {
				setAnnotation(set.Objects[i].Obj, k, v)
			}
		}
	}
	for i := range set.Skipped {
		set.Skipped[i].Source = manifest.Source{File: rel, Kustomize: true}
	}
	set.Skipped = append(skipped, set.Skipped...)
	return set, nil
}

// copyTree copies the regular files under root into mem at the same paths
// below "/", following symbolic links that stay inside root.
func copyTree(ctx context.Context, root string, mem filesys.FileSystem) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	var walk func(dir, to string, depth int) error
	walk = func(dir, to string, depth int) error {
		if depth > 40 {
			return fmt.Errorf("%s: too many levels of symbolic links", relTo(realRoot, dir))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := mem.MkdirAll(to); err != nil {
			return err
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p, dst := filepath.Join(dir, e.Name()), path.Join(to, e.Name())
			if e.Name() == ".git" && dir == realRoot {
				continue
			}
			real := p
			if e.Type()&fs.ModeSymlink != 0 {
				if real, err = filepath.EvalSymlinks(p); err != nil {
					continue // dangling: nothing to read
				}
				if r, err := filepath.Rel(realRoot, real); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
					return fmt.Errorf("symbolic link %s points outside the checkout", relTo(realRoot, p))
				}
			}
			fi, err := os.Stat(real)
			if err != nil {
				return err
			}
			switch {
			case fi.IsDir():
				if err := walk(real, dst, depth+1); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				data, err := os.ReadFile(real)
				if err != nil {
					return err
				}
				if err := mem.WriteFile(dst, data); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(realRoot, "/", 0)
}

// generateKustomization writes the kustomization Flux generates for a
// directory without one: its .yaml/.yml files holding Kubernetes objects and
// its subdirectories with a kustomization file (not descending into them),
// recursively. It returns the files left out.
func generateKustomization(mem filesys.FileSystem, dir string) ([]string, error) {
	var resources, skipped []string
	err := mem.Walk(dir, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			if p == dir {
				return nil
			}
			for _, k := range kustomizationFiles {
				if mem.Exists(path.Join(p, k)) && !mem.IsDir(path.Join(p, k)) {
					resources = append(resources, p)
					return filepath.SkipDir
				}
			}
			return nil
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := mem.ReadFile(p)
		if err != nil {
			return err
		}
		if !holdsObjects(data) {
			skipped = append(skipped, p)
			return nil
		}
		resources = append(resources, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(resources)
	rels := make([]string, 0, len(resources))
	for _, r := range resources {
		rels = append(rels, strings.TrimPrefix(strings.TrimPrefix(r, dir), "/"))
	}
	data, err := sigsyaml.Marshal(map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": rels,
	})
	if err != nil {
		return nil, err
	}
	return skipped, mem.WriteFile(path.Join(dir, "kustomization.yaml"), data)
}

// holdsObjects reports whether a YAML file has a document with an
// apiVersion and a kind.
func holdsObjects(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			return true // let kustomize report it
		}
		if doc["apiVersion"] != nil && doc["kind"] != nil {
			return true
		}
	}
}

// mergeFluxOverlay edits the kustomization of target as kustomize-controller
// does before its build (fluxcd/pkg/kustomize, Generator.GenerateManifest),
// rather than putting a kustomization on top: targetNamespace, namePrefix
// and nameSuffix replace the file's own, patches and components are
// appended to its own (so they apply before its namePrefix, and to the
// names it was given; with ignoreMissingComponents, components that do not
// exist are left out), and images merge with its own entry of the same
// name: newName replaced when set, newTag and digest replaced together.
func mergeFluxOverlay(mem filesys.FileSystem, target string, ov *Overlay) error {
	file := ""
	for _, name := range kustomizationFiles {
		if p := path.Join(target, name); mem.Exists(p) && !mem.IsDir(p) {
			file = p
			break
		}
	}
	if file == "" {
		return fmt.Errorf("%s has no kustomization file", strings.TrimPrefix(target, "/"))
	}
	data, err := mem.ReadFile(file)
	if err != nil {
		return err
	}
	k := map[string]any{}
	if err := sigsyaml.Unmarshal(data, &k); err != nil {
		return fmt.Errorf("reading %s: %w", strings.TrimPrefix(file, "/"), err)
	}
	if k == nil {
		k = map[string]any{}
	}
	for field, v := range map[string]string{"namespace": ov.Namespace, "namePrefix": ov.NamePrefix, "nameSuffix": ov.NameSuffix} {
		if v != "" {
			k[field] = v
		}
	}
	for key, v := range ov.Kustomization {
		switch key {
		case "images":
			k[key] = mergeFluxImages(k[key], v)
		case "patches":
			own, _ := k[key].([]any)
			add, _ := v.([]any)
			k[key] = append(own, add...)
		default:
			k[key] = v
		}
	}
	if len(ov.Components) > 0 {
		own, _ := k["components"].([]any)
		for _, c := range ov.Components {
			if ov.IgnoreMissingComponents && !mem.Exists(path.Join(target, c)) {
				continue
			}
			own = append(own, c)
		}
		k["components"] = own
	}
	out, err := sigsyaml.Marshal(k)
	if err != nil {
		return err
	}
	return mem.WriteFile(file, out)
}

// mergeFluxImages merges a Kustomization's spec.images into a
// kustomization's images as kustomize-controller does.
func mergeFluxImages(own, add any) []any {
	images, _ := own.([]any)
	adds, _ := add.([]any)
	for _, a := range adds {
		am, _ := a.(map[string]any)
		name, _ := am["name"].(string)
		i := slices.IndexFunc(images, func(e any) bool {
			em, _ := e.(map[string]any)
			return em != nil && em["name"] == name
		})
		if i < 0 {
			entry := map[string]any{"name": name}
			for _, f := range []string{"newName", "newTag", "digest"} {
				if v, _ := am[f].(string); v != "" {
					entry[f] = v
				}
			}
			images = append(images, entry)
			continue
		}
		em := images[i].(map[string]any)
		if v, _ := am["newName"].(string); v != "" {
			em["newName"] = v
		}
		tag, _ := am["newTag"].(string)
		digest, _ := am["digest"].(string)
		if tag != "" || digest != "" {
			delete(em, "newTag")
			delete(em, "digest")
			if tag != "" {
				em["newTag"] = tag
			}
			if digest != "" {
				em["digest"] = digest
			}
		}
	}
	return images
}

// compileGlob compiles an Argo CD directory include/exclude pattern: "*"
// matches any run of characters ("/" included), "?" one character,
// "[...]" a class, "{a,b}" alternatives. "" compiles to nil.
func compileGlob(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("^")
	depth := 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '*':
			b.WriteString(".*")
		case c == '?':
			b.WriteString(".")
		case c == '{':
			depth++
			b.WriteString("(?:")
		case c == '}' && depth > 0:
			depth--
			b.WriteString(")")
		case c == ',' && depth > 0:
			b.WriteString("|")
		case c == '[':
			j := strings.IndexByte(pattern[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("invalid pattern %q: unclosed [", pattern)
			}
			class := pattern[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j
		case c == '\\' && i+1 < len(pattern):
			i++
			b.WriteString(regexp.QuoteMeta(string(pattern[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("invalid pattern %q: unclosed {", pattern)
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
