package remediate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/safefile"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/textdiff"
)

// Adoption is the plan of an adopt: the new content of each Git file, the
// fields adopted and what could not be.
type Adoption struct {
	// Files are the files to change, sorted by path.
	Files []FileEdit
	// Adopted are the fields written back, per object.
	Adopted []AdoptedField
	// Refused are the objects (Field empty) and fields not adopted, and why.
	Refused []Refusal
}

// FileEdit is the new content of one file.
type FileEdit struct {
	Path          string
	Before, After []byte
	Mode          fs.FileMode
}

// AdoptedField is one field whose live value is written back.
type AdoptedField struct {
	Object string // "apps/v1 Deployment shop/web"
	Source string // where Git declares it, "deploy/web.yaml:5"
	Field  string // "spec.replicas"
}

// Refusal is an object or field that is not adopted.
type Refusal struct {
	Object string
	Field  string // empty: the whole object
	Reason string
}

// Adopt plans writing the live values of the drifted fields of rep back into
// the files Git declares the objects in (ObjectReport.Source, "file:line"),
// so that the live state becomes the new truth: a field changed live gets
// its live value, a field another manager added is added, a field removed
// live is removed. Only modified objects are adopted.
//
// Files are edited in place: only the lines of the adopted fields change;
// comments, ordering, quoting and the other documents stay as they are (see
// yamledit.go). Each edited file is read back as kubectl reads it and must
// differ from the original exactly by the adopted fields; otherwise its
// objects are refused rather than written wrong.
//
// Refused: Secrets (their values would reach Git in plaintext; masked
// values likewise), objects built with kustomize (-k: not in one file),
// objects read from stdin, and missing or extraneous objects. Nothing is
// written until Write.
func Adopt(ctx context.Context, rep *compare.Report) (*Adoption, error) {
	a := &Adoption{}
	byFile := map[string][]*fileObject{}
	for i := range rep.Objects {
		r := &rep.Objects[i]
		id := objectID(r)
		switch r.Status {
		case compare.StatusModified:
		case compare.StatusMissing:
			a.refuse(id, "", "missing from the cluster: there is no live state to adopt (delete it from Git to make that the truth)")
			continue
		case compare.StatusExtraneous:
			a.refuse(id, "", "not in Git: there is no file to adopt it into (export it to one to add it)")
			continue
		default:
			continue
		}
		if r.Kind == "Secret" && groupOf(r.APIVersion) == "" {
			a.refuse(id, "", "Secrets are never adopted: their live values would be written to Git in plaintext (seal them instead)")
			continue
		}
		file, line, reason := parseSource(r.Source)
		if reason != "" {
			a.refuse(id, "", reason)
			continue
		}
		byFile[file] = append(byFile[file], &fileObject{report: r, id: id, line: line})
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a.adoptFile(ctx, path, byFile[path])
	}
	sort.SliceStable(a.Adopted, func(i, j int) bool {
		if a.Adopted[i].Source != a.Adopted[j].Source {
			return a.Adopted[i].Source < a.Adopted[j].Source
		}
		return a.Adopted[i].Field < a.Adopted[j].Field
	})
	return a, nil
}

func (a *Adoption) refuse(object, field, reason string) {
	a.Refused = append(a.Refused, Refusal{Object: object, Field: field, Reason: reason})
}

func objectID(r *compare.ObjectReport) string {
	id := r.APIVersion + " " + r.Kind + " "
	if r.Namespace != "" {
		id += r.Namespace + "/"
	}
	return id + r.Name
}

// parseSource splits "file:line"; reason says why a source cannot be edited.
func parseSource(src string) (file string, line int, reason string) {
	switch {
	case src == "":
		return "", 0, "no source file known"
	case strings.HasSuffix(src, " (kustomize)"):
		return "", 0, "built with kustomize (-k): it is not in one file to edit in place; change the kustomization's resources or patches by hand"
	}
	file = src
	if i := strings.LastIndexByte(src, ':'); i > 0 {
		if n, err := strconv.Atoi(src[i+1:]); err == nil {
			file, line = src[:i], n
		}
	}
	if file == manifest.Stdin {
		return "", 0, "read from stdin: there is no file to edit"
	}
	return file, line, ""
}

