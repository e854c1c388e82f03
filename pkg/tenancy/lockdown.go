package tenancy

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FluxControllersRegex is the target of the reference's
// --no-cross-namespace-refs patch: every Flux controller that follows
// cross-namespace references.
const FluxControllersRegex = "(kustomize-controller|helm-controller|notification-controller|image-reflector-controller|image-automation-controller)"

// LockdownPatch is one patch of the Flux multi-tenancy lockdown.
type LockdownPatch struct {
	// Op, Path and Value make the JSON6902 patch (one "add" operation).
	Op, Path, Value string
	// Kind and Name are the patch's target (Name a regular expression).
	Kind, Name string
}

// LockdownPatches are the patches of the flux-system kustomization.yaml
// that lock Flux down for tenants, exactly as fluxcd/flux2-multi-tenancy
// writes them (clusters/<env>/flux-system/kustomization.yaml): no
// cross-namespace references on the controllers that follow them, no
// remote kustomize bases, tenants' Kustomizations and HelmReleases that name
// no ServiceAccount run as "default" (which may do nothing), and the
// flux-system Kustomization itself keeps running as kustomize-controller.
func LockdownPatches() []LockdownPatch {
	const args = "/spec/template/spec/containers/0/args/-"
	return []LockdownPatch{
		{"add", args, "--no-cross-namespace-refs=true", "Deployment", FluxControllersRegex},
		{"add", args, "--no-remote-bases=true", "Deployment", FluxKustomizeController},
		{"add", args, "--default-service-account=default", "Deployment", "(kustomize-controller|helm-controller)"},
		{"add", "/spec/serviceAccountName", FluxKustomizeController, "Kustomization", FluxSystemNamespace},
	}
}

// text is the patch as the reference writes it (a YAML list of one
// operation).
func (p LockdownPatch) text() string {
	return fmt.Sprintf("- op: %s\n  path: %s\n  value: %s\n", p.Op, p.Path, p.Value)
}

// node is the patches entry of p: {patch: |…, target: {kind, name}}.
func (p LockdownPatch) node() *yaml.Node {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	name := str(p.Name)
	name.Style = yaml.DoubleQuotedStyle
	patch := str(p.text())
	patch.Style = yaml.LiteralStyle
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		str("patch"), patch,
		str("target"), {Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			str("kind"), str(p.Kind),
			str("name"), name,
		}},
	}}
}

// present reports whether entry, a patches entry of a kustomization,
// already makes p: an inline patch on a target of p's kind that adds p's
// value at p's path (however it is formatted).
func (p LockdownPatch) present(entry *yaml.Node) bool {
	if entry.Kind != yaml.MappingNode {
		return false
	}
	var text, kind string
	for i := 0; i+1 < len(entry.Content); i += 2 {
		k, v := entry.Content[i].Value, entry.Content[i+1]
		switch k {
		case "patch":
			text = v.Value
		case "target":
			for j := 0; j+1 < len(v.Content); j += 2 {
				if v.Content[j].Value == "kind" {
					kind = v.Content[j+1].Value
				}
			}
		}
	}
	if kind != p.Kind {
		return false
	}
	var ops []map[string]any
	if err := yaml.Unmarshal([]byte(text), &ops); err != nil {
		return false
	}
	for _, op := range ops {
		if op["op"] == p.Op && op["path"] == p.Path && op["value"] == p.Value {
			return true
		}
	}
	return false
}

// EditLockdown adds the lockdown patches that the flux-system
// kustomization.yaml in data does not have yet to its patches, keeping
// everything else (comments included); it returns the patches added. Empty
// data is an error: the flux-system kustomization is written by `flux
// bootstrap`, and without its resources the patches would patch nothing.
func EditLockdown(data []byte) ([]byte, []LockdownPatch, error) {
	if strings.TrimSpace(string(data)) == "" {
		return nil, nil, fmt.Errorf("the flux-system kustomization is empty")
	}
	doc, err := parseKustomization(data)
	if err != nil {
		return nil, nil, err
	}
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "patches" {
			list = root.Content[i+1]
		}
	}
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "patches"}, list)
	}
	if list.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("parsing kustomization: patches is not a list")
	}
	var added []LockdownPatch
	for _, p := range LockdownPatches() {
		have := false
		for _, e := range list.Content {
			have = have || p.present(e)
		}
		if !have {
			list.Content = append(list.Content, p.node())
			added = append(added, p)
		}
	}
	if len(added) == 0 {
		return data, nil, nil
	}
	list.Style = 0
	out, err := encodeKustomization(doc)
	return out, added, err
}

// LockdownSnippet is the patches list to add to a flux-system
// kustomization.yaml by hand, as YAML.
func LockdownSnippet() ([]byte, error) {
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, p := range LockdownPatches() {
		list.Content = append(list.Content, p.node())
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "patches"}, list,
	}}}}
	return encodeKustomization(doc)
}
