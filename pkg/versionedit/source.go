package versionedit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

const bom = "\xef\xbb\xbf"

// source maps yaml.v3 positions (1-based line, column counted in
// characters, the BOM not counted) to byte offsets in the original data.
type source struct {
	data  []byte
	lines []int // lines[i] is the byte offset where line i+1 starts
}

func newSource(data []byte) *source {
	s := &source{data: data}
	i := 0
	if bytes.HasPrefix(data, []byte(bom)) {
		i = len(bom)
	}
	s.lines = append(s.lines, i)
	for i < len(data) {
		if n := breakLen(data[i:]); n > 0 {
			i += n
			s.lines = append(s.lines, i)
			continue
		}
		i++
	}
	return s
}

// breakLen returns the length of the line break starting b, 0 if none. These
// are the breaks yaml.v3 counts lines by: CRLF, CR, LF, NEL, LS and PS.
func breakLen(b []byte) int {
	switch {
	case len(b) >= 2 && b[0] == '\r' && b[1] == '\n':
		return 2
	case len(b) >= 1 && (b[0] == '\r' || b[0] == '\n'):
		return 1
	case len(b) >= 2 && b[0] == 0xc2 && b[1] == 0x85:
		return 2
	case len(b) >= 3 && b[0] == 0xe2 && b[1] == 0x80 && (b[2] == 0xa8 || b[2] == 0xa9):
		return 3
	}
	return 0
}

// lineEnd returns the offset of the break ending line (1-based), or the end
// of the data.
func (s *source) lineEnd(line int) int {
	i := s.lines[line-1]
	for i < len(s.data) && breakLen(s.data[i:]) == 0 {
		i++
	}
	return i
}

// lineBreak returns the break ending line, "" for a last line without one.
func (s *source) lineBreak(line int) string {
	e := s.lineEnd(line)
	return string(s.data[e : e+breakLen(s.data[e:])])
}

// lineOf returns the 1-based line holding offset off.
func (s *source) lineOf(off int) int {
	return sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off })
}

// column returns the 1-based column, in characters, of offset off.
func (s *source) column(off int) int {
	return utf8.RuneCount(s.data[s.lines[s.lineOf(off)-1]:off]) + 1
}

func (s *source) offset(line, col int) (int, error) {
	if line < 1 || line > len(s.lines) || col < 1 {
		return 0, fmt.Errorf("line %d: position out of range", line)
	}
	off := s.lines[line-1]
	for c := 1; c < col; c++ {
		if off >= len(s.data) || breakLen(s.data[off:]) > 0 {
			return 0, fmt.Errorf("line %d: column %d out of range", line, col)
		}
		_, n := utf8.DecodeRune(s.data[off:])
		off += n
	}
	return off, nil
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
	off, err := s.offset(n.Line, n.Column)
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
		for off < len(d) && !isBlank(d[off]) && breakLen(d[off:]) == 0 {
			off++
		}
		for off < len(d) && isBlank(d[off]) {
			off++
		}
	}
	if off >= len(d) || breakLen(d[off:]) > 0 {
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
			if breakLen(d[end:]) > 0 {
				return span{}, fmt.Errorf("line %d: %w not supported", n.Line, errMultiLine)
			}
			if q == '"' && d[end] == '\\' {
				end++
				if end < len(d) && breakLen(d[end:]) > 0 {
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
			if s.lineEnd(n.Line) < off+len(n.Value) {
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

func applyEdits(data []byte, edits []edit) ([]byte, error) {
	edits = slices.Clone(edits)
	slices.SortStableFunc(edits, func(a, b edit) int { return a.start - b.start })
	edits = slices.Compact(edits)
	out := make([]byte, 0, len(data)+64)
	last := 0
	for _, e := range edits {
		if e.start < last {
			return nil, errors.New("conflicting edits: two changes touch the same bytes")
		}
		out = append(out, data[last:e.start]...)
		out = append(out, e.text...)
		last = e.end
	}
	return append(out, data[last:]...), nil
}

// render writes v as a scalar in the given style (plain, single or double
// quoted). A plain scalar that would not read back as the string v (a
// number, a boolean, a comment, an indicator) is double quoted instead.
func render(v string, style yaml.Style, flow bool) string {
	switch {
	case style&yaml.SingleQuotedStyle != 0:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case style&yaml.DoubleQuotedStyle != 0:
		return doubleQuote(v)
	case plainSafe(v, flow):
		return v
	}
	return doubleQuote(v)
}

// doubleQuote quotes a string that passed checkValue.
func doubleQuote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		if r == '\\' || r == '"' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// plainSafe reports whether v written unquoted in a block mapping value (or
// a flow collection) reads back as the string v.
func plainSafe(v string, flow bool) bool {
	probes := []string{"k: " + v + "\n"}
	if flow {
		probes = []string{"[" + v + "]\n", "{k: " + v + "}\n"}
	}
	for _, probe := range probes {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(probe), &doc); err != nil || len(doc.Content) != 1 {
			return false
		}
		c := doc.Content[0].Content
		var val *yaml.Node
		switch {
		case doc.Content[0].Kind == yaml.MappingNode && len(c) == 2:
			val = c[1]
		case doc.Content[0].Kind == yaml.SequenceNode && len(c) == 1:
			val = c[0]
		default:
			return false
		}
		if val.Kind != yaml.ScalarNode || val.Style != 0 || val.Tag != "!!str" || val.Value != v || val.LineComment != "" {
			return false
		}
	}
	return true
}
