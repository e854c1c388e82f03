package ignore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"
)

// ParseError is one problem in a rule file, with its position. Parse joins
// all it finds with errors.Join; errors.As finds the first.
type ParseError struct {
	File string
	Line int
	// Field is where in the file's structure the problem is, e.g.
	// "ignoreDifferences[0].kind"; "" for the file as a whole.
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field == "" {
		return fmt.Sprintf("parsing %s: %v", loc, e.Err)
	}
	return fmt.Sprintf("parsing %s: %s: %v", loc, e.Field, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// LoadFile reads and parses a rule file (see Parse).
func LoadFile(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading ignore rules: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a rule file: one YAML document, a mapping with either or
// both of these keys (see the package documentation for the fields):
//
//	ignoreDifferences: [...]   # Argo CD's grammar
//	ignore: [...]              # Flux's grammar
//
// file names the file in rule names and errors. An empty document gives an
// empty set. Errors name file:line and the offending field: unknown or
// repeated keys, values of the wrong type, a missing kind or paths, an
// entry ignoring nothing, a bad regular expression, label or annotation
// selector, JSON pointer or jq expression (jq is compiled here). All
// problems are reported, joined.
func Parse(data []byte, file string) (*Set, error) {
	if file == "" {
		file = "<input>"
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Set{}, nil
		}
		return nil, &ParseError{File: file, Err: err}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, &ParseError{File: file, Err: err}
		}
		return nil, &ParseError{File: file, Line: extra.Line, Err: errors.New("only one YAML document is allowed")}
	}

	p := &parser{file: file}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = deref(root.Content[0])
	}
	switch {
	case isNull(root):
		return &Set{}, nil
	case root.Kind != yaml.MappingNode:
		p.fail(root, "", "the file must be a mapping with ignoreDifferences (Argo CD) and/or ignore (Flux)")
		return nil, p.err()
	}
	var rules []*Rule
	p.mapping(root, "", func(key string, v *yaml.Node) bool {
		switch key {
		case "ignoreDifferences":
			p.list(v, key, func(i int, item *yaml.Node) {
				if r := p.argo(item, fmt.Sprintf("%s[%d]", key, i)); r != nil {
					rules = append(rules, r)
				}
			})
		case "ignore":
			p.list(v, key, func(i int, item *yaml.Node) {
				if r := p.flux(item, fmt.Sprintf("%s[%d]", key, i)); r != nil {
					rules = append(rules, r)
				}
			})
		default:
			return false
		}
		return true
	})
	if err := p.err(); err != nil {
		return nil, err
	}
	return &Set{rules: rules}, nil
}

// parser collects the problems of one file.
type parser struct {
	file string
	errs []error
}

func (p *parser) fail(n *yaml.Node, field, format string, args ...any) {
	p.errs = append(p.errs, &ParseError{File: p.file, Line: n.Line, Field: field, Err: fmt.Errorf(format, args...)})
}

func (p *parser) wrap(n *yaml.Node, field string, err error) {
	p.errs = append(p.errs, &ParseError{File: p.file, Line: n.Line, Field: field, Err: err})
}

func (p *parser) err() error { return errors.Join(p.errs...) }

// argo compiles one ignoreDifferences entry:
//
//	group: apps        # "" (or absent) is the core group; "*" and "?" are wildcards
//	kind: Deployment   # required; "*" and "?" are wildcards
//	name: web          # optional, exact
//	namespace: prod    # optional, exact
//	jsonPointers: [...]
//	jqPathExpressions: [...]
//	managedFieldsManagers: [...]
func (p *parser) argo(n *yaml.Node, at string) *Rule {
	if !p.isMapping(n, at) {
		return nil
	}
	r := p.newRule(n, at+" (Argo CD ignoreDifferences)")
	var group, kind, name, namespace string
	var hasKind bool
	nerr := len(p.errs)
	p.mapping(n, at, func(key string, v *yaml.Node) bool {
		f := at + "." + key
		switch key {
		case "group":
			group, _ = p.str(v, f)
		case "kind":
			hasKind = true
			var ok bool
			if kind, ok = p.str(v, f); ok && kind == "" {
				p.fail(v, f, "required (\"*\" for any kind)")
			}
		case "name":
			name, _ = p.str(v, f)
		case "namespace":
			namespace, _ = p.str(v, f)
		case "jsonPointers":
			r.JSONPointers = p.pointers(v, f)
		case "jqPathExpressions":
			r.JQPathExpressions, r.jq = p.jqs(v, f)
		case "managedFieldsManagers":
			r.ManagedFieldsManagers = p.strs(v, f)
		default:
			return false
		}
		return true
	})
	if !hasKind {
		p.fail(n, at+".kind", "required (\"*\" for any kind)")
	}
	if len(r.JSONPointers)+len(r.JQPathExpressions)+len(r.ManagedFieldsManagers) == 0 && len(p.errs) == nerr {
		p.fail(n, at, "ignores nothing: set jsonPointers, jqPathExpressions or managedFieldsManagers")
	}
	t := Target{group: glob(group), kind: glob(kind)}
	if name != "" {
		t.name = exact(name)
	}
	if namespace != "" {
		t.namespace = exact(namespace)
	}
	r.Targets = []Target{t}
	return r
}

