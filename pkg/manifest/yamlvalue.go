package manifest

import (
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// This file turns go.yaml.in/yaml/v3 nodes (used for their line numbers)
// into the JSON-compatible values that `kubectl apply -f` would send for the
// same YAML: map[string]any, []any, string, bool, int64, float64 and nil.
//
// kubectl -f does not use yaml.v3. It converts each document with
// sigs.k8s.io/yaml.YAMLToJSON, which parses with go.yaml.in/yaml/v2, a YAML
// 1.1 parser, and then decodes the JSON with k8s.io/apimachinery's json
// package (integers become int64). We follow that pipeline rather than
// yaml.v3's YAML 1.2 rules so that drift is computed against what kubectl
// would really apply:
//
//   - y, Y, yes, Yes, YES, on, On, ON (and n, no, off, ...) are booleans, as
//     are true/True/TRUE; quote them to get strings. (yaml.v3 and kustomize
//     keep them as strings: kubectl -k and -f really differ here.)
//   - 0777 is octal (511), 0x1F hex, 0b101 binary, 1_000 is 1000.
//   - A float with an integral value (3.0, 1e3) becomes int64, because it
//     goes through JSON as "3"; 1.5 stays float64; integers beyond int64
//     become float64. .inf and .nan cannot be sent as JSON: an error.
//   - Timestamps (2001-12-14) stay strings.
//   - Non-string keys become strings (1 -> "1"; yes, y and on -> "true";
//     no, n and off -> "false", so a ConfigMap key `NO:` is "false"); a null
//     or collection key is an error.
//   - Merge keys (<<) are applied in document order: a merged key overrides
//     an explicit key written before the <<, as in yaml.v2.
//
// Where this package is stricter than kubectl: duplicate keys are an error
// (kubectl keeps one of them silently).

// pos records the line where a value starts and, for a sequence or a
// mapping with an "items" sequence, the positions of its elements.
type pos struct {
	line  int
	items []pos
}

// maxAliasNodes bounds how many nodes aliases may expand to in one document
// (a "billion laughs" document would otherwise exhaust memory).
const maxAliasNodes = 1 << 20

// converter converts the nodes of one document parsed from a chunk of file
// whose first line is offset+1.
type converter struct {
	file     string
	offset   int
	active   map[*yaml.Node]bool // anchors being expanded, to stop cycles
	aliasing int                 // depth of alias expansion
	expanded int                 // nodes converted through aliases
}

func (c *converter) errorf(n *yaml.Node, format string, args ...any) error {
	return &ParseError{File: c.file, Line: c.offset + n.Line, Err: fmt.Errorf(format, args...)}
}

// value converts n and everything under it.
func (c *converter) value(n *yaml.Node) (any, pos, error) {
	if c.aliasing > 0 {
		c.expanded++
		if c.expanded > maxAliasNodes {
			return nil, pos{}, c.errorf(n, "aliases expand to more than %d nodes", maxAliasNodes)
		}
	}
	p := pos{line: c.offset + n.Line}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, p, nil
		}
		return c.value(n.Content[0])
	case yaml.AliasNode:
		return c.alias(n)
	case yaml.ScalarNode:
		v, err := c.scalar(n)
		if err != nil {
			return nil, p, err
		}
		v, err = jsonNumber(v)
		if err != nil {
			return nil, p, c.errorf(n, "%w", err)
		}
		return v, p, nil
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, ip, err := c.value(item)
			if err != nil {
				return nil, p, err
			}
			list = append(list, v)
			p.items = append(p.items, ip)
		}
		return list, p, nil
	case yaml.MappingNode:
		return c.mapping(n, p)
	default:
		return nil, p, c.errorf(n, "unexpected YAML node kind %d", n.Kind)
	}
}

func (c *converter) alias(n *yaml.Node) (any, pos, error) {
	target := n.Alias
	if target == nil {
		return nil, pos{}, c.errorf(n, "unknown anchor %q referenced", n.Value)
	}
	if c.active[target] {
		return nil, pos{}, c.errorf(n, "anchor %q value contains itself", n.Value)
	}
	if c.active == nil {
		c.active = map[*yaml.Node]bool{}
	}
	c.active[target] = true
	c.aliasing++
	v, p, err := c.value(target)
	c.aliasing--
	delete(c.active, target)
	p.line = c.offset + n.Line
	return v, p, err
}

