package redact

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/secretscan"
)

// Helm values are configuration that often holds secrets
// (grafana.adminPassword). In the objects that embed them, a value is
// secret when:
//   - its key is secret-like by the rule seal scan applies
//     (secretscan.IsSecretKey: password, token, apiKey, clientSecret…), or it
//     is the value of a {name: DB_PASSWORD, value: …} pair;
//   - in an Argo CD Application's helm.parameters, the parameter's name
//     (its last dotted segment) is secret-like;
//   - in a Flux HelmRelease, it sits at (or under) the targetPath of a
//     valuesFrom entry of kind Secret: that value comes from a Secret.
//
// Such values are masked as Secret data is ("***", "*** (before)",
// "*** (after)"): booleans and nulls stay, they are not secrets.

// region is what a path of an object holds.
type region int

const (
	outside      region = iota // no Helm values at or under the path
	above                      // Helm values below the path
	valuesTree                 // in a values tree (spec.values, helm.valuesObject)
	valuesString               // a values file in a string (helm.values)
	parameters                 // in helm.parameters
)

// anyIndex in a pattern matches any list index.
type anyIndex struct{}

type pattern struct {
	path   objpath.Path
	region region
}

// helmObject says where one object (of a kind embedding Helm values) holds
// them, and which values come from Secrets.
type helmObject struct {
	patterns []pattern
	// targets are the targetPaths of valuesFrom entries of kind Secret,
	// relative to spec.values.
	targets []objpath.Path
}

// newHelmObject returns the Helm values layout of objects of apiVersion and
// kind (versions of one object; either may be nil), or nil when the kind
// embeds no Helm values.
func newHelmObject(apiVersion, kind string, objs ...map[string]any) *helmObject {
	group, _, _ := strings.Cut(apiVersion, "/")
	h := &helmObject{}
	switch {
	case group == "helm.toolkit.fluxcd.io" && kind == "HelmRelease":
		h.patterns = []pattern{{objpath.Path{"spec", "values"}, valuesTree}}
		for _, o := range objs {
			h.targets = append(h.targets, secretTargets(o)...)
		}
	case group == "argoproj.io" && (kind == "Application" || kind == "ApplicationSet"):
		specs := []objpath.Path{{"spec"}, {"operation", "sync"}}
		if kind == "ApplicationSet" {
			specs = []objpath.Path{{"spec", "template", "spec"}}
		}
		for _, spec := range specs {
			for _, src := range []objpath.Path{{"source"}, {"sources", anyIndex{}}} {
				helm := append(append(objpath.Path{}, spec...), src...)
				helm = append(helm, "helm")
				h.patterns = append(h.patterns,
					pattern{helm.Key("valuesObject"), valuesTree},
					pattern{helm.Key("values"), valuesString},
					pattern{helm.Key("parameters"), parameters})
			}
		}
	default:
		return nil
	}
	return h
}

// secretTargets returns the targetPaths of obj's valuesFrom entries of kind
// Secret.
func secretTargets(obj map[string]any) []objpath.Path {
	spec, _ := obj["spec"].(map[string]any)
	from, _ := spec["valuesFrom"].([]any)
	var out []objpath.Path
	for _, f := range from {
		m, _ := f.(map[string]any)
		if m["kind"] != "Secret" {
			continue
		}
		if tp, _ := m["targetPath"].(string); tp != "" {
			out = append(out, parseTargetPath(tp))
		}
	}
	return out
}

// parseTargetPath parses a Helm --set style path (a.b[0].c, with "\." for
// a dot inside a key) into a path.
func parseTargetPath(s string) objpath.Path {
	var p objpath.Path
	var key strings.Builder
	flush := func() {
		if key.Len() > 0 {
			p = append(p, key.String())
			key.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			key.WriteByte(s[i])
		case c == '.':
			flush()
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			n, err := strconv.Atoi(s[i+1 : i+max(end, 1)])
			if end < 0 || err != nil {
				key.WriteByte(c)
				continue
			}
			flush()
			p = append(p, n)
			i += end
		default:
			key.WriteByte(c)
		}
	}
	flush()
	return p
}

