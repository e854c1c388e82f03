package tenancy

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlpos"
)

// File format of tenants.yaml.
const (
	FileAPIVersion = "kubectl-gitops.io/v1alpha1"
	FileKind       = "Tenants"
)

// File is the document of a tenants.yaml file.
type File struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Tenants    []*Tenant `json:"tenants"`
}

// Parse reads a tenants.yaml document. name is used in error messages. It
// checks the structure (unknown fields, wrong types) and then validates the
// tenants with Validate; every error names name:line:column and the field.
func Parse(name string, data []byte) ([]*Tenant, error) {
	root, err := yamlpos.Load(name, data)
	if err != nil {
		var e *yamlpos.Error
		errors.As(err, &e)
		return nil, &FieldError{File: name, Line: e.Pos.Line, Column: e.Pos.Column, Field: "(document)", Msg: e.Msg}
	}
	if root == nil {
		return nil, &FieldError{File: name, Field: "tenants", Msg: "the file is empty"}
	}
	p := &parser{Walker: yamlpos.Walker{File: name, Words: words}}
	tenants := p.file0(root)
	if len(p.Errs) > 0 {
		errs := make(ErrorList, len(p.Errs))
		for i, e := range p.Errs {
			errs[i] = &FieldError{File: e.File, Line: e.Pos.Line, Column: e.Pos.Column, Field: e.Field, Msg: e.Msg}
		}
		return nil, errs.sorted()
	}
	if err := Validate(tenants); err != nil {
		return nil, err
	}
	return tenants, nil
}

// words are tenants.yaml's messages: a value is named with the user
// information of a URL left out (it may be a token).
var words = yamlpos.Words{
	Twice: "field is given twice",
	Unknown: func(_, keyField, _ string, known []string) (string, string) {
		return keyField, "unknown field (want " + strings.Join(known, ", ") + ")"
	},
	Value: kindName,
	Text:  gitrepo.RedactURL,
}

type parser struct {
	yamlpos.Walker
}

func (p *parser) file0(root *yaml.Node) []*Tenant {
	if root.Kind != yaml.MappingNode {
		p.Errorf(root, "(document)", "must be a mapping, not %s", kindName(root))
		return nil
	}
	var tenants []*Tenant
	var apiVersion, kind string
	var tenantsNode *yaml.Node
	p.Mapping(root, "", []string{"apiVersion", "kind", "tenants"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "apiVersion":
			apiVersion, _ = p.String(v, key)
			if apiVersion != FileAPIVersion {
				p.Errorf(v, key, "must be %s, not %q", FileAPIVersion, apiVersion)
			}
		case "kind":
			kind, _ = p.String(v, key)
			if kind != FileKind {
				p.Errorf(v, key, "must be %s, not %q", FileKind, kind)
			}
		case "tenants":
			tenantsNode = v
		}
	})
	if len(p.Errs) > 0 {
		return nil
	}
	if apiVersion == "" {
		p.Errorf(root, "apiVersion", "missing: want %s", FileAPIVersion)
	}
	if kind == "" {
		p.Errorf(root, "kind", "missing: want %s", FileKind)
	}
	if tenantsNode == nil {
		p.Errorf(root, "tenants", "missing: the list of tenants")
		return nil
	}
	items, ok := p.List(tenantsNode, "tenants")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		p.Errorf(tenantsNode, "tenants", "the list is empty")
	}
	for i, n := range items {
		tenants = append(tenants, p.tenant(n, i))
	}
	return tenants
}

func (p *parser) tenant(n *yaml.Node, index int) *Tenant {
	t := &Tenant{file: p.File, index: index, pos: map[string]yamlpos.Pos{"": yamlpos.At(n)}}
	prefix := yamlpos.Index("tenants", index)
	p.Decode(n, prefix, t, func(field string, at yamlpos.Pos) {
		t.pos[strings.TrimPrefix(field, prefix+".")] = at
	})
	return t
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if yamlpos.IsNull(n) {
			return "null"
		}
		// A URL's user information stays out of errors: it may be a token.
		return fmt.Sprintf("the value %q", gitrepo.RedactURL(n.Value))
	default:
		return "an alias"
	}
}
