package versionedit

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlsplice"
)

// field is a key of a kustomize images entry; key is nil when absent.
type field struct {
	key *yaml.Node
	raw *yaml.Node // the value as written, possibly an alias
	val *yaml.Node // the resolved scalar
}

func (f field) has() bool { return f.key != nil }

func (f field) value() string {
	if f.key == nil || f.val.Tag == "!!null" {
		return ""
	}
	return f.val.Value
}

// kEntry is an images[] entry whose name is the location's image.
type kEntry struct {
	m                             *yaml.Node
	path                          string
	name, newName, newTag, digest field
}

func (e kEntry) version() string { return joinVersion(e.newTag.value(), e.digest.value()) }

// kustomizeEntries returns the images entries named image, in every
// document that has a top-level images list.
func (p *parsed) kustomizeEntries(image string) ([]kEntry, error) {
	var entries []kEntry
	for _, root := range p.roots() {
		if root.Kind != yaml.MappingNode {
			continue
		}
		_, images, err := mapGet(root, "images")
		if err != nil {
			return nil, err
		}
		if images = resolve(images); images == nil || images.Kind == yaml.ScalarNode && images.Tag == "!!null" {
			continue
		}
		if images.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("line %d: images is %s, not a sequence", images.Line, kindName(images))
		}
		for i, item := range images.Content {
			path := "images[" + strconv.Itoa(i) + "]"
			m := resolve(item)
			if m.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("line %d: %s is %s, not a mapping", m.Line, path, kindName(m))
			}
			e := kEntry{m: m, path: path}
			for _, f := range []struct {
				key string
				to  *field
			}{{"name", &e.name}, {"newName", &e.newName}, {"newTag", &e.newTag}, {"digest", &e.digest}} {
				k, v, err := mapGet(m, f.key)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", path, err)
				}
				if k == nil {
					continue
				}
				t := resolve(v)
				if t.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("line %d: %s.%s is %s, not a scalar", t.Line, path, f.key, kindName(t))
				}
				*f.to = field{key: k, raw: v, val: t}
			}
			if e.name.value() == image {
				entries = append(entries, e)
			}
		}
	}
	return entries, nil
}

func (p *parsed) kustomizeOccurrences(loc Location) ([]occurrence, error) {
	entries, err := p.kustomizeEntries(loc.KustomizeImage)
	if err != nil {
		return nil, err
	}
	occ := make([]occurrence, 0, len(entries))
	for _, e := range entries {
		at, what := e.name, "name"
		if e.digest.has() {
			at, what = e.digest, "digest"
		}
		if e.newTag.has() {
			at, what = e.newTag, "newTag"
		}
		f := p.foundAt(at.raw, e.version(), e.path+"."+what)
		f.Image = e.name.value()
		if e.newName.has() {
			f.Image = e.newName.value()
		}
		var lines []int
		for _, fl := range []field{e.newName, e.newTag, e.digest} {
			if fl.has() {
				lines = append(lines, nodeLines(fl.key, fl.raw)...)
			}
		}
		occ = append(occ, occurrence{found: &f, lines: lines})
	}
	return occ, nil
}

// kustomizeEntry returns the one entry named by loc.
func (p *parsed) kustomizeEntry(loc Location) (kEntry, error) {
	entries, err := p.kustomizeEntries(loc.KustomizeImage)
	if err != nil {
		return kEntry{}, err
	}
	switch len(entries) {
	case 0:
		return kEntry{}, notFound(loc, "")
	case 1:
		return entries[0], nil
	}
	lines := make([]int, len(entries))
	for i, e := range entries {
		lines[i] = e.name.key.Line
	}
	return kEntry{}, ambiguous(loc, lines, "")
}

// kvs are fields to insert, in order.
type kv struct{ key, value string }

