package remediate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlsplice"
)

// This file edits YAML in place: every edit is a splice of the original
// bytes at positions yaml.v3 reports for its nodes, so whatever is not
// edited (comments, key order, quoting, blank lines, other documents) stays
// byte for byte. New values are rendered so that kubectl's YAML 1.1 reader
// and YAML 1.2 readers both read them back as the same value; adopt.go then
// checks the whole file reads back as intended.

// errUnsupported is returned for YAML this editor does not edit (anchors,
// aliases, explicit tags, multi-line plain scalars…).
var errUnsupported = errors.New("not editable in place")

// yamlFile is one file being edited. Positions and splices go through
// pkg/yamlsplice, the suite's one in-place YAML editor: lines counted as
// yaml.v3 counts them (CRLF, CR, LF, NEL, LS, PS; the BOM skipped).
type yamlFile struct {
	src     []byte
	lines   *yamlsplice.Source
	docs    []*yaml.Node
	splices []yamlsplice.Edit
}

func parseYAMLFile(src []byte) (*yamlFile, error) {
	f := &yamlFile{src: src, lines: yamlsplice.NewSource(src)}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		f.docs = append(f.docs, &n)
	}
	return f, nil
}

// offset returns the byte offset of a 1-based line and character column
// (the end of the line, or of the file, when the position is past it).
func (f *yamlFile) offset(line, col int) int {
	if line < 1 || line > f.lines.Lines() {
		return len(f.src)
	}
	off, err := f.lines.Offset(line, col)
	if err != nil {
		return f.lines.LineEnd(line)
	}
	return off
}

func (f *yamlFile) start(n *yaml.Node) int { return f.offset(n.Line, n.Column) }

// lineEnd returns the offset of the line break ending the line holding off
// (len(src) on the last line without one).
func (f *yamlFile) lineEnd(off int) int {
	return f.lines.LineEnd(f.lines.LineOf(off))
}

// lineStart returns the offset of the start of the line holding off.
func (f *yamlFile) lineStart(off int) int {
	return f.lines.LineStart(f.lines.LineOf(off))
}

// nextLine returns the offset just after the line holding off and its line
// break.
func (f *yamlFile) nextLine(off int) int {
	if l := f.lines.LineOf(off); l < f.lines.Lines() {
		return f.lines.LineStart(l + 1)
	}
	return len(f.src)
}

// onlySpaceBefore reports whether only spaces precede off on its line.
func (f *yamlFile) onlySpaceBefore(off int) bool {
	return strings.TrimLeft(string(f.src[f.lineStart(off):off]), " ") == ""
}

func checkEditable(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
		return errUnsupported
	}
	return nil
}

// end returns the offset just after the text of n.
func (f *yamlFile) end(n *yaml.Node) (int, error) {
	if err := checkEditable(n); err != nil {
		return 0, err
	}
	s := f.start(n)
	switch {
	case n.Kind == yaml.ScalarNode:
		return f.scalarEnd(n, s)
	case n.Style&yaml.FlowStyle != 0:
		return f.flowEnd(s)
	case len(n.Content) == 0:
		return 0, errUnsupported
	default:
		return f.end(n.Content[len(n.Content)-1])
	}
}

func (f *yamlFile) scalarEnd(n *yaml.Node, s int) (int, error) {
	src := f.src
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := s + 1; i < len(src); i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := s + 1; i < len(src); i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The block runs over the following lines indented more than the
		// line holding the indicator, blank lines included.
		base := indentAt(src, f.lineStart(s))
		e := f.lineEnd(s)
		for off := f.nextLine(s); off < len(src); off = f.nextLine(off) {
			le := f.lineEnd(off)
			line := string(src[off:le])
			if strings.TrimSpace(line) == "" {
				if le == len(src) {
					break
				}
				continue
			}
			if indentAt(src, off) <= base {
				break
			}
			e = le
		}
		return e, nil
	case n.Tag == "!!null" && n.Value == "":
		return s, nil
	default:
		if bytes.HasPrefix(src[s:], []byte(n.Value)) {
			return s + len(n.Value), nil
		}
	}
	return 0, errUnsupported
}

func indentAt(src []byte, lineStart int) int {
	i := lineStart
	for i < len(src) && src[i] == ' ' {
		i++
	}
	return i - lineStart
}

