package repograph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/konfig"
)

// Object is a Kubernetes object (a YAML document with apiVersion and kind)
// in one of the repository's files.
type Object struct {
	// File is slash-separated, relative to the repository root.
	File string
	// Line is where the document's mapping starts (1-based).
	Line       int
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// Node is the document's mapping, for callers that need the line of a
	// field (Field, Lookup).
	Node *yaml.Node
}

// Group is the API group of the object's apiVersion ("" for core).
func (o *Object) Group() string {
	g, _, ok := strings.Cut(o.APIVersion, "/")
	if !ok {
		return ""
	}
	return g
}

// Ref is one entry of a kustomization list (resources, components) or a
// path field, with its line.
type Ref struct {
	Value string
	Line  int
}

// Image is one entry of a kustomization's images list.
type Image struct {
	Name, NewName, NewTag, Digest string
	Line                          int
	// TagLine is the line of newTag (Line when absent).
	TagLine int
}

// Kustomization is a kustomization file of the repository.
type Kustomization struct {
	// Dir is the directory (slash-separated, "." for the root) and File the
	// kustomization file in it.
	Dir, File  string
	Resources  []Ref
	Components []Ref
	// Patches are the files its patches name (patches[].path,
	// patchesStrategicMerge, patchesJson6902[].path): partial objects
	// kustomize merges into its resources, not objects of their own.
	Patches []Ref
	// Namespace is the kustomization's namespace field: kustomize sets it
	// on every namespaced object the kustomization builds.
	Namespace string
	Images    []Image
	Node      *yaml.Node
}

// FileError is a file that could not be read as YAML.
type FileError struct {
	File string
	Line int
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Repo is what Scan found.
type Repo struct {
	// Root is the repository's directory on disk.
	Root string
	// Files are the YAML files scanned, sorted.
	Files []string
	// Objects are in file order, then document order.
	Objects []*Object
	// Kustomizations by directory.
	Kustomizations map[string]*Kustomization
	// Errors are files that could not be parsed (they have no objects).
	Errors []*FileError
	// Skipped are directories left out: Helm charts (their templates are
	// not YAML).
	Skipped []string
	// Patches are the documents of patch files (files a kustomization names
	// only as patches, never as resources): kept out of Objects.
	Patches []*Object
}

// IsKustomizationFile reports whether name is a file name kustomize reads
// as a kustomization.
func IsKustomizationFile(name string) bool {
	return slices.Contains(konfig.RecognizedKustomizationFileNames(), path.Base(name))
}

// isYAML reports whether the file is scanned.
func isYAML(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml" || IsKustomizationFile(name)
}

// hidden reports whether a slash path has a component starting with a dot
// (.git, .github, .gitops, .sops.yaml): configuration, not manifests.
func hidden(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if strings.HasPrefix(c, ".") && c != "." && c != ".." {
			return true
		}
	}
	return false
}

// Scan reads the repository at root. files, when not nil, are the files to
// consider (slash-separated, relative to root, e.g. from git ls-files);
// otherwise root is walked. Hidden files and directories and Helm charts are
// left out. Files that are not valid YAML are reported in Errors, not as an
// error; the error is for a repository that cannot be read at all.
func Scan(root string, files []string) (*Repo, error) {
	r := &Repo{Root: root, Kustomizations: map[string]*Kustomization{}}
	if files == nil {
		var err error
		if files, err = walk(root); err != nil {
			return nil, err
		}
	}
	charts := map[string]bool{}
	for _, f := range files {
		if path.Base(f) == "Chart.yaml" {
			charts[path.Dir(f)] = true
		}
	}
	for d := range charts {
		r.Skipped = append(r.Skipped, d)
	}
	slices.Sort(r.Skipped)
	for _, f := range files {
		f = path.Clean(filepath.ToSlash(f))
		if !isYAML(f) || hidden(f) || inChart(f, charts) {
			continue
		}
		r.Files = append(r.Files, f)
	}
	slices.Sort(r.Files)
	r.Files = slices.Compact(r.Files)
	// Files are read inside root only: a symbolic link that is dangling or
	// leads out of the repository is left out, not followed (the secret
	// check of repo lint warns about it).
	rt, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", root, err)
	}
	defer func() { _ = rt.Close() }()
	kept := r.Files[:0]
	for _, f := range r.Files {
		data, err := rt.ReadFile(filepath.FromSlash(f))
		if err != nil {
			if fi, lerr := rt.Lstat(filepath.FromSlash(f)); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
				continue
			}
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		kept = append(kept, f)
		r.parse(f, data)
	}
	r.Files = kept
	r.separatePatches()
	r.inheritNamespaces()
	return r, nil
}