// planKustomize makes the entry read back as exactly v; see Set.
func (p *parsed) planKustomize(loc Location, v Version) ([]edit, []Change, error) {
	e, err := p.kustomizeEntry(loc)
	if err != nil {
		return nil, nil, err
	}
	var pl planner
	pl.p = p
	T, D := e.newTag, e.digest
	switch {
	case v.Tag != "" && v.Digest != "":
		var ins []kv
		if T.has() {
			pl.replace(T, v.Tag, e.path+".newTag")
		} else {
			ins = append(ins, kv{"newTag", v.Tag})
		}
		if D.has() {
			pl.replace(D, v.Digest, e.path+".digest")
		} else {
			ins = append(ins, kv{"digest", v.Digest})
		}
		if after := e.name; len(ins) > 0 {
			if T.has() {
				after = T
			}
			pl.insert(e, after, ins)
		}
	case v.Tag != "":
		pl.setOne(e, T, D, "newTag", "digest", v.Tag)
	default:
		pl.setOne(e, D, T, "digest", "newTag", v.Digest)
	}
	return pl.edits, pl.changes, pl.err
}

// setOne sets the field want (named wantKey) to value and drops other (named
// otherKey): other is renamed in place when want is absent, removed when
// both are present; with neither, want is inserted after name.
func (pl *planner) setOne(e kEntry, want, other field, wantKey, otherKey, value string) {
	switch {
	case want.has():
		pl.replace(want, value, e.path+"."+wantKey)
		if other.has() {
			pl.remove(e, other, e.path+"."+otherKey)
		}
	case other.has():
		pl.rename(e, other, wantKey, value, e.path+"."+wantKey)
	default:
		pl.insert(e, e.name, []kv{{wantKey, value}})
	}
}

func (p *parsed) planKustomizeName(loc Location, name string) ([]edit, []Change, error) {
	e, err := p.kustomizeEntry(loc)
	if err != nil {
		return nil, nil, err
	}
	pl := planner{p: p}
	if e.newName.has() {
		pl.replace(e.newName, name, e.path+".newName")
	} else if name != e.name.value() {
		pl.insert(e, e.name, []kv{{"newName", name}})
	}
	return pl.edits, pl.changes, pl.err
}

// planner accumulates edits; the first error sticks.
type planner struct {
	p       *parsed
	edits   []edit
	changes []Change
	err     error
}

func (pl *planner) fail(err error) {
	if pl.err == nil {
		pl.err = err
	}
}

func (pl *planner) span(n *yaml.Node, path string) (span, bool) {
	sp, err := pl.p.src.tokenSpan(n)
	if err != nil {
		pl.fail(fmt.Errorf("%s: %w", path, err))
		return span{}, false
	}
	return sp, true
}

func (pl *planner) replace(f field, value, path string) {
	edits, changes, err := pl.p.replace(f.raw, value, path)
	if err != nil {
		pl.fail(err)
	}
	pl.edits = append(pl.edits, edits...)
	pl.changes = append(pl.changes, changes...)
}

// rename rewrites the key of f to key and its value to value.
func (pl *planner) rename(e kEntry, f field, key, value, path string) {
	ks, ok := pl.span(f.key, path)
	if !ok {
		return
	}
	vs, ok := pl.span(f.val, path)
	if !ok {
		return
	}
	if f.raw != f.val || pairIndex(e.m, f.key) < 0 {
		pl.fail(fmt.Errorf("line %d: cannot rename to %s: the field is an alias or merged", ks.line, path))
		return
	}
	flow := pl.p.inFlow(f.val)
	pl.edits = append(pl.edits,
		edit{start: ks.start, end: ks.end, text: render(key, f.key.Style, flow)},
		edit{start: vs.start, end: vs.end, text: render(value, f.val.Style, flow)})
	pl.changes = append(pl.changes, Change{Path: path, Line: vs.line, Old: f.val.Value, New: value})
}

