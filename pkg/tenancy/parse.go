package tenancy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
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
// tenants with Validate; every error names name:line and the field.
func Parse(name string, data []byte) ([]*Tenant, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{File: name, Field: "tenants", Msg: "the file is empty"}
		}
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &FieldError{File: name, Line: extra.Line, Field: "(document)", Msg: "only one YAML document is allowed"}
	}
	p := &parser{file: name}
	tenants := p.file0(&doc)
	if len(p.errs) > 0 {
		return nil, p.errs.sorted()
	}
	if err := Validate(tenants); err != nil {
		return nil, err
	}
	return tenants, nil
}

type parser struct {
	file string
	errs ErrorList
	// prefix is the current tenant's field prefix ("tenants[1]."), cut from
	// the field paths recorded in Tenant.lines.
	prefix string
}

func (p *parser) fail(n *yaml.Node, field, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{File: p.file, Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// pairs iterates over a mapping node's keys and values, reporting a node of
// another kind.
func (p *parser) pairs(n *yaml.Node, field string, each func(key string, k, v *yaml.Node)) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, field, "must be a mapping, not %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.fail(k, join(field, k.Value), "field is given twice")
			continue
		}
		seen[k.Value] = true
		each(k.Value, k, v)
	}
}

func (p *parser) scalar(n *yaml.Node, field string) string {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.fail(n, field, "must be a string, not %s", kindName(n))
		return ""
	}
	return n.Value
}

func (p *parser) list(n *yaml.Node, field string, lines map[string]int) []string {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		p.fail(n, field, "must be a list of strings, not a single value (write [%s])", gitrepo.RedactURL(n.Value))
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(n, field, "must be a list of strings, not %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		lines[strings.TrimPrefix(f, p.prefix)] = item.Line
		out = append(out, p.scalar(item, f))
	}
	return out
}

func (p *parser) stringMap(n *yaml.Node, field string, lines map[string]int) map[string]string {
	out := map[string]string{}
	p.pairs(n, field, func(key string, k, v *yaml.Node) {
		lines[strings.TrimPrefix(join(field, key), p.prefix)] = k.Line
		out[key] = p.scalar(v, join(field, key))
	})
	return out
}

func (p *parser) file0(doc *yaml.Node) []*Tenant {
	root := doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	var tenants []*Tenant
	var apiVersion, kind string
	var tenantsNode *yaml.Node
	p.pairs(root, "(document)", func(key string, k, v *yaml.Node) {
		switch key {
		case "apiVersion":
			apiVersion = p.scalar(v, key)
			if apiVersion != FileAPIVersion {
				p.fail(v, key, "must be %s, not %q", FileAPIVersion, apiVersion)
			}
		case "kind":
			kind = p.scalar(v, key)
			if kind != FileKind {
				p.fail(v, key, "must be %s, not %q", FileKind, kind)
			}
		case "tenants":
			tenantsNode = v
		default:
			p.fail(k, key, "unknown field (want apiVersion, kind, tenants)")
		}
	})
	if len(p.errs) > 0 {
		return nil
	}
	if apiVersion == "" {
		p.fail(root, "apiVersion", "missing: want %s", FileAPIVersion)
	}
	if kind == "" {
		p.fail(root, "kind", "missing: want %s", FileKind)
	}
	if tenantsNode == nil {
		p.fail(root, "tenants", "missing: the list of tenants")
		return nil
	}
	if tenantsNode.Kind != yaml.SequenceNode {
		p.fail(tenantsNode, "tenants", "must be a list, not %s", kindName(tenantsNode))
		return nil
	}
	if len(tenantsNode.Content) == 0 {
		p.fail(tenantsNode, "tenants", "the list is empty")
	}
	for i, n := range tenantsNode.Content {
		tenants = append(tenants, p.tenant(n, i))
	}
	return tenants
}