// inheritNamespaces gives the operators' objects (Argo CD and Flux kinds,
// all namespaced) the namespace kustomize sets on them: the namespace field
// of the outermost kustomization that includes their file and sets one
// (kustomize's namespace transformer overrides the written namespace, and
// an including kustomization's runs last). When the kustomizations that
// include a file disagree, the object keeps its namespace as written.
func (r *Repo) inheritNamespaces() {
	includers := map[string][]string{} // file or directory → kustomization dirs listing it
	for d, k := range r.Kustomizations {
		for _, ref := range k.Resources {
			if !IsLocal(ref.Value) {
				continue
			}
			if p, ok := Resolve(d, ref.Value); ok && p != d {
				includers[p] = append(includers[p], d)
			}
		}
	}
	// outer returns the namespaces the chains from kustomization dir d
	// upwards end with (the outermost namespace set on each chain).
	var outer func(d string, seen map[string]bool) map[string]bool
	outer = func(d string, seen map[string]bool) map[string]bool {
		out := map[string]bool{}
		if seen[d] {
			return out
		}
		seen[d] = true
		defer delete(seen, d)
		own := r.Kustomizations[d].Namespace
		for _, up := range includers[d] {
			for ns := range outer(up, seen) {
				if ns == "" {
					ns = own
				}
				out[ns] = true
			}
		}
		if len(includers[d]) == 0 {
			out[own] = true
		}
		return out
	}
	for _, o := range r.Objects {
		g := o.Group()
		if g != argoGroup && !strings.HasSuffix(g, ".toolkit.fluxcd.io") && !strings.HasSuffix(g, ".extensions.fluxcd.io") {
			continue
		}
		found := map[string]bool{}
		for _, d := range includers[o.File] {
			for ns := range outer(d, map[string]bool{}) {
				found[ns] = true
			}
		}
		if len(found) != 1 {
			continue
		}
		for ns := range found {
			if ns != "" {
				o.Namespace = ns
			}
		}
	}
}

// separatePatches moves the documents of patch files out of Objects: a
// patch file in an overlay (a Flux Kustomization with only spec.path, a
// HelmRelease with only its values) is not an object of its own. A file
// some kustomization also lists as a resource stays an object.
func (r *Repo) separatePatches() {
	patch, resource := map[string]bool{}, map[string]bool{}
	for d, k := range r.Kustomizations {
		for _, ref := range k.Patches {
			if p, ok := Resolve(d, ref.Value); ok {
				patch[p] = true
			}
		}
		for _, ref := range k.Resources {
			if p, ok := Resolve(d, ref.Value); ok {
				resource[p] = true
			}
		}
	}
	kept := r.Objects[:0]
	for _, o := range r.Objects {
		if patch[o.File] && !resource[o.File] {
			r.Patches = append(r.Patches, o)
			continue
		}
		kept = append(kept, o)
	}
	r.Objects = kept
}

func inChart(f string, charts map[string]bool) bool {
	for d := path.Dir(f); ; d = path.Dir(d) {
		if charts[d] {
			return true
		}
		if d == "." || d == "/" {
			return false
		}
	}
}