// remove deletes field f of the entry: its whole line in a block mapping,
// the pair and one comma in a flow mapping.
func (pl *planner) remove(e kEntry, f field, path string) {
	src := pl.p.src
	ks, ok := pl.span(f.key, path)
	if !ok {
		return
	}
	vs, ok := pl.span(f.raw, path)
	if !ok {
		return
	}
	cannot := func(why string) {
		pl.fail(fmt.Errorf("line %d: cannot remove %s: %s", ks.line, path, why))
	}
	if pairIndex(e.m, f.key) < 0 {
		cannot("it is merged from another mapping")
		return
	}
	if e.m.Style&yaml.FlowStyle == 0 {
		line := ks.line
		if strings.Trim(string(src.data[src.LineStart(line):ks.props]), " \t") != "" {
			cannot("it shares its line with the entry's dash or another key; move it to a line of its own")
			return
		}
		if src.LineOf(vs.start) != line {
			cannot("its value is on another line")
			return
		}
		rest := strings.Trim(string(src.data[vs.end:src.LineEnd(line)]), " \t")
		if rest != "" && rest[0] != '#' {
			cannot("it shares its line with other content")
			return
		}
		start, end := src.LineStart(line), len(src.data)
		if line < src.Lines() {
			end = src.LineStart(line + 1)
		} else if line > 1 {
			start = src.LineEnd(line - 1)
		} else {
			cannot("it is the only line")
			return
		}
		pl.edits = append(pl.edits, edit{start: start, end: end})
	} else {
		i := pairIndex(e.m, f.key)
		var start, end int
		switch {
		case i > 0:
			prev, ok := pl.span(e.m.Content[i-1], path)
			if !ok {
				return
			}
			start, end = prev.end, vs.end
		case i+2 < len(e.m.Content):
			next, ok := pl.span(e.m.Content[i+2], path)
			if !ok {
				return
			}
			start, end = ks.props, next.props
		default:
			start, end = ks.props, vs.end
		}
		for j := start; j < end; j++ {
			if yamlsplice.BreakLen(src.data[j:]) > 0 {
				cannot("it is not on one line with its neighbour in a flow mapping")
				return
			}
		}
		pl.edits = append(pl.edits, edit{start: start, end: end})
	}
	pl.changes = append(pl.changes, Change{Path: path, Line: ks.line, Old: f.value()})
}

func pairIndex(m *yaml.Node, key *yaml.Node) int {
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i] == key {
			return i
		}
	}
	return -1
}

// insert adds fields after the field after: on new lines indented like its
// key in a block mapping, as ", key: value" in a flow mapping. Values are
// quoted like the entry's name.
func (pl *planner) insert(e kEntry, after field, fields []kv) {
	src := pl.p.src
	vs, ok := pl.span(after.raw, e.path+"."+after.key.Value)
	if !ok {
		return
	}
	style := e.name.val.Style & (yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle)
	if pairIndex(e.m, after.key) < 0 {
		pl.fail(fmt.Errorf("line %d: %s: cannot insert next to a merged key", vs.line, e.path))
		return
	}
	var b strings.Builder
	if e.m.Style&yaml.FlowStyle != 0 {
		for _, f := range fields {
			b.WriteString(", " + f.key + ": " + render(f.value, style, true))
			pl.changes = append(pl.changes, Change{Path: e.path + "." + f.key, Line: vs.line, New: f.value})
		}
		pl.edits = append(pl.edits, edit{start: vs.end, end: vs.end, text: b.String()})
		return
	}
	if after.key.Column < 1 {
		pl.fail(fmt.Errorf("line %d: %s: cannot indent an inserted field", vs.line, e.path))
		return
	}
	line := src.LineOf(vs.end)
	eol := src.LineBreak(line)
	if eol == "" {
		eol = src.LineBreak(1)
		if eol == "" {
			eol = "\n"
		}
	}
	indent := strings.Repeat(" ", after.key.Column-1)
	for i, f := range fields {
		b.WriteString(eol + indent + f.key + ": " + render(f.value, style, false))
		pl.changes = append(pl.changes, Change{Path: e.path + "." + f.key, Line: line + 1 + i, New: f.value})
	}
	at := src.LineEnd(line)
	pl.edits = append(pl.edits, edit{start: at, end: at, text: b.String()})
}