// flux compiles one spec.ignore entry of a Flux HelmRelease or
// Kustomization:
//
//	paths: [...]       # required: JSON pointers
//	target:            # optional; absent: every object
//	  group, version, kind, name, namespace: regular expressions, anchored
//	  labelSelector, annotationSelector: label selector syntax
func (p *parser) flux(n *yaml.Node, at string) *Rule {
	if !p.isMapping(n, at) {
		return nil
	}
	r := p.newRule(n, at+" (Flux ignore)")
	var t Target
	var hasPaths bool
	p.mapping(n, at, func(key string, v *yaml.Node) bool {
		f := at + "." + key
		switch key {
		case "paths":
			hasPaths = true
			r.JSONPointers = p.pointers(v, f)
			if dv := deref(v); dv.Kind == yaml.SequenceNode && len(dv.Content) == 0 {
				p.fail(v, f, "must not be empty")
			}
		case "target":
			t = p.fluxTarget(v, f)
		default:
			return false
		}
		return true
	})
	if !hasPaths {
		p.fail(n, at+".paths", "required")
	}
	r.Targets = []Target{t}
	return r
}

func (p *parser) fluxTarget(n *yaml.Node, at string) Target {
	var t Target
	if isNull(n) || !p.isMapping(n, at) {
		return t
	}
	p.mapping(n, at, func(key string, v *yaml.Node) bool {
		f := at + "." + key
		var dst *field
		switch key {
		case "group":
			dst = &t.group
		case "version":
			dst = &t.version
		case "kind":
			dst = &t.kind
		case "name":
			dst = &t.name
		case "namespace":
			dst = &t.namespace
		case "labelSelector", "annotationSelector":
			s, ok := p.str(v, f)
			if !ok || s == "" {
				return true
			}
			sel, err := labels.Parse(s)
			if err != nil {
				p.wrap(v, f, fmt.Errorf("invalid selector %q: %w", s, err))
				return true
			}
			if key == "labelSelector" {
				t.labels = sel
			} else {
				t.annotations = sel
			}
			return true
		default:
			return false
		}
		s, ok := p.str(v, f)
		if !ok {
			return true
		}
		fl, err := anchored(s)
		if err != nil {
			p.wrap(v, f, fmt.Errorf("invalid regular expression %q: %w", s, err))
			return true
		}
		*dst = fl
		return true
	})
	return t
}

func (p *parser) newRule(n *yaml.Node, desc string) *Rule {
	pos := fmt.Sprintf("%s:%d", p.file, n.Line)
	return &Rule{Name: pos, Description: desc, Source: pos}
}

// mapping calls fn for every key of the mapping n, in order, reporting
// repeated keys and the keys fn does not know (fn returns false).
func (p *parser) mapping(n *yaml.Node, at string, fn func(key string, v *yaml.Node) bool) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		where := at
		if where == "" {
			where = "top level"
		}
		if k.Kind != yaml.ScalarNode {
			p.fail(k, at, "keys must be strings")
			continue
		}
		if seen[k.Value] {
			p.fail(k, joinField(at, k.Value), "repeated key")
			continue
		}
		seen[k.Value] = true
		if !fn(k.Value, v) {
			p.fail(k, where, "unknown field %q", k.Value)
		}
	}
}

func joinField(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func (p *parser) isMapping(n *yaml.Node, at string) bool {
	if deref(n).Kind != yaml.MappingNode {
		p.fail(n, at, "must be a mapping")
		return false
	}
	return true
}

// list calls fn for every item of the sequence n; null is an empty list.
func (p *parser) list(n *yaml.Node, at string, fn func(i int, item *yaml.Node)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(n, at, "must be a list")
		return
	}
	for i, item := range n.Content {
		fn(i, deref(item))
	}
}

// str returns the scalar n as a string; null is "".
func (p *parser) str(n *yaml.Node, at string) (string, bool) {
	n = deref(n)
	if isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		p.fail(n, at, "must be a string")
		return "", false
	}
	return n.Value, true
}

func (p *parser) strs(n *yaml.Node, at string) []string {
	var out []string
	p.list(n, at, func(i int, item *yaml.Node) {
		if s, ok := p.str(item, fmt.Sprintf("%s[%d]", at, i)); ok {
			out = append(out, s)
		}
	})
	return out
}

func (p *parser) pointers(n *yaml.Node, at string) []string {
	var out []string
	p.list(n, at, func(i int, item *yaml.Node) {
		f := fmt.Sprintf("%s[%d]", at, i)
		s, ok := p.str(item, f)
		if !ok {
			return
		}
		if err := checkPointer(s); err != nil {
			p.wrap(item, f, fmt.Errorf("invalid JSON pointer %q: %w", s, err))
			return
		}
		out = append(out, s)
	})
	return out
}

func (p *parser) jqs(n *yaml.Node, at string) ([]string, []*gojq.Code) {
	var exprs []string
	var codes []*gojq.Code
	p.list(n, at, func(i int, item *yaml.Node) {
		f := fmt.Sprintf("%s[%d]", at, i)
		s, ok := p.str(item, f)
		if !ok {
			return
		}
		c, err := compileJQ(s)
		if err != nil {
			p.wrap(item, f, fmt.Errorf("invalid jq expression %q: %w", s, err))
			return
		}
		exprs = append(exprs, s)
		codes = append(codes, c)
	})
	return exprs, codes
}

// checkPointer checks RFC 6901 syntax: "" (the whole object) is refused,
// since an ignored object is not drift detection's business.
func checkPointer(s string) error {
	if s == "" {
		return errors.New("the empty pointer would ignore the whole object")
	}
	if !strings.HasPrefix(s, "/") {
		return errors.New(`must start with "/"`)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '~' && (i+1 == len(s) || (s[i+1] != '0' && s[i+1] != '1')) {
			return errors.New(`"~" must be followed by 0 or 1 ("~0" is "~", "~1" is "/")`)
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

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}