// flowEnd returns the offset after the bracket closing the flow collection
// opened at s.
func (f *yamlFile) flowEnd(s int) (int, error) {
	depth := 0
	src := f.src
	for i := s; i < len(src); i++ {
		switch src[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(src); i++ {
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '#':
			if i > 0 && (src[i-1] == ' ' || src[i-1] == '\t') {
				i = f.lineEnd(i) - 1
			}
		}
	}
	return 0, errUnsupported
}

// afterColon returns the offset after the ':' following key.
func (f *yamlFile) afterColon(key *yaml.Node) (int, error) {
	e, err := f.end(key)
	if err != nil {
		return 0, err
	}
	for e < len(f.src) && (f.src[e] == ' ' || f.src[e] == '\t') {
		e++
	}
	if e >= len(f.src) || f.src[e] != ':' {
		return 0, errUnsupported
	}
	return e + 1, nil
}

func (f *yamlFile) add(start, end int, text string) {
	f.splices = append(f.splices, yamlsplice.Edit{Start: start, End: end, Text: text})
}

// result applies the splices, refusing overlapping ones; new lines get the
// file's line breaks.
func (f *yamlFile) result() ([]byte, error) {
	brk := f.lines.Break()
	sp := make([]yamlsplice.Edit, len(f.splices))
	for i, e := range f.splices {
		e.Text = yamlsplice.WithBreaks(e.Text, brk)
		sp[i] = e
	}
	out, err := yamlsplice.Apply(f.src, sp)
	if errors.Is(err, yamlsplice.ErrOverlap) {
		return nil, fmt.Errorf("two edits overlap: %w", errUnsupported)
	}
	return out, err
}

// slot is where a node sits: its parent (a mapping or a sequence; nil for an
// object's root), its key node in a mapping, and its index (pair index in a
// mapping, item index in a sequence).
type slot struct {
	parent *yaml.Node
	key    *yaml.Node
	node   *yaml.Node
	index  int
	// up is the slot of the parent.
	up *slot
}

func (s *slot) flow() bool { return s.parent != nil && s.parent.Style&yaml.FlowStyle != 0 }

func mapGet(m *yaml.Node, key string) (int, bool) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return i / 2, true
		}
	}
	return 0, false
}

func childSlot(parent *slot, i int) *slot {
	p := parent.node
	if p.Kind == yaml.MappingNode {
		return &slot{parent: p, key: p.Content[2*i], node: p.Content[2*i+1], index: i, up: parent}
	}
	return &slot{parent: p, node: p.Content[i], index: i, up: parent}
}

// scalarOf returns the value of a scalar child of mapping m, or "".
func scalarOf(m *yaml.Node, path ...string) string {
	n := m
	for _, k := range path {
		if n.Kind != yaml.MappingNode {
			return ""
		}
		i, ok := mapGet(n, k)
		if !ok {
			return ""
		}
		n = n.Content[2*i+1]
	}
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// listKeys identify the items of associative lists, as pkg/objdiff matches
// them.
var listKeys = []string{"name", "containerPort", "mountPath", "devicePath", "ip", "topologyKey"}

// resolved is a path resolved in a file: the deepest slot found, the Git
// path of its node, and the rest of the path the file does not have.
type resolved struct {
	slot    *slot
	gitPath objpath.Path
	rest    objpath.Path
}

// resolve walks path p (in the terms of ref, the live object or what Git
// would make it) through the object at root. List indices are translated:
// an item is found in the file by its key field (name, containerPort…) when
// ref's item has one, by position otherwise.
func resolve(root *slot, ref map[string]any, p objpath.Path) (resolved, error) {
	cur := root
	var git objpath.Path
	for i, el := range p {
		n := cur.node
		switch el := el.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return resolved{}, fmt.Errorf("%s is not a mapping in the file: %w", p[:i], errUnsupported)
			}
			j, ok := mapGet(n, el)
			if !ok {
				return resolved{cur, git, p[i:]}, nil
			}
			cur = childSlot(cur, j)
			git = git.Key(el)
		case int:
			if n.Kind != yaml.SequenceNode {
				return resolved{}, fmt.Errorf("%s is not a list in the file: %w", p[:i], errUnsupported)
			}
			j := matchItem(n, ref, p[:i], el)
			if j < 0 {
				return resolved{cur, git, p[i:]}, nil
			}
			cur = childSlot(cur, j)
			git = git.Index(j)
		}
	}
	return resolved{cur, git, nil}, nil
}

