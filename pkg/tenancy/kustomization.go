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
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "resources" {
			list = root.Content[i+1]
		}
	}
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "resources"}, list)
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("parsing kustomization: resources is not a list")
	}
	drop := map[string]bool{}
	for _, r := range remove {
		drop[r] = true
	}
	have := map[string]bool{}
	kept := list.Content[:0]
	var values []string
	for _, n := range list.Content {
		if drop[n.Value] {
			continue
		}
		have[n.Value] = true
		kept = append(kept, n)
		values = append(values, n.Value)
	}
	list.Content = kept
	wasSorted := sort.StringsAreSorted(values)
	for _, a := range add {
		if !have[a] {
			have[a] = true
			list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: a})
		}
	}
	if wasSorted {
		sort.SliceStable(list.Content, func(i, j int) bool { return list.Content[i].Value < list.Content[j].Value })
	}
	list.Style = 0
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encoding kustomization: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding kustomization: %w", err)
	}
	return b.Bytes(), nil
}