// fileObject is a drifted object of one file.
type fileObject struct {
	report *compare.ObjectReport
	id     string
	line   int
	fields []AdoptedField
	// expect are the changes the file's object must show once edited, in
	// Git's terms.
	sets []pathValue
	dels []objpath.Path
}

type pathValue struct {
	path  objpath.Path
	value any
}

// pending collects the fields added under one node of the file.
type pending struct {
	slot    *slot
	gitPath objpath.Path
	kv      map[string]any
	items   []any
	obj     *fileObject
	fields  []AdoptedField
}

func (a *Adoption) adoptFile(ctx context.Context, path string, objs []*fileObject) {
	refuseAll := func(reason string) {
		for _, o := range objs {
			a.refuse(o.id, "", reason)
		}
	}
	st, err := os.Lstat(path)
	if err != nil {
		refuseAll(fmt.Sprintf("reading %s: %v", path, err))
		return
	}
	if reason := notReplaceable(path, st); reason != "" {
		refuseAll(reason)
		return
	}
	src, err := os.ReadFile(path)
	if err != nil {
		refuseAll(fmt.Sprintf("reading %s: %v", path, err))
		return
	}
	yf, err := parseYAMLFile(src)
	if err != nil {
		refuseAll(fmt.Sprintf("parsing %s: %v", path, err))
		return
	}
	before, err := readObjects(ctx, src)
	if err != nil {
		refuseAll(fmt.Sprintf("reading %s: %v", path, err))
		return
	}
	adds := map[*yaml.Node]*pending{}
	var addOrder []*yaml.Node
	var kept []*fileObject
	for _, o := range objs {
		root := yf.find(o.report, o.line)
		if root == nil {
			a.refuse(o.id, "", fmt.Sprintf("not found in %s", path))
			continue
		}
		kept = append(kept, o)
		for _, c := range o.report.Changes {
			field := c.Path.String()
			if masked(c.Live) {
				a.refuse(o.id, field, "the live value is masked (it holds a secret value)")
				continue
			}
			if c.Type == objdiff.Reordered {
				a.refuse(o.id, field, "the order of a list is not adopted: reorder its items in the file")
				continue
			}
			ref := o.report.Live
			if c.Type == objdiff.Missing {
				ref = o.report.After
			}
			res, err := resolve(root, ref, c.Path)
			if err != nil {
				a.refuse(o.id, field, fmt.Sprintf("%s: %v", path, err))
				continue
			}
			switch {
			case c.Type == objdiff.Extra && res.rest != nil:
				// A node belongs to one object: o.
				p := adds[res.slot.node]
				if p == nil {
					p = &pending{slot: res.slot, gitPath: res.gitPath, kv: map[string]any{}, obj: o}
					adds[res.slot.node] = p
					addOrder = append(addOrder, res.slot.node)
				}
				if err := p.add(res.rest, runtime.DeepCopyJSONValue(c.Live)); err != nil {
					a.refuse(o.id, field, fmt.Sprintf("%s: %v", path, err))
					continue
				}
				p.fields = append(p.fields, AdoptedField{Object: o.id, Source: o.report.Source, Field: field})
				continue
			case c.Type == objdiff.Extra:
				a.refuse(o.id, field, "already set in "+path)
				continue
			case res.rest != nil:
				a.refuse(o.id, field, "not set in "+path+" (a default or a field Git does not own)")
				continue
			case c.Type == objdiff.Modified:
				if err := yf.replace(res.slot, c.Live); err != nil {
					a.refuse(o.id, field, fmt.Sprintf("%s: %v", path, err))
					continue
				}
				o.sets = append(o.sets, pathValue{res.gitPath, runtime.DeepCopyJSONValue(c.Live)})
			case c.Type == objdiff.Missing:
				if err := yf.remove(res.slot); err != nil {
					a.refuse(o.id, field, fmt.Sprintf("%s: %v", path, err))
					continue
				}
				o.dels = append(o.dels, res.gitPath)
			}
			o.fields = append(o.fields, AdoptedField{Object: o.id, Source: o.report.Source, Field: field})
		}
	}
	for _, n := range addOrder {
		p := adds[n]
		o := p.obj
		if err := yf.insert(p.slot, p.kv, p.items); err != nil {
			for _, f := range p.fields {
				a.refuse(o.id, f.Field, fmt.Sprintf("%s: %v", path, err))
			}
			continue
		}
		o.fields = append(o.fields, p.fields...)
		for k, v := range p.kv {
			o.sets = append(o.sets, pathValue{p.gitPath.Key(k), v})
		}
		for i, it := range p.items {
			o.sets = append(o.sets, pathValue{p.gitPath.Index(len(p.slot.node.Content) + i), it})
		}
	}
	if len(yf.splices) == 0 {
		return
	}
	after, err := yf.result()
	if err == nil {
		err = verify(ctx, before, after, kept)
	}
	if err != nil {
		for _, o := range kept {
			if len(o.fields) > 0 {
				a.refuse(o.id, "", fmt.Sprintf("%s cannot be edited in place exactly (%v); edit it by hand", path, err))
			}
		}
		return
	}
	for _, o := range kept {
		a.Adopted = append(a.Adopted, o.fields...)
	}
	a.Files = append(a.Files, FileEdit{Path: path, Before: src, After: after, Mode: st.Mode().Perm()})
}

