package ignore

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/itchyny/gojq"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlpos"
)

// ParseError is one problem in a rule file, with its position. Parse joins
// all it finds with errors.Join; errors.As finds the first.
type ParseError struct {
	File string
	// Line and Column are 1-based, 0 when unknown (a syntax error has no
	// column).
	Line, Column int
	// Field is where in the file's structure the problem is, e.g.
	// "ignoreDifferences[0].kind"; "" for the file as a whole.
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	loc := e.File
	if p := (yamlpos.Pos{Line: e.Line, Column: e.Column}).String(); p != "" {
		loc += ":" + p
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
	root, err := yamlpos.Load(file, data)
	if err != nil {
		var e *yamlpos.Error
		errors.As(err, &e)
		return nil, parseError(e)
	}
	p := newParser(file)
	switch {
	case root == nil, isNull(root):
		return &Set{}, nil
	case root.Kind != yaml.MappingNode:
		p.fail(root, "", "the file must be a mapping with ignoreDifferences (Argo CD) and/or ignore (Flux)")
		return nil, p.err()
	}
	var rules []*Rule
	p.Mapping(root, "", []string{"ignoreDifferences", "ignore"}, func(key string, _, v *yaml.Node) {
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
		}
	})
	if err := p.err(); err != nil {
		return nil, err
	}
	return &Set{rules: rules}, nil
}

// parser collects the problems of one file.
type parser struct {
	yamlpos.Walker
}

// words are the rule files' messages.
var words = yamlpos.Words{
	NotMapping: "must be a mapping",
	NotList:    "must be a list",
	NotString:  "must be a string",
	KeyNotText: "keys must be strings",
	Twice:      "repeated key",
	Unknown: func(mapField, _, key string, _ []string) (string, string) {
		if mapField == "" {
			mapField = "top level"
		}
		return mapField, fmt.Sprintf("unknown field %q", key)
	},
}

func newParser(file string) *parser {
	return &parser{Walker: yamlpos.Walker{File: file, Words: words}}
}

func (p *parser) fail(n *yaml.Node, field, format string, args ...any) {
	p.Wrap(n, field, fmt.Errorf(format, args...))
}

func (p *parser) wrap(n *yaml.Node, field string, err error) { p.Wrap(n, field, err) }

func (p *parser) err() error {
	errs := make([]error, len(p.Errs))
	for i, e := range p.Errs {
		errs[i] = parseError(e)
	}
	return errors.Join(errs...)
}

func parseError(e *yamlpos.Error) *ParseError {
	err := e.Err
	if err == nil || err.Error() != e.Msg {
		err = errors.New(e.Msg)
	}
	return &ParseError{File: e.File, Line: e.Pos.Line, Column: e.Pos.Column, Field: e.Field, Err: err}
}

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
	nerr := len(p.Errs)
	p.Mapping(n, at, argoFields, func(key string, _, v *yaml.Node) {
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
		}
	})
	if !hasKind {
		p.fail(n, at+".kind", "required (\"*\" for any kind)")
	}
	if len(r.JSONPointers)+len(r.JQPathExpressions)+len(r.ManagedFieldsManagers) == 0 && len(p.Errs) == nerr {
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
	p.Mapping(n, at, []string{"paths", "target"}, func(key string, _, v *yaml.Node) {
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
		}
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
	p.Mapping(n, at, fluxTargetFields, func(key string, _, v *yaml.Node) {
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
				return
			}
			sel, err := labels.Parse(s)
			if err != nil {
				p.wrap(v, f, fmt.Errorf("invalid selector %q: %w", s, err))
				return
			}
			if key == "labelSelector" {
				t.labels = sel
			} else {
				t.annotations = sel
			}
			return
		}
		s, ok := p.str(v, f)
		if !ok {
			return
		}
		fl, err := anchored(s)
		if err != nil {
			p.wrap(v, f, fmt.Errorf("invalid regular expression %q: %w", s, err))
			return
		}
		*dst = fl
	})
	return t
}

func (p *parser) newRule(n *yaml.Node, desc string) *Rule {
	pos := fmt.Sprintf("%s:%d", p.File, n.Line)
	return &Rule{Name: pos, Description: desc, Source: pos}
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
	if isNull(n) {
		return
	}
	items, _ := p.List(n, at)
	for i, item := range items {
		fn(i, item)
	}
}

// str returns the scalar n as a string; null is "".
func (p *parser) str(n *yaml.Node, at string) (string, bool) {
	if isNull(n) {
		return "", true
	}
	return p.String(n, at)
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

var (
	deref  = yamlpos.Deref
	isNull = yamlpos.IsNull

	argoFields       = []string{"group", "kind", "name", "namespace", "jsonPointers", "jqPathExpressions", "managedFieldsManagers"}
	fluxTargetFields = []string{"group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"}
)