// where returns what p holds, and the length of the pattern it is in.
func (h *helmObject) where(p objpath.Path) (region, int) {
	found := outside
	for _, pat := range h.patterns {
		switch n := min(len(p), len(pat.path)); {
		case !matches(p[:n], pat.path[:n]):
		case len(p) >= len(pat.path):
			return pat.region, len(pat.path)
		default:
			found = above
		}
	}
	return found, 0
}

func matches(p, pat objpath.Path) bool {
	for i := range p {
		if _, ok := pat[i].(anyIndex); ok {
			if _, isIndex := p[i].(int); !isIndex {
				return false
			}
			continue
		}
		if p[i] != pat[i] {
			return false
		}
	}
	return true
}

// masker masks one version of an object, given the other.
type masker struct {
	h *helmObject
	// differing is the mask of a value that differs from the other
	// version's.
	differing string
	sw        *Sweeper
}

// mask returns v, the value at p, with its secret values masked (a copy
// where anything is masked). other is the other version's value at p (nil:
// none); parent is the map holding v, for the name of a {name, value} pair
// (nil: none).
func (m *masker) mask(p objpath.Path, v, other any, parent map[string]any) any {
	reg, n := m.h.where(p)
	switch reg {
	case outside:
		return v
	case valuesString:
		if s, ok := v.(string); ok && len(p) == n {
			return m.valuesString(s, other)
		}
		return v
	case valuesTree, parameters:
		if m.h.secretLeaf(reg, p, n, parent) {
			return m.leaf(v, other, reg == valuesTree && m.h.targeted(p[n:]))
		}
	}
	switch t := v.(type) {
	case map[string]any:
		om, _ := other.(map[string]any)
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = m.mask(p.Key(k), x, om[k], t)
		}
		return out
	case []any:
		ol, _ := other.([]any)
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = m.mask(p.Index(i), x, pairItem(reg, len(p) == n, i, x, ol), nil)
		}
		return out
	}
	return v
}

// pairItem returns the item of the other version's list paired with item i:
// parameters by name, anything else by index.
func pairItem(reg region, parametersList bool, i int, item any, other []any) any {
	if reg == parameters && parametersList {
		name, _ := item.(map[string]any)["name"].(string)
		for _, o := range other {
			if om, ok := o.(map[string]any); ok && name != "" && om["name"] == name {
				return o
			}
		}
		return nil
	}
	if i < len(other) {
		return other[i]
	}
	return nil
}

// secretLeaf reports whether the value at p (in a region starting at n) is
// secret, whatever its type: see the package comment.
func (h *helmObject) secretLeaf(reg region, p objpath.Path, n int, parent map[string]any) bool {
	rel := p[n:]
	if len(rel) == 0 {
		return false
	}
	last, _ := rel[len(rel)-1].(string)
	if reg == parameters {
		// parameters[i].value, named by parameters[i].name.
		name, _ := parent["name"].(string)
		if len(rel) != 2 || last != "value" || name == "" {
			return false
		}
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		name, _, _ = strings.Cut(name, "[")
		return secretscan.IsSecretKey(name)
	}
	if h.targeted(rel) {
		return true
	}
	if last == "value" {
		if name, ok := parent["name"].(string); ok && secretscan.IsSecretKey(name) {
			return true
		}
	}
	// The nearest key, through list indices: token: [a, b].
	for i := len(rel) - 1; i >= 0; i-- {
		if k, ok := rel[i].(string); ok {
			return secretscan.IsSecretKey(k)
		}
	}
	return false
}

// targeted reports whether rel (under spec.values) is at or under the
// targetPath of a Secret valuesFrom entry.
func (h *helmObject) targeted(rel objpath.Path) bool {
	for _, t := range h.targets {
		if rel.HasPrefix(t) {
			return true
		}
	}
	return false
}

// leaf masks the scalars of a secret value v (a map or list under a secret
// key has each of its scalars masked). Booleans and nulls stay unless all
// is set (a value from a Secret).
func (m *masker) leaf(v, other any, all bool) any {
	switch t := v.(type) {
	case nil:
		return nil
	case bool:
		if !all {
			return t
		}
	case map[string]any:
		om, _ := other.(map[string]any)
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = m.leaf(x, om[k], all)
		}
		return out
	case []any:
		ol, _ := other.([]any)
		out := make([]any, len(t))
		for i, x := range t {
			var o any
			if i < len(ol) {
				o = ol[i]
			}
			out[i] = m.leaf(x, o, all)
		}
		return out
	}
	s := scalarText(v)
	if s == Mask || s == MaskBefore || s == MaskAfter {
		return s
	}
	m.sw.AddText(s)
	if other != nil && scalarText(other) != s {
		return m.differing
	}
	return Mask
}

