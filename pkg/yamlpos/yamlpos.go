package yamlpos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Pos is a place in a file, 1-based; 0 when unknown (a syntax error has a
// line but no column: yaml.v3 reports none).
type Pos struct {
	Line, Column int
}

// At is n's position.
func At(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

// String is "line:column", "line", or "" when unknown.
func (p Pos) String() string {
	switch {
	case p.Line <= 0:
		return ""
	case p.Column <= 0:
		return strconv.Itoa(p.Line)
	}
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
}

// Error is one mistake in a file: file:line:column: field: message.
type Error struct {
	File string
	Pos  Pos
	// Field is the path of the field, e.g. "environments[2].policy"; ""
	// for the document as a whole.
	Field string
	Msg   string
	// Err is the cause, if any (a yaml.v3 syntax error, a failed check).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if p := e.Pos.String(); p != "" {
		b.WriteString(":" + p)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// The messages of Load's refusals.
const (
	MsgSecondDocument = "only one YAML document is allowed"
	MsgInvalid        = "invalid YAML: "
)

// Load decodes data as exactly one YAML document and returns its root
// (the document's content, aliases resolved), or nil when data holds no
// document at all (empty, or only comments). A document holding only null
// is returned as its null scalar: IsNull tells. The error is an *Error:
// a syntax error at its line ("invalid YAML: ..."), a second document at
// its line:column, aliases that expand beyond yaml.v3's own limits or
// contain themselves.
func Load(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Pos: At(&extra), Msg: MsgSecondDocument}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(file, err)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 0 {
		return nil, nil
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		root = doc.Content[0]
	}
	if err := checkAliases(root); err != nil {
		return nil, &Error{File: file, Pos: At(err.at), Msg: MsgInvalid + err.msg}
	}
	return Deref(root), nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError places a yaml.v3 error at its line.
func syntaxError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Pos: Pos{Line: line}, Msg: MsgInvalid + m[2], Err: err}
	}
	return &Error{File: file, Msg: MsgInvalid + strings.TrimPrefix(msg, "yaml: "), Err: err}
}

type aliasError struct {
	at  *yaml.Node
	msg string
}

// checkAliases applies yaml.v3's limits on alias expansion, which do not
// apply when a document is decoded into a yaml.Node (the node keeps its
// aliases; a walker resolving them would expand a "billion laughs"
// document): it counts the nodes a full expansion visits exactly as
// yaml.v3's decoder does, and stops at the same ratio of alias-driven
// nodes, or at an alias inside its own anchor's value.
func checkAliases(root *yaml.Node) *aliasError {
	var decodes, aliased, depth int
	var outer *yaml.Node // the alias being expanded, reported
	active := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node) *aliasError
	walk = func(n *yaml.Node) *aliasError {
		decodes++
		if depth > 0 {
			aliased++
		}
		if aliased > 100 && decodes > 1000 && float64(aliased)/float64(decodes) > allowedAliasRatio(decodes) {
			return &aliasError{outer, "document contains excessive aliasing"}
		}
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return nil
			}
			if active[n] {
				return &aliasError{n, fmt.Sprintf("anchor '%s' value contains itself", n.Value)}
			}
			active[n] = true
			if depth == 0 {
				outer = n
			}
			depth++
			err := walk(n.Alias)
			depth--
			delete(active, n)
			return err
		}
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(root)
}

// allowedAliasRatio is yaml.v3's (decode.go).
func allowedAliasRatio(decodeCount int) float64 {
	const low, high = 400000, 4000000
	switch {
	case decodeCount <= low:
		return 0.99
	case decodeCount >= high:
		return 0.10
	}
	return 0.99 - 0.89*(float64(decodeCount-low)/float64(high-low))
}

// Deref resolves aliases.
func Deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// IsNull reports a null value (null, ~, nothing), aliases resolved.
func IsNull(n *yaml.Node) bool {
	n = Deref(n)
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// Describe names a value for "must be X, not Y" messages: "a mapping",
// "a list", "empty" (null), or the scalar quoted.
func Describe(n *yaml.Node) string {
	n = Deref(n)
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case IsNull(n):
		return "empty"
	case n.Kind == yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "an alias"
}

// Join is a field path's child: Join("", "a") is "a", Join("a", "b") is "a.b".
func Join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// Index is a list item's field path: "a[2]".
func Index(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }
