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
}

type parser struct {
	yamlpos.Walker
	// prefix is the current tenant's field prefix ("tenants[1]."), cut from
	// the field paths recorded in Tenant.pos.
	prefix string
}

func (p *parser) scalar(n *yaml.Node, field string) string {
	s, _ := p.String(n, field)
	return s
}

func (p *parser) list(n *yaml.Node, field string, pos map[string]yamlpos.Pos) []string {
	n = yamlpos.Deref(n)
	if n.Kind == yaml.ScalarNode && !yamlpos.IsNull(n) {
		p.Errorf(n, field, "must be a list of strings, not a single value (write [%s])", gitrepo.RedactURL(n.Value))
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.Errorf(n, field, "must be a list of strings, not %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		f := yamlpos.Index(field, i)
		pos[strings.TrimPrefix(f, p.prefix)] = yamlpos.At(item)
		out = append(out, p.scalar(item, f))
	}
	return out
}

func (p *parser) stringMap(n *yaml.Node, field string, pos map[string]yamlpos.Pos) map[string]string {
	out := map[string]string{}
	p.Mapping(n, field, nil, func(key string, k, v *yaml.Node) {
		pos[strings.TrimPrefix(yamlpos.Join(field, key), p.prefix)] = yamlpos.At(k)
		out[key] = p.scalar(v, yamlpos.Join(field, key))
	})
	return out
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
			apiVersion = p.scalar(v, key)
			if apiVersion != FileAPIVersion {
				p.Errorf(v, key, "must be %s, not %q", FileAPIVersion, apiVersion)
			}
		case "kind":
			kind = p.scalar(v, key)
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

var (
	tenantFields   = []string{"name", "namespaces", "owners", "operator", "repos", "quota", "limits", "podSecurity", "ingressNamespace", "extraResources", "reconcilerServiceAccount", "argocd", "flux"}
	ownersFields   = []string{"users", "groups"}
	limitsFields   = []string{"default", "defaultRequest", "max", "min"}
	argoCDFields   = []string{"namespace", "server"}
	fluxFieldNames = []string{"branch", "path", "interval", "environments"}
)

func (p *parser) tenant(n *yaml.Node, index int) *Tenant {
	t := &Tenant{file: p.File, index: index, pos: map[string]yamlpos.Pos{"": yamlpos.At(n)}}
	prefix := yamlpos.Index("tenants", index)
	p.prefix = prefix + "."
	f := func(s string) string { return yamlpos.Join(prefix, s) }
	// sub walks a nested mapping, recording its keys' positions.
	sub := func(key string, v *yaml.Node, known []string, each func(key2, field string, v2 *yaml.Node)) {
		p.Mapping(v, f(key), known, func(key2 string, k2, v2 *yaml.Node) {
			field := key + "." + key2
			t.pos[field] = yamlpos.At(k2)
			each(key2, field, v2)
		})
	}
	p.Mapping(n, prefix, tenantFields, func(key string, k, v *yaml.Node) {
		t.pos[key] = yamlpos.At(k)
		switch key {
		case "name":
			t.Name = p.scalar(v, f(key))
		case "namespaces":
			t.Namespaces = p.list(v, f(key), t.pos)
		case "owners":
			sub(key, v, ownersFields, func(key2, field string, v2 *yaml.Node) {
				if key2 == "users" {
					t.Owners.Users = p.list(v2, f(field), t.pos)
				} else {
					t.Owners.Groups = p.list(v2, f(field), t.pos)
				}
			})
		case "operator":
			t.Operator = Operator(p.scalar(v, f(key)))
		case "repos":
			t.Repos = p.list(v, f(key), t.pos)
		case "quota":
			t.Quota = p.stringMap(v, f(key), t.pos)
		case "limits":
			t.Limits = &Limits{}
			sub(key, v, limitsFields, func(key2, field string, v2 *yaml.Node) {
				m := map[string]*map[string]string{"default": &t.Limits.Default, "defaultRequest": &t.Limits.DefaultRequest,
					"max": &t.Limits.Max, "min": &t.Limits.Min}[key2]
				*m = p.stringMap(v2, f(field), t.pos)
			})
		case "podSecurity":
			t.PodSecurity = p.scalar(v, f(key))
		case "ingressNamespace":
			t.IngressNamespace = p.scalar(v, f(key))
		case "extraResources":
			t.ExtraResources = p.list(v, f(key), t.pos)
		case "reconcilerServiceAccount":
			t.ReconcilerServiceAccount = p.scalar(v, f(key))
		case "argocd":
			sub(key, v, argoCDFields, func(key2, field string, v2 *yaml.Node) {
				if key2 == "namespace" {
					t.ArgoCD.Namespace = p.scalar(v2, f(field))
				} else {
					t.ArgoCD.Server = p.scalar(v2, f(field))
				}
			})
		case "flux":
			sub(key, v, fluxFieldNames, func(key2, field string, v2 *yaml.Node) {
				switch key2 {
				case "branch":
					t.Flux.Branch = p.scalar(v2, f(field))
				case "path":
					t.Flux.Path = p.scalar(v2, f(field))
				case "interval":
					t.Flux.Interval = p.scalar(v2, f(field))
				case "environments":
					t.Flux.Environments = p.list(v2, f(field), t.pos)
				}
			})
		}
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
