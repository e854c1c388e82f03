package versionedit

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlsplice"
)

// source is a file being edited, indexed by pkg/yamlsplice (the suite's one
// in-place YAML editor): lines and columns as yaml.v3 counts them.
type source struct {
	*yamlsplice.Source
	data []byte
}

func newSource(data []byte) *source {
	return &source{Source: yamlsplice.NewSource(data), data: data}
}

// span is where a scalar or alias token lies in the source.
type span struct {
	props      int // where the node starts, anchor and tag included
	start, end int // the token itself, quotes included
	line       int
}

var errMultiLine = errors.New("multi-line value")

func isBlank(b byte) bool { return b == ' ' || b == '\t' }

// tokenSpan finds the bytes of a scalar or alias node. It refuses what
// cannot be replaced in place on one line (block scalars, multi-line
// values, empty plain values) and verifies that the bytes found decode to
// the node's value.
func (s *source) tokenSpan(n *yaml.Node) (span, error) {
	off, err := s.Offset(n.Line, n.Column)
	if err != nil {
		return span{}, err
	}
	d := s.data
	sp := span{props: off, line: n.Line}
	mismatch := fmt.Errorf("line %d: cannot locate the value %q in the source", n.Line, n.Value)
	if n.Kind == yaml.AliasNode {
		tok := "*" + n.Value
		if !bytes.HasPrefix(d[off:], []byte(tok)) {
			return span{}, mismatch
		}
		sp.start, sp.end = off, off+len(tok)
		return sp, nil
	}
	if n.Kind != yaml.ScalarNode {
		return span{}, fmt.Errorf("line %d: %s is not a scalar", n.Line, kindName(n))
	}
	for off < len(d) && (d[off] == '&' || d[off] == '!') {
		for off < len(d) && !isBlank(d[off]) && yamlsplice.BreakLen(d[off:]) == 0 {
			off++
		}
		for off < len(d) && isBlank(d[off]) {
			off++
		}
	}
	if off >= len(d) || yamlsplice.BreakLen(d[off:]) > 0 {
		if n.Value == "" {
			return span{}, fmt.Errorf("line %d: the value is empty", n.Line)
		}
		return span{}, fmt.Errorf("line %d: a value on the line after its anchor or tag is not supported", n.Line)
	}
	sp.start = off
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return span{}, fmt.Errorf("line %d: block scalar (| or >) not supported", n.Line)
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		q := d[off]
		if q != '"' && q != '\'' {
			return span{}, mismatch
		}
		end := off + 1
		for ; end < len(d); end++ {
			if yamlsplice.BreakLen(d[end:]) > 0 {
				return span{}, fmt.Errorf("line %d: %w not supported", n.Line, errMultiLine)
			}
			if q == '"' && d[end] == '\\' {
				end++
				if end < len(d) && yamlsplice.BreakLen(d[end:]) > 0 {
					return span{}, fmt.Errorf("line %d: %w not supported", n.Line, errMultiLine)
				}
				continue
			}
			if d[end] == q {
				if q == '\'' && end+1 < len(d) && d[end+1] == '\'' {
					end++
					continue
				}
				break
			}
		}
		if end >= len(d) {
			return span{}, mismatch
		}
		sp.end = end + 1
		var v string
		if err := yaml.Unmarshal(d[sp.start:sp.end], &v); err != nil || v != n.Value {
			return span{}, mismatch
		}
	default:
		if n.Value == "" {
			return span{}, fmt.Errorf("line %d: the value is empty", n.Line)
		}
		if !bytes.HasPrefix(d[off:], []byte(n.Value)) {
			if s.LineEnd(n.Line) < off+len(n.Value) {
				return span{}, fmt.Errorf("line %d: %w not supported", n.Line, errMultiLine)
			}
			return span{}, mismatch
		}
		sp.end = off + len(n.Value)
	}
	return sp, nil
}

// parsed is a YAML stream with its source.
type parsed struct {
	src    *source
	docs   []*yaml.Node
	parent map[*yaml.Node]*yaml.Node
}

func parse(data []byte) (*parsed, error) {
	if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		return nil, errors.New("parsing YAML: UTF-16 is not supported")
	}
	p := &parsed{src: newSource(data), parent: map[*yaml.Node]*yaml.Node{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parsing YAML: %w", err)
		}
		p.docs = append(p.docs, doc)
		p.link(doc)
	}
	return p, nil
}

func (p *parsed) link(n *yaml.Node) {
	for _, c := range n.Content {
		p.parent[c] = n
		p.link(c)
	}
}

// roots returns the root node of each non-empty document.
func (p *parsed) roots() []*yaml.Node {
	var r []*yaml.Node
	for _, d := range p.docs {
		if len(d.Content) > 0 {
			r = append(r, d.Content[0])
		}
	}
	return r
}

// inFlow reports whether n sits inside a flow collection.
func (p *parsed) inFlow(n *yaml.Node) bool {
	par := p.parent[n]
	return par != nil && par.Style&yaml.FlowStyle != 0
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.DocumentNode:
		return "a document"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "empty"
}

// mapGet returns the key node and the value node (as written, possibly an
// alias) of key in mapping m, looking through merge keys (<<) when m has no
// such key itself. Both are nil when absent. A duplicated key is an error.
func mapGet(m *yaml.Node, key string) (k, v *yaml.Node, err error) {
	return mapGetSeen(m, key, map[*yaml.Node]bool{})
}

// mapGetSeen is mapGet visiting each merged mapping once, however often it
// is merged.
func mapGetSeen(m *yaml.Node, key string, seen map[*yaml.Node]bool) (k, v *yaml.Node, err error) {
	seen[m] = true
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn := m.Content[i]
		if kn.Kind != yaml.ScalarNode {
			continue
		}
		if kn.Tag == "!!merge" {
			merges = append(merges, m.Content[i+1])
			continue
		}
		if kn.Value != key {
			continue
		}
		if k != nil {
			return nil, nil, fmt.Errorf("line %d: duplicate key %q", kn.Line, key)
		}
		k, v = kn, m.Content[i+1]
	}
	if k != nil {
		return k, v, nil
	}
	for _, mv := range merges {
		mv = resolve(mv)
		sources := []*yaml.Node{mv}
		if mv.Kind == yaml.SequenceNode {
			sources = mv.Content
		}
		for _, src := range sources {
			if src = resolve(src); src.Kind != yaml.MappingNode || seen[src] {
				continue
			}
			if k, v, err := mapGetSeen(src, key, seen); k != nil || err != nil {
				return k, v, err
			}
		}
	}
	return nil, nil, nil
}

// edit replaces data[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// applyEdits splices the edits into data (yamlsplice.Apply).
func applyEdits(data []byte, edits []edit) ([]byte, error) {
	es := make([]yamlsplice.Edit, len(edits))
	for i, e := range edits {
		es[i] = yamlsplice.Edit{Start: e.start, End: e.end, Text: e.text}
	}
	return yamlsplice.Apply(data, es)
}

// render writes v as a scalar in the given style (plain, single or double
// quoted): plain only when YAML 1.1 and 1.2 readers both read it back as v
// (yamlsplice.Scalar).
func render(v string, style yaml.Style, flow bool) string {
	return yamlsplice.Scalar(v, style, flow)
}
