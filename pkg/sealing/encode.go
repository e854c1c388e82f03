package sealing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// Marshal renders objects (SealedSecrets, Secrets) as YAML documents
// separated by "---", or as JSON (one object, or a v1 List of several).
func Marshal(format string, objs ...any) ([]byte, error) {
	switch format {
	case "json":
		v := objs[0]
		if len(objs) != 1 {
			v = map[string]any{"apiVersion": "v1", "kind": "List", "items": objs}
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	case "yaml", "":
		var buf bytes.Buffer
		for i, o := range objs {
			if i > 0 {
				buf.WriteString("---\n")
			}
			b, err := sigsyaml.Marshal(o)
			if err != nil {
				return nil, err
			}
			buf.Write(b)
		}
		return buf.Bytes(), nil
	default:
		return nil, fmt.Errorf("unknown output format %q", format)
	}
}

// MergeIntoFile merges the encrypted values of from into the single
// SealedSecret held in existing (YAML or JSON) and returns the new file
// content. The document is edited in place: other fields, key order and
// comments are kept (JSON input comes back as YAML).
func MergeIntoFile(existing []byte, from *SealedSecret) ([]byte, error) {
	docs, err := ReadSealedSecrets(bytes.NewReader(existing))
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("the file must hold exactly one SealedSecret, not %d", len(docs))
	}
	if err := Merge(docs[0], from); err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(existing, &root); err != nil || len(root.Content) != 1 {
		return nil, errors.New("the file is not a single YAML document")
	}
	spec := child(root.Content[0], "spec")
	if spec == nil {
		return nil, errors.New("the SealedSecret has no spec")
	}
	ed := child(spec, "encryptedData")
	if ed == nil || ed.Kind != yaml.MappingNode {
		ed = &yaml.Node{Kind: yaml.MappingNode}
		setChild(spec, "encryptedData", ed)
	}
	keys := make([]string, 0, len(from.Spec.EncryptedData))
	for k := range from.Spec.EncryptedData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		setChild(ed, k, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: from.Spec.EncryptedData[k]})
	}
	stripFlow(&root)
	var buf bytes.Buffer
	e := yaml.NewEncoder(&buf)
	e.SetIndent(2)
	if err := e.Encode(&root); err != nil {
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func child(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setChild(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// stripFlow turns JSON-style flow collections into block style.
func stripFlow(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	for _, c := range n.Content {
		stripFlow(c)
	}
}
