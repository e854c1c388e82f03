package ignore

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// FromArgo compiles the ignoreDifferences entries of an Argo CD
// Application, as decoded from the object (a []any of map[string]any, the
// form unstructured.Unstructured holds). field says where they were found
// (e.g. "spec.ignoreDifferences") and source which object they belong to
// (e.g. "argocd/argocd/web"): rules are named "<source> <field>[i]", and
// errors name the source and the field, as Parse's name file and line.
func FromArgo(entries []any, source, field string) (*Set, error) {
	return fromDecoded(entries, source, field, (*parser).argo)
}

// FromFlux compiles Flux spec.ignore entries (of a Kustomization, or of a
// HelmRelease's spec.driftDetection.ignore), decoded as for FromArgo.
func FromFlux(entries []any, source, field string) (*Set, error) {
	return fromDecoded(entries, source, field, (*parser).flux)
}

func fromDecoded(entries []any, source, field string, compile func(*parser, *yaml.Node, string) *Rule) (*Set, error) {
	if len(entries) == 0 {
		return &Set{}, nil
	}
	var n yaml.Node
	if err := n.Encode(entries); err != nil {
		return nil, &ParseError{File: source, Field: field, Err: err}
	}
	p := newParser(source)
	var rules []*Rule
	p.list(&n, field, func(i int, item *yaml.Node) {
		at := fmt.Sprintf("%s[%d]", field, i)
		if r := compile(p, item, at); r != nil {
			r.Name = source + " " + at
			r.Source = r.Name
			rules = append(rules, r)
		}
	})
	if err := p.err(); err != nil {
		return nil, err
	}
	return &Set{rules: rules}, nil
}