// matchItem returns the index in seq of ref's item idx of the list at
// listPath, or -1 when the file does not have it.
func matchItem(seq *yaml.Node, ref map[string]any, listPath objpath.Path, idx int) int {
	v, _ := objpath.Get(ref, listPath)
	refList, _ := v.([]any)
	if idx < len(refList) {
		if item, ok := refList[idx].(map[string]any); ok {
			for _, k := range listKeys {
				kv, has := item[k]
				if !has {
					continue
				}
				want, ok := keyString(kv)
				if !ok {
					continue
				}
				for j, gi := range seq.Content {
					if gi.Kind == yaml.MappingNode && scalarOf(gi, k) == want {
						return j
					}
				}
				return -1
			}
		}
	}
	if idx < len(seq.Content) && (refList == nil || len(refList) == len(seq.Content)) {
		return idx
	}
	return -1
}

func keyString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// replace sets the value in s to v.
func (f *yamlFile) replace(s *slot, v any) error {
	if s.parent == nil {
		return fmt.Errorf("replacing a whole object: %w", errUnsupported)
	}
	n := s.node
	if err := checkEditable(n); err != nil {
		return err
	}
	st, e := f.start(n), 0
	var err error
	if e, err = f.end(n); err != nil {
		return err
	}
	switch {
	case s.flow():
		f.add(st, e, inline(v, true, n.Style))
		return nil
	case n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && isInline(v):
		f.add(st, e, inline(v, false, n.Style))
		return nil
	case s.key != nil:
		ac, err := f.afterColon(s.key)
		if err != nil {
			return err
		}
		// A block collection replaced by another keeps its indentation.
		child := s.key.Column - 1 + 2
		if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
			child = n.Column - 1
		}
		f.add(ac, e, afterKeyIndent(v, child))
		return nil
	default:
		f.add(st, e, afterDash(v, n.Column-1))
		return nil
	}
}

// remove deletes the entry or item in s.
func (f *yamlFile) remove(s *slot) error {
	p := s.parent
	if p == nil {
		return fmt.Errorf("deleting a whole object: %w", errUnsupported)
	}
	if err := checkEditable(p); err != nil {
		return err
	}
	// The first node of the entry (its key, or the item) and the last.
	head := s.node
	if s.key != nil {
		head = s.key
	}
	hs := f.start(head)
	te, err := f.end(s.node)
	if err != nil {
		return err
	}
	count := len(p.Content)
	if p.Kind == yaml.MappingNode {
		count /= 2
	}
	nextHead := func(i int) *yaml.Node {
		if p.Kind == yaml.MappingNode {
			return p.Content[2*i]
		}
		return p.Content[i]
	}
	if s.flow() {
		switch {
		case count == 1:
			f.add(hs, te, "")
		case s.index < count-1:
			f.add(hs, f.start(nextHead(s.index+1)), "")
		default:
			prev := p.Content[s.index-1]
			if p.Kind == yaml.MappingNode {
				prev = p.Content[2*s.index-1]
			}
			pe, err := f.end(prev)
			if err != nil {
				return err
			}
			f.add(pe, te, "")
		}
		return nil
	}
	if count == 1 {
		empty := "{}"
		if p.Kind == yaml.SequenceNode {
			empty = "[]"
		}
		return f.replaceEmpty(s.up, empty)
	}
	if p.Kind == yaml.SequenceNode {
		// "- item": from the dash line's start.
		ls := f.lineStart(hs)
		if strings.TrimSpace(string(f.src[ls:hs])) != "-" {
			return fmt.Errorf("list item not on its dash's line: %w", errUnsupported)
		}
		f.add(ls, f.nextLine(te), "")
		return nil
	}
	if f.onlySpaceBefore(hs) {
		f.add(f.lineStart(hs), f.nextLine(te), "")
		return nil
	}
	// The first key of a list item, after its "- ": pull the next key up.
	if s.index+1 < count {
		f.add(hs, f.start(nextHead(s.index+1)), "")
		return nil
	}
	return errUnsupported
}

// replaceEmpty replaces the collection in s by an empty flow one.
func (f *yamlFile) replaceEmpty(s *slot, empty string) error {
	if s == nil || s.parent == nil {
		return fmt.Errorf("emptying a whole object: %w", errUnsupported)
	}
	e, err := f.end(s.node)
	if err != nil {
		return err
	}
	if s.key != nil {
		ac, err := f.afterColon(s.key)
		if err != nil {
			return err
		}
		f.add(ac, e, " "+empty)
		return nil
	}
	f.add(f.start(s.node), e, empty)
	return nil
}

