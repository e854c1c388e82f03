package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// A file whose first non-space byte is '{' is read as a stream of JSON
// values, as kubectl does (so `jq -c` output works, and \ud83d\ude00 escapes,
// which YAML parsers reject, are fine). Numbers are decoded as
// k8s.io/apimachinery/pkg/util/json does: int64 when the text is an
// integer that fits, float64 otherwise (so 1.0 stays float64 here, while
// YAML's 1.0 becomes int64: the same happens in kubectl).

// jsonDoc is one top-level JSON value and where it starts.
type jsonDoc struct {
	value any
	pos   pos
}

// maxJSONDepth bounds nesting, as encoding/json does.
const maxJSONDepth = 10000

type jsonStream struct {
	file  string
	data  []byte
	dec   *json.Decoder
	lines []int // offsets where lines start
	// syntax is set by a JSON syntax error (as opposed to, say, a
	// duplicate key), after which the caller tries YAML.
	syntax bool
}

// decodeJSONStream decodes the values in data. On error, syntax says
// whether it was a JSON syntax error.
func decodeJSONStream(file string, data []byte) (docs []jsonDoc, syntax bool, err error) {
	s := &jsonStream{file: file, data: data, dec: json.NewDecoder(bytes.NewReader(data)), lines: []int{0}}
	s.dec.UseNumber()
	for i, b := range data {
		if b == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	for s.skip() < len(data) {
		v, p, err := s.value(0)
		if err != nil {
			return nil, s.syntax, err
		}
		docs = append(docs, jsonDoc{value: v, pos: p})
	}
	return docs, false, nil
}

// skip returns the offset of the next token.
func (s *jsonStream) skip() int {
	off := int(s.dec.InputOffset())
	for off < len(s.data) {
		switch s.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// line returns the 1-based line of offset off.
func (s *jsonStream) line(off int) int {
	return sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off })
}

func (s *jsonStream) errorf(off int, format string, args ...any) error {
	return &ParseError{File: s.file, Line: s.line(off), Err: fmt.Errorf(format, args...)}
}

// syntaxError places an error from the json decoder.
func (s *jsonStream) syntaxError(err error) error {
	off := len(s.data) - 1
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off = int(se.Offset) - 1
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		err = errors.New("unexpected end of JSON input")
	}
	off = max(0, min(off, len(s.data)-1))
	s.syntax = true
	return s.errorf(off, "json: %v", err)
}

func (s *jsonStream) value(depth int) (any, pos, error) {
	start := s.skip()
	p := pos{line: s.line(start)}
	if depth > maxJSONDepth {
		return nil, p, s.errorf(start, "json: exceeded max depth of %d", maxJSONDepth)
	}
	tok, err := s.dec.Token()
	if err != nil {
		return nil, p, s.syntaxError(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			list := []any{}
			for s.dec.More() {
				v, ip, err := s.value(depth + 1)
				if err != nil {
					return nil, p, err
				}
				list = append(list, v)
				p.items = append(p.items, ip)
			}
			if _, err := s.dec.Token(); err != nil { // ']'
				return nil, p, s.syntaxError(err)
			}
			return list, p, nil
		}
		return s.object(depth, p)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, p, nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, p, s.errorf(start, "json: number %s: %w", t, err)
		}
		return f, p, nil
	default: // string, bool, nil
		return t, p, nil
	}
}

func (s *jsonStream) object(depth int, p pos) (any, pos, error) {
	m := map[string]any{}
	lines := map[string]int{}
	for s.dec.More() {
		start := s.skip()
		tok, err := s.dec.Token()
		if err != nil {
			return nil, p, s.syntaxError(err)
		}
		key, _ := tok.(string) // the decoder only gives strings here
		if first, dup := lines[key]; dup {
			return nil, p, s.errorf(start, "duplicate key %q (first at line %d)", key, first)
		}
		lines[key] = s.line(start)
		v, vp, err := s.value(depth + 1)
		if err != nil {
			return nil, p, err
		}
		m[key] = v
		if _, isList := v.([]any); isList && key == "items" {
			p.items = vp.items
		}
	}
	if _, err := s.dec.Token(); err != nil { // '}'
		return nil, p, s.syntaxError(err)
	}
	return m, p, nil
}