// add records a field added at rest below the pending node.
func (p *pending) add(rest objpath.Path, v any) error {
	val := nest(rest[1:], v)
	switch k := rest[0].(type) {
	case string:
		if p.slot.node.Kind != yaml.MappingNode {
			return fmt.Errorf("%s: %w", rest, errUnsupported)
		}
		p.kv[k] = merge(p.kv[k], val)
	case int:
		if p.slot.node.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s: %w", rest, errUnsupported)
		}
		p.items = append(p.items, val)
	}
	return nil
}

// nest builds the value holding v at path p.
func nest(p objpath.Path, v any) any {
	if len(p) == 0 {
		return v
	}
	inner := nest(p[1:], v)
	if k, ok := p[0].(string); ok {
		return map[string]any{k: inner}
	}
	return []any{inner}
}

func merge(a, b any) any {
	am, ok1 := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if ok1 && ok2 {
		for k, v := range bm {
			am[k] = merge(am[k], v)
		}
		return am
	}
	al, ok1 := a.([]any)
	bl, ok2 := b.([]any)
	if ok1 && ok2 {
		return append(al, bl...)
	}
	return b
}

// masked reports a value holding a masked secret.
func masked(v any) bool {
	found := false
	objpath.Walk(v, func(_ objpath.Path, leaf any) {
		if s, ok := leaf.(string); ok && strings.Contains(s, redact.Mask) {
			found = true
		}
	})
	return found
}

// find returns the slot of the object r in the file: a document's root or
// a List item with r's kind and name (and namespace, when the file sets
// one), the nearest to line when several match.
func (f *yamlFile) find(r *compare.ObjectReport, line int) *slot {
	var best *yaml.Node
	dist := -1
	consider := func(m *yaml.Node) {
		if m.Kind != yaml.MappingNode || scalarOf(m, "kind") != r.Kind || scalarOf(m, "metadata", "name") != r.Name ||
			groupOf(scalarOf(m, "apiVersion")) != groupOf(r.APIVersion) {
			return
		}
		if ns := scalarOf(m, "metadata", "namespace"); ns != "" && r.Namespace != "" && ns != r.Namespace {
			return
		}
		d := m.Line - line
		if d < 0 {
			d = -d
		}
		if dist < 0 || d < dist {
			best, dist = m, d
		}
	}
	for _, doc := range f.docs {
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			continue
		}
		if i, ok := mapGet(root, "items"); ok && strings.HasSuffix(scalarOf(root, "kind"), "List") {
			for _, it := range root.Content[2*i+1].Content {
				consider(it)
			}
			continue
		}
		consider(root)
	}
	if best == nil {
		return nil
	}
	return &slot{node: best}
}

// readObjects reads data as kubectl -f reads it.
func readObjects(ctx context.Context, data []byte) ([]manifest.Object, error) {
	set, err := manifest.Load(ctx, manifest.Options{Filenames: []string{manifest.Stdin}, Stdin: bytes.NewReader(data)})
	if err != nil {
		return nil, err
	}
	return set.Objects, nil
}

// verify checks that after reads back as before with exactly the adopted
// changes of objs, and nothing else.
func verify(ctx context.Context, before []manifest.Object, after []byte, objs []*fileObject) error {
	got, err := readObjects(ctx, after)
	if err != nil {
		return fmt.Errorf("the edited file does not read back: %w", err)
	}
	if len(got) != len(before) {
		return errors.New("the edited file holds another number of objects")
	}
	want := make([]map[string]any, len(before))
	for i := range before {
		want[i] = runtime.DeepCopyJSON(before[i].Obj.Object)
	}
	for _, o := range objs {
		i := objectIndex(before, o)
		if i < 0 {
			return errors.New("the object is not found when read as kubectl reads it")
		}
		for _, s := range o.sets {
			if !objpath.Set(want[i], s.path, s.value) {
				return fmt.Errorf("setting %s", s.path)
			}
		}
		dels := append([]objpath.Path(nil), o.dels...)
		sort.Slice(dels, func(a, b int) bool { return objpath.Compare(dels[a], dels[b]) > 0 })
		for _, d := range dels {
			objpath.Delete(want[i], d)
		}
	}
	for i := range got {
		if !objdiff.Equal(want[i], got[i].Obj.Object) {
			return errors.New("the edited file does not read back as intended")
		}
	}
	return nil
}

// objectIndex finds o among objects read from its file: by line first,
// else by kind and name.
func objectIndex(objs []manifest.Object, o *fileObject) int {
	r := o.report
	match := func(ob manifest.Object) bool {
		return ob.Obj.GetKind() == r.Kind && ob.Obj.GetName() == r.Name && ob.Obj.GroupVersionKind().Group == groupOf(r.APIVersion) &&
			(ob.Obj.GetNamespace() == "" || r.Namespace == "" || ob.Obj.GetNamespace() == r.Namespace)
	}
	for i, ob := range objs {
		if ob.Source.Line == o.line && match(ob) {
			return i
		}
	}
	for i, ob := range objs {
		if match(ob) {
			return i
		}
	}
	return -1
}

// Diff returns the unified diff of every file edit, as a patch to review.
func (a *Adoption) Diff() string {
	var b strings.Builder
	for _, f := range a.Files {
		from, to := f.Path, f.Path
		if !filepath.IsAbs(f.Path) {
			from, to = "a/"+filepath.ToSlash(f.Path), "b/"+filepath.ToSlash(f.Path)
		}
		b.WriteString(textdiff.Unified(from, to, string(f.Before), string(f.After), 3))
	}
	return b.String()
}

// Write replaces each file atomically, keeping its mode. It stops at the
// first error; files written before it stay written. A file that became a
// symbolic link or got hard links since it was read is not written.
func (a *Adoption) Write() error {
	for _, f := range a.Files {
		st, err := os.Lstat(f.Path)
		if err != nil {
			return fmt.Errorf("adopting into %s: %w", f.Path, err)
		}
		if reason := notReplaceable(f.Path, st); reason != "" {
			return fmt.Errorf("adopting into %s: %s", f.Path, reason)
		}
		if err := safefile.WriteFile(f.Path, f.After, f.Mode); err != nil {
			return fmt.Errorf("adopting into %s: %w", f.Path, err)
		}
	}
	return nil
}

// notReplaceable says why the file at path, described by st (from Lstat),
// must not be replaced by a new file, or returns "". Adopting renames a new
// file over the old one: that would turn a symbolic link into a regular
// file (leaving its target as it was) and split a hard link in two. Such
// files are refused rather than written through, which could not be atomic
// for a hard link and, for a link a repository holds, could reach a file
// outside it.
func notReplaceable(path string, st fs.FileInfo) string {
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fmt.Sprintf("%s is a symbolic link (%v); --adopt does not write through links", path, err)
		}
		return fmt.Sprintf("%s is a symbolic link to %s; --adopt does not write through links: adopt with -f %s", path, target, target)
	case !st.Mode().IsRegular():
		return fmt.Sprintf("%s is not a regular file", path)
	}
	if n := hardLinks(st); n > 1 {
		return fmt.Sprintf("%s has %d hard links; --adopt replaces files and would split them: edit it by hand", path, n)
	}
	return ""
}