func (p *parser) tenant(n *yaml.Node, index int) *Tenant {
	t := &Tenant{file: p.file, index: index, lines: map[string]int{"": n.Line}}
	prefix := fmt.Sprintf("tenants[%d]", index)
	p.prefix = prefix + "."
	f := func(s string) string { return join(prefix, s) }
	p.pairs(n, prefix, func(key string, k, v *yaml.Node) {
		t.lines[key] = k.Line
		switch key {
		case "name":
			t.Name = p.scalar(v, f(key))
		case "namespaces":
			t.Namespaces = p.list(v, f(key), t.lines)
		case "owners":
			p.pairs(v, f(key), func(key2 string, k2, v2 *yaml.Node) {
				field := key + "." + key2
				t.lines[field] = k2.Line
				switch key2 {
				case "users":
					t.Owners.Users = p.list(v2, f(field), t.lines)
				case "groups":
					t.Owners.Groups = p.list(v2, f(field), t.lines)
				default:
					p.fail(k2, f(field), "unknown field (want users, groups)")
				}
			})
		case "operator":
			t.Operator = Operator(p.scalar(v, f(key)))
		case "repos":
			t.Repos = p.list(v, f(key), t.lines)
		case "quota":
			t.Quota = p.stringMap(v, f(key), t.lines)
		case "limits":
			t.Limits = &Limits{}
			p.pairs(v, f(key), func(key2 string, k2, v2 *yaml.Node) {
				field := key + "." + key2
				t.lines[field] = k2.Line
				var m *map[string]string
				switch key2 {
				case "default":
					m = &t.Limits.Default
				case "defaultRequest":
					m = &t.Limits.DefaultRequest
				case "max":
					m = &t.Limits.Max
				case "min":
					m = &t.Limits.Min
				default:
					p.fail(k2, f(field), "unknown field (want default, defaultRequest, max, min)")
					return
				}
				*m = p.stringMap(v2, f(field), t.lines)
			})
		case "podSecurity":
			t.PodSecurity = p.scalar(v, f(key))
		case "ingressNamespace":
			t.IngressNamespace = p.scalar(v, f(key))
		case "extraResources":
			t.ExtraResources = p.list(v, f(key), t.lines)
		case "reconcilerServiceAccount":
			t.ReconcilerServiceAccount = p.scalar(v, f(key))
		case "argocd":
			p.pairs(v, f(key), func(key2 string, k2, v2 *yaml.Node) {
				field := key + "." + key2
				t.lines[field] = k2.Line
				switch key2 {
				case "namespace":
					t.ArgoCD.Namespace = p.scalar(v2, f(field))
				case "server":
					t.ArgoCD.Server = p.scalar(v2, f(field))
				default:
					p.fail(k2, f(field), "unknown field (want namespace, server)")
				}
			})
		case "flux":
			p.pairs(v, f(key), func(key2 string, k2, v2 *yaml.Node) {
				field := key + "." + key2
				t.lines[field] = k2.Line
				switch key2 {
				case "branch":
					t.Flux.Branch = p.scalar(v2, f(field))
				case "path":
					t.Flux.Path = p.scalar(v2, f(field))
				case "interval":
					t.Flux.Interval = p.scalar(v2, f(field))
				case "environments":
					t.Flux.Environments = p.list(v2, f(field), t.lines)
				default:
					p.fail(k2, f(field), "unknown field (want branch, path, interval, environments)")
				}
			})
		default:
			p.fail(k, f(key), "unknown field (want %s)", strings.Join(tenantFields, ", "))
		}
	})
	return t
}

var tenantFields = []string{"name", "namespaces", "owners", "operator", "repos", "quota", "limits",
	"podSecurity", "ingressNamespace", "extraResources", "reconcilerServiceAccount", "argocd", "flux"}

func join(prefix, field string) string {
	if prefix == "" || prefix == "(document)" {
		return field
	}
	return prefix + "." + field
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		// A URL's user information stays out of errors: it may be a token.
		return fmt.Sprintf("the value %q", gitrepo.RedactURL(n.Value))
	default:
		return "an alias"
	}
}