func walk(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	return out, nil
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// parserProblems are the messages of yaml.v3's parser errors (parserc.go),
// as opposed to its scanner errors. For a parser error yaml.v3 prints the
// 0-based line of the construct being parsed (or of the problem), where a
// scanner error's line is 1-based: a flow sequence left open on line 6 is
// reported at "line 5".
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected node content",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found duplicate %TAG directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// parserProblem reports whether a yaml.v3 error message (without "yaml:"
// and line) is a parser error, whose line is 0-based.
func parserProblem(msg string) bool {
	return slices.Contains(parserProblems, msg)
}

func (r *Repo) parse(file string, data []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
				line, _ = strconv.Atoi(m[1])
			}
			msg := strings.TrimPrefix(err.Error(), "yaml: ")
			msg = lineRE.ReplaceAllString(msg, "")
			msg = strings.TrimLeft(msg, ": ")
			if line > 0 && parserProblem(msg) {
				line++
			}
			r.Errors = append(r.Errors, &FileError{File: file, Line: line, Err: errors.New(msg)})
			return
		}
		docs = append(docs, &doc)
	}
	for _, doc := range docs {
		if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := doc.Content[0]
		o := &Object{File: file, Line: m.Line, Node: m,
			APIVersion: scalar(Lookup(m, "apiVersion")), Kind: scalar(Lookup(m, "kind")),
			Name: scalar(Lookup(m, "metadata", "name")), Namespace: scalar(Lookup(m, "metadata", "namespace"))}
		if IsKustomizationFile(file) {
			r.addKustomization(file, m)
			continue
		}
		if o.APIVersion == "" || o.Kind == "" {
			continue
		}
		if o.Group() == "kustomize.config.k8s.io" {
			continue // a Component or kustomization under another name
		}
		r.Objects = append(r.Objects, o)
	}
}

func (r *Repo) addKustomization(file string, m *yaml.Node) {
	k := &Kustomization{Dir: path.Dir(file), File: file, Node: m}
	refs := func(key string) []Ref {
		var out []Ref
		if l := Lookup(m, key); l != nil && l.Kind == yaml.SequenceNode {
			for _, it := range l.Content {
				if it.Kind == yaml.ScalarNode {
					out = append(out, Ref{Value: it.Value, Line: it.Line})
				}
			}
		}
		return out
	}
	k.Resources = append(refs("resources"), refs("bases")...)
	k.Components = refs("components")
	k.Namespace = scalar(Lookup(m, "namespace"))
	// Patch files: patches and patchesJson6902 entries with a path, and
	// patchesStrategicMerge entries that are file names (not inline YAML).
	for _, key := range []string{"patches", "patchesJson6902"} {
		if l := Lookup(m, key); l != nil && l.Kind == yaml.SequenceNode {
			for _, it := range l.Content {
				if p := Lookup(it, "path"); p != nil && p.Kind == yaml.ScalarNode && p.Value != "" {
					k.Patches = append(k.Patches, Ref{Value: p.Value, Line: p.Line})
				}
			}
		}
	}
	for _, ref := range refs("patchesStrategicMerge") {
		if !strings.ContainsAny(ref.Value, "\n:") {
			k.Patches = append(k.Patches, ref)
		}
	}
	if l := Lookup(m, "images"); l != nil && l.Kind == yaml.SequenceNode {
		for _, it := range l.Content {
			if it.Kind != yaml.MappingNode {
				continue
			}
			img := Image{Name: scalar(Lookup(it, "name")), NewName: scalar(Lookup(it, "newName")),
				NewTag: scalar(Lookup(it, "newTag")), Digest: scalar(Lookup(it, "digest")), Line: it.Line, TagLine: it.Line}
			if t := Lookup(it, "newTag"); t != nil {
				img.TagLine = t.Line
			}
			k.Images = append(k.Images, img)
		}
	}
	r.Kustomizations[k.Dir] = k
}