func (c *converter) mapping(n *yaml.Node, p pos) (any, pos, error) {
	m := make(map[string]any, len(n.Content)/2)
	lines := make(map[string]int, len(n.Content)/2) // explicit keys
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.Value == "<<" && kn.Tag == "!!merge" {
			if err := c.merge(m, vn); err != nil {
				return nil, p, err
			}
			continue
		}
		key, err := c.key(kn)
		if err != nil {
			return nil, p, err
		}
		if first, dup := lines[key]; dup {
			return nil, p, c.errorf(kn, "duplicate key %q (first at line %d)", key, first)
		}
		lines[key] = c.offset + kn.Line
		v, vp, err := c.value(vn)
		if err != nil {
			return nil, p, err
		}
		m[key] = v
		if _, isList := v.([]any); isList && key == "items" {
			p.items = vp.items
		}
	}
	return m, p, nil
}

// merge applies a "<<" value to m, as yaml.v2 does: a mapping, or a
// sequence of mappings of which the earlier ones win.
func (c *converter) merge(m map[string]any, n *yaml.Node) error {
	from := []*yaml.Node{n}
	if deref(n).Kind == yaml.SequenceNode {
		from = nil
		seq := deref(n).Content
		for i := len(seq) - 1; i >= 0; i-- {
			from = append(from, seq[i])
		}
	}
	for _, f := range from {
		if deref(f).Kind != yaml.MappingNode {
			return c.errorf(f, "map merge requires map or sequence of maps as the value")
		}
		v, _, err := c.value(f)
		if err != nil {
			return err
		}
		for k, val := range v.(map[string]any) {
			m[k] = val
		}
	}
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// key returns the JSON key for a mapping key, as sigs.k8s.io/yaml makes it.
func (c *converter) key(n *yaml.Node) (string, error) {
	kn := deref(n)
	if kn.Kind != yaml.ScalarNode {
		return "", c.errorf(n, "invalid map key: a key must be a scalar, not a collection")
	}
	v, err := c.scalar(kn)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		switch s := strconv.FormatFloat(v, 'g', -1, 32); s {
		case "+Inf":
			return ".inf", nil
		case "-Inf":
			return "-.inf", nil
		case "NaN":
			return ".nan", nil
		default:
			return s, nil
		}
	case bool:
		return strconv.FormatBool(v), nil
	default:
		return "", c.errorf(n, "unsupported map key %q: JSON keys must be strings, numbers or booleans", kn.Value)
	}
}

// scalar resolves a scalar node as yaml.v2 does when decoding into
// interface{}: string, bool, nil, int64, uint64 or float64.
func (c *converter) scalar(n *yaml.Node) (any, error) {
	tag := ""
	if n.Style&yaml.TaggedStyle != 0 {
		tag = n.Tag
	}
	if tag == "" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Value, nil
	}
	v, err := resolve(tag, n.Value)
	if err != nil {
		return nil, c.errorf(n, "%w", err)
	}
	return v, nil
}

// YAML tags, in yaml.v3's short form.
const (
	strTag       = "!!str"
	boolTag      = "!!bool"
	intTag       = "!!int"
	floatTag     = "!!float"
	nullTag      = "!!null"
	timestampTag = "!!timestamp"
	binaryTag    = "!!binary"
	mergeTag     = "!!merge"
)

// resolved is a tag and the value of that type.
type resolved struct {
	tag string
	v   any
}