// insert adds the entries of kv to the mapping in s, or the items of items
// to the list in s.
func (f *yamlFile) insert(s *slot, kv map[string]any, items []any) error {
	n := s.node
	if err := checkEditable(n); err != nil {
		return err
	}
	flow := n.Style&yaml.FlowStyle != 0
	if n.Kind == yaml.MappingNode && flow {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(kv)) {
			parts = append(parts, renderKey(k, true)+": "+inline(kv[k], true, 0))
		}
		return f.insertFlow(n, strings.Join(parts, ", "))
	}
	if n.Kind == yaml.SequenceNode && flow {
		var parts []string
		for _, it := range items {
			parts = append(parts, inline(it, true, 0))
		}
		return f.insertFlow(n, strings.Join(parts, ", "))
	}
	if len(n.Content) == 0 {
		return errUnsupported
	}
	e, err := f.end(n)
	if err != nil {
		return err
	}
	indent := n.Column - 1
	if n.Kind == yaml.MappingNode {
		indent = n.Content[0].Column - 1
	}
	var text string
	if n.Kind == yaml.MappingNode {
		text = block(kv, indent)
	} else {
		text = block(items, indent)
	}
	at := f.nextLine(e)
	if at == len(f.src) && (len(f.src) == 0 || f.src[len(f.src)-1] != '\n') {
		f.add(at, at, "\n"+text)
		return nil
	}
	f.add(at, at, text+"\n")
	return nil
}

func (f *yamlFile) insertFlow(n *yaml.Node, text string) error {
	e, err := f.end(n)
	if err != nil {
		return err
	}
	if len(n.Content) == 0 {
		f.add(e-1, e-1, text)
		return nil
	}
	le, err := f.end(n.Content[len(n.Content)-1])
	if err != nil {
		return err
	}
	f.add(le, le, ", "+text)
	return nil
}

// isInline reports whether v is rendered on one line in block context.
func isInline(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case string:
		return !strings.Contains(v, "\n")
	}
	return true
}

// inline renders v on one line; collections as JSON, which is flow YAML.
// style is the original node's, kept for strings where possible.
func inline(v any, flow bool, style yaml.Style) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return yamlsplice.Scalar(v, style, flow)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "null"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func jsonString(s string) string { return yamlsplice.DoubleQuote(s) }

func renderKey(k string, flow bool) string {
	if yamlsplice.PlainSafe(k, flow) {
		return k
	}
	return jsonString(k)
}

// afterKey renders v after "key:" in block context, the key indented by
// indent.
func afterKey(v any, indent int) string { return afterKeyIndent(v, indent+2) }

// afterKeyIndent renders v after "key:" in block context, its lines
// indented by child.
func afterKeyIndent(v any, child int) string {
	switch x := v.(type) {
	case string:
		if !isInline(x) {
			return " " + literal(x, max(child, 1))
		}
	case map[string]any:
		if len(x) > 0 {
			return "\n" + block(x, child)
		}
	case []any:
		if len(x) > 0 {
			return "\n" + block(x, child)
		}
	}
	return " " + inline(v, false, 0)
}

// afterDash renders v as a list item's content starting at column col.
func afterDash(v any, col int) string {
	switch x := v.(type) {
	case string:
		if !isInline(x) {
			return literal(x, col)
		}
	case map[string]any:
		if len(x) > 0 {
			return block(x, col)[col:]
		}
	case []any:
		if len(x) > 0 {
			return block(x, col)[col:]
		}
	}
	return inline(v, false, 0)
}

// literal renders a multi-line string as a literal block scalar whose lines
// are indented by indent, or as a JSON string when a block cannot hold it
// exactly.
func literal(s string, indent int) string {
	body := strings.TrimSuffix(s, "\n")
	if strings.HasSuffix(body, "\n") || strings.HasPrefix(body, " ") || strings.ContainsAny(body, "\t\r") {
		return jsonString(s)
	}
	lines := strings.Split(body, "\n")
	for _, l := range lines {
		if strings.TrimRight(l, " ") != l {
			return jsonString(s)
		}
	}
	head := "|-"
	if strings.HasSuffix(s, "\n") {
		head = "|"
	}
	var b strings.Builder
	b.WriteString(head)
	for _, l := range lines {
		b.WriteString("\n")
		if l != "" {
			b.WriteString(strings.Repeat(" ", indent) + l)
		}
	}
	return b.String()
}

// block renders a non-empty map or list in block style, every line
// indented by indent, without a final newline.
func block(v any, indent int) string {
	pad := strings.Repeat(" ", indent)
	var lines []string
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			lines = append(lines, pad+renderKey(k, false)+":"+afterKey(x[k], indent))
		}
	case []any:
		for _, it := range x {
			lines = append(lines, pad+"- "+afterDash(it, indent+2))
		}
	default:
		return pad + inline(v, false, 0)
	}
	return strings.Join(lines, "\n")
}
