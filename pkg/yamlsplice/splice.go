package yamlsplice

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// ErrOverlap is returned when two edits touch the same bytes.
var ErrOverlap = errors.New("conflicting edits: two changes touch the same bytes")

// Edit replaces data[Start:End] with Text.
type Edit struct {
	Start, End int
	Text       string
}

// Apply splices the edits into data, in order of Start (identical edits
// count once). Text is written as it is: callers write line breaks with
// Source.Break or Source.LineBreak, or let WithBreaks convert them.
func Apply(data []byte, edits []Edit) ([]byte, error) {
	edits = slices.Clone(edits)
	slices.SortStableFunc(edits, func(a, b Edit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	edits = slices.Compact(edits)
	out := make([]byte, 0, len(data)+64)
	last := 0
	for _, e := range edits {
		if e.Start < last {
			return nil, ErrOverlap
		}
		out = append(out, data[last:e.Start]...)
		out = append(out, e.Text...)
		last = e.End
	}
	return append(out, data[last:]...), nil
}

// WithBreaks writes text's "\n" line breaks as brk (Source.Break: a CRLF
// file gets CRLF).
func WithBreaks(text, brk string) string {
	if brk == "\n" || brk == "" {
		return text
	}
	return strings.ReplaceAll(text, "\n", brk)
}

// PlainSafe reports whether s written unquoted as a mapping value (in a
// flow mapping when flow) reads back as the string s with YAML 1.1
// (sigs.k8s.io/yaml, as kubectl, Flux and Argo CD read manifests) and with
// YAML 1.2 (yaml.v3, as kustomize does). "yes", "on", "0644", "1_000",
// "null", "a: b" are not: each reads back as something else somewhere.
func PlainSafe(s string, flow bool) bool {
	if s == "" || strings.TrimSpace(s) != s || strings.ContainsAny(s, "\n\r\t\"'`") {
		return false
	}
	if strings.ContainsAny(s[:1], ",[]{}#&*!|>%@") || strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	// "-", "?" and ":" start a plain scalar unless a space follows.
	if strings.ContainsAny(s[:1], "-?:") && (len(s) == 1 || s[1] == ' ') || strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		return false
	}
	if flow && strings.ContainsAny(s, ",[]{}") {
		return false
	}
	doc := "v: " + s + "\n"
	if flow {
		doc = "{v: " + s + "}\n"
	}
	var v11 map[string]any
	if err := sigsyaml.Unmarshal([]byte(doc), &v11); err != nil || v11["v"] != s {
		return false
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil || len(n.Content) != 1 || len(n.Content[0].Content) != 2 {
		return false
	}
	v := n.Content[0].Content[1]
	return v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value == s && v.LineComment == ""
}

// DoubleQuote writes s as a double-quoted scalar (JSON's string syntax, which
// YAML 1.1 and 1.2 read alike).
func DoubleQuote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// SingleQuote writes s as a single-quoted scalar; ok is false when s holds
// a line break or tab, which a single-quoted scalar would fold.
func SingleQuote(s string) (string, bool) {
	if strings.ContainsAny(s, "\n\r\t") {
		return "", false
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", true
}

// Scalar writes s as a scalar in the style it replaces (plain, single or
// double quoted; in a flow collection when flow): single quotes kept when
// they can hold s, plain only when PlainSafe, double quotes otherwise.
func Scalar(s string, style yaml.Style, flow bool) string {
	switch {
	case style&yaml.SingleQuotedStyle != 0:
		if q, ok := SingleQuote(s); ok {
			return q
		}
	case style&yaml.DoubleQuotedStyle == 0 && PlainSafe(s, flow):
		return s
	}
	return DoubleQuote(s)
}
