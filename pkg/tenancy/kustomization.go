package tenancy

import (
	"bytes"
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"
)

// EditResources adds and removes entries of the resources list of a
// kustomization.yaml, keeping everything else (comments included). Empty
// data starts a new kustomization. Added entries are kept sorted when the
// list already is.
func EditResources(data []byte, add, remove []string) ([]byte, error) {
	doc, err := parseKustomization(data)
	if err != nil {
		return nil, err
	}
	if err := editList(doc.Content[0], "resources", add, remove, scalarEntry); err != nil {
		return nil, err
	}
	return encodeKustomization(doc)
}

// EditOverlay adds and removes tenants in the kustomization.yaml of an
// environment overlay: each tenant's base in resources, its patch file in
// patches ({path: <tenant>-patch.yaml}), keeping everything else.
func EditOverlay(data []byte, add, remove []*Tenant) ([]byte, error) {
	doc, err := parseKustomization(data)
	if err != nil {
		return nil, err
	}
	var addRes, rmRes, addPatch, rmPatch []string
	for _, t := range add {
		r, p := OverlayEntries(t)
		addRes, addPatch = append(addRes, r), append(addPatch, p)
	}
	for _, t := range remove {
		r, p := OverlayEntries(t)
		rmRes, rmPatch = append(rmRes, r), append(rmPatch, p)
	}
	if err := editList(doc.Content[0], "resources", addRes, rmRes, scalarEntry); err != nil {
		return nil, err
	}
	if err := editList(doc.Content[0], "patches", addPatch, rmPatch, patchEntry); err != nil {
		return nil, err
	}
	return encodeKustomization(doc)
}

func parseKustomization(data []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing kustomization: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parsing kustomization: not a mapping")
	}
	return &doc, nil
}

// entryKind reads and makes the entries of a kustomization list: a plain
// string (resources) or a mapping with a path (patches).
type entryKind struct {
	key  func(*yaml.Node) string
	make func(string) *yaml.Node
}

var scalarEntry = entryKind{
	key:  func(n *yaml.Node) string { return n.Value },
	make: func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} },
}

var patchEntry = entryKind{
	key: func(n *yaml.Node) string {
		if n.Kind != yaml.MappingNode {
			return ""
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "path" {
				return n.Content[i+1].Value
			}
		}
		return ""
	},
	make: func(v string) *yaml.Node {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "path"},
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: v},
		}}
	},
}

// editList adds and removes entries of the list under name in root,
// keeping the others (and comments); added entries are kept sorted when
// the list already is. A list that ends up empty and was absent is not
// added.
func editList(root *yaml.Node, name string, add, remove []string, kind entryKind) error {
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == name {
			list = root.Content[i+1]
		}
	}
	if list == nil {
		if len(add) == 0 {
			return nil
		}
		list = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}, list)
	}
	if list.Kind != yaml.SequenceNode {
		return fmt.Errorf("parsing kustomization: %s is not a list", name)
	}
	drop := map[string]bool{}
	for _, r := range remove {
		drop[r] = true
	}
	have := map[string]bool{}
	kept := list.Content[:0]
	var values []string
	for _, n := range list.Content {
		k := kind.key(n)
		if drop[k] {
			continue
		}
		have[k] = true
		kept = append(kept, n)
		values = append(values, k)
	}
	list.Content = kept
	wasSorted := sort.StringsAreSorted(values)
	for _, a := range add {
		if !have[a] {
			have[a] = true
			list.Content = append(list.Content, kind.make(a))
		}
	}
	if wasSorted {
		sort.SliceStable(list.Content, func(i, j int) bool { return kind.key(list.Content[i]) < kind.key(list.Content[j]) })
	}
	list.Style = 0
	return nil
}

func encodeKustomization(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encoding kustomization: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding kustomization: %w", err)
	}
	return b.Bytes(), nil
}