func scalarText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// valuesString masks the secret values of a values file held in a string,
// keeping the rest of it (re-encoded when anything is masked). A string
// that does not parse is masked as a whole.
func (m *masker) valuesString(s string, other any) any {
	doc, err := parseValues(s)
	if err != nil {
		m.sw.AddText(s)
		if o, ok := other.(string); ok && o != s {
			return m.differing
		}
		return Mask
	}
	var otherTree any
	if o, ok := other.(string); ok {
		_ = yaml.Unmarshal([]byte(o), &otherTree)
	}
	changed := false
	var walk func(rel objpath.Path, n *yaml.Node, secret bool)
	walk = func(rel objpath.Path, n *yaml.Node, secret bool) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(rel, c, false)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(rel.Index(i), c, secret)
			}
		case yaml.MappingNode:
			name := ""
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
					name = n.Content[i+1].Value
				}
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				walk(rel.Key(k), n.Content[i+1], secretscan.IsSecretKey(k) || k == "value" && secretscan.IsSecretKey(name))
			}
		case yaml.ScalarNode:
			if !secret {
				return
			}
			switch n.ShortTag() {
			case "!!bool", "!!null":
				return
			}
			o, _ := objpath.Get(otherTree, rel)
			if o != nil {
				o = scalarText(o)
			}
			masked := m.leaf(n.Value, o, false)
			n.SetString(masked.(string))
			changed = true
		}
	}
	walk(nil, doc, false)
	if !changed {
		return s
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return Mask
	}
	if err := enc.Close(); err != nil {
		return Mask
	}
	return b.String()
}

// parseValues parses the first document of a values file; an empty string
// is an empty document.
func parseValues(s string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(strings.NewReader(s)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return &doc, nil
}

// HelmValues returns two versions of one object of apiVersion and kind
// (before is the live one, after Git's; either may be nil) with the secret
// values of their embedded Helm values masked: a Flux HelmRelease's
// spec.values, an Argo CD Application's (or ApplicationSet template's)
// helm.valuesObject, helm.values (a YAML string) and helm.parameters. Equal
// values become "***", differing ones "*** (before)" and "*** (after)".
// The values masked are added to sw (nil: none) for sweeping other text.
// Objects of other kinds are returned as they are; masked objects are
// copies.
func HelmValues(apiVersion, kind string, before, after map[string]any, sw *Sweeper) (map[string]any, map[string]any) {
	h := newHelmObject(apiVersion, kind, before, after)
	if h == nil {
		return before, after
	}
	if sw == nil {
		sw = NewSweeper()
	}
	b := (&masker{h, MaskBefore, sw}).object(before, after)
	a := (&masker{h, MaskAfter, sw}).object(after, before)
	return b, a
}

func (m *masker) object(obj, other map[string]any) map[string]any {
	if obj == nil {
		return nil
	}
	var o any
	if other != nil {
		o = other
	}
	return m.mask(objpath.Path{}, obj, o, nil).(map[string]any)
}

// HelmChange masks one changed field at p of an object of apiVersion and
// kind, whose two versions (unmasked) are before and after: it returns the
// field's before and after values masked as HelmValues masks them. The
// objects give the name of a parameter or {name, value} pair and the
// valuesFrom target paths.
func HelmChange(apiVersion, kind string, before, after map[string]any, p objpath.Path, b, a any, sw *Sweeper) (any, any) {
	h := newHelmObject(apiVersion, kind, before, after)
	if h == nil || len(p) == 0 {
		return b, a
	}
	if sw == nil {
		sw = NewSweeper()
	}
	var parent map[string]any
	for _, obj := range []map[string]any{before, after} {
		if pv, ok := objpath.Get(obj, p[:len(p)-1]); ok && parent == nil {
			parent, _ = pv.(map[string]any)
		}
	}
	return (&masker{h, MaskBefore, sw}).mask(p, b, a, parent), (&masker{h, MaskAfter, sw}).mask(p, a, b, parent)
}