// Lookup follows mapping keys from n; nil when a key is missing.
func Lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, key := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// KeyLine is the line of the last key of keys under n (the key, not its
// value), or 0.
func KeyLine(n *yaml.Node, keys ...string) int {
	if len(keys) == 0 {
		return 0
	}
	parent := Lookup(n, keys[:len(keys)-1]...)
	if parent == nil || parent.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		if parent.Content[i].Value == keys[len(keys)-1] {
			return parent.Content[i].Line
		}
	}
	return 0
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// Scalar is the value of a scalar node ("" for nil or other kinds).
func Scalar(n *yaml.Node) string { return scalar(n) }

// IsLocal reports whether a kustomization entry names a path in the
// repository rather than a remote (URL or git reference).
func IsLocal(v string) bool {
	if strings.Contains(v, "://") || strings.HasPrefix(v, "git@") || strings.HasPrefix(v, "github.com/") ||
		strings.Contains(v, "?ref=") || strings.Contains(v, ".git//") {
		return false
	}
	return true
}

// Resolve joins a kustomization entry to its directory: a clean slash path
// relative to the root, and false when it leaves the repository.
func Resolve(dir, entry string) (string, bool) {
	p := path.Clean(path.Join(dir, entry))
	if p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) {
		return p, false
	}
	return p, true
}

// IsChart reports whether a slash directory is a Helm chart (it holds a
// Chart.yaml): Scan leaves its files out.
func (r *Repo) IsChart(dir string) bool {
	return slices.Contains(r.Skipped, path.Clean(dir))
}

// Exists reports whether a slash path relative to the root exists, and
// whether it is a directory.
func (r *Repo) Exists(p string) (exists, dir bool) {
	st, err := os.Stat(filepath.Join(r.Root, filepath.FromSlash(p)))
	if err != nil {
		return false, false
	}
	return true, st.IsDir()
}

// Closure is the set of files a kustomization directory builds from: its
// kustomization file, the files of its resources and components, and
// recursively those of the kustomizations they name. Directories without a
// kustomization contribute nothing (kustomize would refuse them).
func (r *Repo) Closure(dir string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]bool{}
	var visit func(d string)
	visit = func(d string) {
		if seen[d] {
			return
		}
		seen[d] = true
		k := r.Kustomizations[d]
		if k == nil {
			return
		}
		out[k.File] = true
		for _, ref := range append(slices.Clone(k.Resources), k.Components...) {
			if !IsLocal(ref.Value) {
				continue
			}
			p, ok := Resolve(d, ref.Value)
			if !ok {
				continue
			}
			if r.Kustomizations[p] != nil {
				visit(p)
			} else {
				out[p] = true
			}
		}
	}
	visit(path.Clean(dir))
	return out
}

// FilesUnder lists the scanned files in dir: directly in it, or at any
// depth when recursive.
func (r *Repo) FilesUnder(dir string, recursive bool) map[string]bool {
	out := map[string]bool{}
	dir = path.Clean(dir)
	for _, f := range r.Files {
		d := path.Dir(f)
		if d == dir || (recursive && (dir == "." || strings.HasPrefix(f, dir+"/"))) {
			out[f] = true
		}
	}
	return out
}

// Referenced reports the kustomization directories named by another
// kustomization's resources or components.
func (r *Repo) Referenced() map[string]bool {
	out := map[string]bool{}
	for d, k := range r.Kustomizations {
		for _, ref := range append(slices.Clone(k.Resources), k.Components...) {
			if !IsLocal(ref.Value) {
				continue
			}
			if p, ok := Resolve(d, ref.Value); ok && r.Kustomizations[p] != nil && p != d {
				out[p] = true
			}
		}
	}
	return out
}

// KustomizationDirs are the directories with a kustomization file, sorted.
func (r *Repo) KustomizationDirs() []string {
	out := make([]string, 0, len(r.Kustomizations))
	for d := range r.Kustomizations {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}