// resolveMap holds the YAML 1.1 special plain scalars yaml.v2 knows.
var resolveMap = func() map[string]resolved {
	m := map[string]resolved{}
	for _, e := range []struct {
		resolved
		in []string
	}{
		{resolved{boolTag, true}, []string{"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}},
		{resolved{boolTag, false}, []string{"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}},
		{resolved{nullTag, nil}, []string{"", "~", "null", "Null", "NULL"}},
		{resolved{floatTag, math.NaN()}, []string{".nan", ".NaN", ".NAN"}},
		{resolved{floatTag, math.Inf(+1)}, []string{".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}},
		{resolved{floatTag, math.Inf(-1)}, []string{"-.inf", "-.Inf", "-.INF"}},
		{resolved{mergeTag, "<<"}, []string{"<<"}},
	} {
		for _, s := range e.in {
			m[s] = e.resolved
		}
	}
	return m
}()

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolve is yaml.v2's resolve (go.yaml.in/yaml/v2 resolve.go) for a scalar
// with the given explicit tag ("" for a plain scalar), followed by the
// decoding into interface{} that yaml.v2's decoder does: timestamps stay
// strings and !!binary is base64-decoded.
func resolve(tag, in string) (any, error) {
	switch tag {
	case "", strTag, boolTag, intTag, floatTag, nullTag, timestampTag:
	case binaryTag:
		data, err := base64.StdEncoding.DecodeString(in)
		if err != nil {
			return nil, fmt.Errorf("!!binary value contains invalid base64 data")
		}
		return validUTF8(string(data)), nil
	default: // a tag yaml.v2 does not resolve: the text as is
		return in, nil
	}
	rtag, v := resolvePlain(tag, in)
	switch {
	case tag == "" || tag == rtag || tag == strTag:
	case tag == floatTag && rtag == intTag && isInt64(v):
		v = float64(v.(int64))
	default:
		return nil, fmt.Errorf("cannot decode %s %s as a %s", rtag, redact.Quote(in), tag)
	}
	if rtag == timestampTag {
		return in, nil
	}
	return v, nil
}

func isInt64(v any) bool {
	_, ok := v.(int64)
	return ok
}

// resolvePlain returns the tag and value yaml.v2 resolves in to.
func resolvePlain(tag, in string) (string, any) {
	if tag == strTag {
		return strTag, in
	}
	if e, ok := resolveMap[in]; ok { // "" is null
		if e.tag == mergeTag { // unreachable in yaml.v2 too: '<' is no hint
			return strTag, in
		}
		return e.tag, e.v
	}
	switch c := in[0]; {
	case c == '.':
		if f, err := strconv.ParseFloat(in, 64); err == nil {
			return floatTag, f
		}
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		// Only unquoted scalars or explicit !!timestamp are timestamps.
		if tag == "" || tag == timestampTag {
			if isTimestamp(in) {
				return timestampTag, in
			}
		}
		plain := strings.ReplaceAll(in, "_", "")
		if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return intTag, i
		}
		if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return intTag, u
		}
		if yamlStyleFloat.MatchString(plain) {
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return floatTag, f
			}
		}
		if rest, ok := strings.CutPrefix(plain, "0b"); ok {
			if i, err := strconv.ParseInt(rest, 2, 64); err == nil {
				return intTag, i
			}
			if u, err := strconv.ParseUint(rest, 2, 64); err == nil {
				return intTag, u
			}
		} else if rest, ok := strings.CutPrefix(plain, "-0b"); ok {
			if i, err := strconv.ParseInt("-"+rest, 2, 64); err == nil {
				return intTag, i
			}
		}
	}
	return strTag, in
}

// timestampFormats are the ones yaml.v2 recognises.
var timestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

func isTimestamp(s string) bool {
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, f := range timestampFormats {
		if _, err := time.Parse(f, s); err == nil {
			return true
		}
	}
	return false
}

// jsonNumber turns a resolved scalar into what encoding it as JSON and
// decoding it as k8s.io/apimachinery does would give: uint64 becomes
// float64, an integral float within int64 becomes int64, NaN and infinities
// are an error.
func jsonNumber(v any) (any, error) {
	switch n := v.(type) {
	case uint64:
		return float64(n), nil
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, fmt.Errorf("unsupported value %v: JSON has no NaN or infinity", n)
		}
		if n == math.Trunc(n) && n >= math.MinInt64 && n < math.MaxInt64 {
			return int64(n), nil
		}
		return n, nil
	default:
		return v, nil
	}
}

// validUTF8 replaces each invalid byte with U+FFFD, as encoding/json does
// when it writes a string.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // RuneError for an invalid byte, with size 1
		i += size
	}
	return b.String()
}
