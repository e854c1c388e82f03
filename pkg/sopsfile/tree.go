package sopsfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The in-memory tree mirrors the one sops builds from YAML, so that the
// order of leaves (which the MAC depends on), the handling of comments and
// the re-emitted YAML are the same as sops'.
//
// A value is one of: string, int, float64, bool, time.Time, comment, branch,
// []any, nil, or *yaml.Node (the sops metadata block, emitted verbatim).

// comment is a YAML comment line, without its leading '#'.
type comment struct {
	Value  string
	Inline bool
}

// item is one entry of a mapping; Key is a string, or a comment with a nil
// Value.
type item struct {
	Key   any
	Value any
}

// branch is a mapping with its comments, in document order.
type branch []item

// metadataKey is the top-level key holding the SOPS metadata.
const metadataKey = "sops"

// indent is the YAML indentation sops writes with.
const indent = 4

func appendComments(list []any, text string, inline bool) []any {
	for _, line := range strings.Split(text, "\n") {
		if line != "" {
			list = append(list, comment{Value: line[1:], Inline: inline})
		}
	}
	return list
}

func appendMapComments(b branch, text string, inline bool) branch {
	for _, line := range strings.Split(text, "\n") {
		if line != "" {
			b = append(b, item{Key: comment{Value: line[1:], Inline: inline}})
		}
	}
	return b
}

func nodeToValue(n *yaml.Node, commentsHandled bool) (any, error) {
	switch n.Kind {
	case yaml.SequenceNode:
		var out []any
		if !commentsHandled {
			out = appendComments(out, n.HeadComment, false)
			out = appendComments(out, n.LineComment, false)
		}
		for _, c := range n.Content {
			out = appendComments(out, c.HeadComment, false)
			out = appendComments(out, c.LineComment, true)
			v, err := nodeToValue(c, true)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			out = appendComments(out, c.FootComment, false)
		}
		if !commentsHandled {
			out = appendComments(out, n.FootComment, false)
		}
		return out, nil
	case yaml.MappingNode:
		return appendMapping(n, branch{}, commentsHandled)
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	case yaml.AliasNode:
		return nodeToValue(n.Alias, false)
	case yaml.DocumentNode:
		return nil, errors.New("nested YAML document")
	}
	return nil, nil
}

func appendMapping(n *yaml.Node, b branch, commentsHandled bool) (branch, error) {
	if !commentsHandled {
		b = appendMapComments(b, n.HeadComment, false)
		b = appendMapComments(b, n.LineComment, false)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			var err error
			if b, err = appendMapping(c, b, false); err != nil {
				return nil, err
			}
		}
	case yaml.SequenceNode:
		return nil, errors.New("YAML documents that are sequences are not supported")
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			b = appendMapComments(b, k.HeadComment, false)
			b = appendMapComments(b, k.LineComment, false)
			scalar := v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode
			if scalar {
				b = appendMapComments(b, v.HeadComment, false)
				b = appendMapComments(b, v.LineComment, true)
			}
			var key any
			if err := k.Decode(&key); err != nil {
				return nil, err
			}
			val, err := nodeToValue(v, scalar)
			if err != nil {
				return nil, err
			}
			b = append(b, item{Key: key, Value: val})
			if scalar {
				b = appendMapComments(b, v.FootComment, false)
			}
			b = appendMapComments(b, k.FootComment, false)
		}
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return b, nil
		}
		return nil, errors.New("YAML documents that are scalar values are not supported")
	case yaml.AliasNode:
		var err error
		if b, err = appendMapping(n.Alias, b, false); err != nil {
			return nil, err
		}
	}
	if !commentsHandled {
		b = appendMapComments(b, n.FootComment, false)
	}
	return b, nil
}

// yamlError describes a YAML error without quoting the input: yaml's type
// errors quote the offending value, which may be a secret.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New("parsing YAML: every document must be a mapping")
	}
	return fmt.Errorf("parsing YAML: %w", err)
}

// parseYAML reads every document of a YAML stream into a branch.
func parseYAML(in []byte) ([]branch, error) {
	if len(bytes.TrimSpace(in)) > 0 {
		// Reject what is not a mapping early, with yaml's own message.
		if err := yaml.NewDecoder(bytes.NewReader(in)).Decode(map[string]any{}); err != nil {
			return nil, yamlError(err)
		}
	}
	var docs []branch
	d := yaml.NewDecoder(bytes.NewReader(in))
	for {
		var n yaml.Node
		err := d.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(err)
		}
		b, err := appendMapping(&n, branch{}, false)
		if err != nil {
			return nil, fmt.Errorf("parsing YAML: %w", err)
		}
		docs = append(docs, b)
	}
	return docs, nil
}

func headComments(n *yaml.Node, c []string) []string {
	if len(c) > 0 {
		text := "#" + strings.Join(c, "\n#")
		if n.HeadComment != "" {
			n.HeadComment = text + "\n" + n.HeadComment
		} else {
			n.HeadComment = text
		}
	}
	return nil
}

func footComments(n *yaml.Node, c []string) {
	if len(c) > 0 {
		text := "#" + strings.Join(c, "\n#")
		if n.FootComment != "" {
			n.FootComment += "\n" + text
		} else {
			n.FootComment = text
		}
	}
}

func lineComments(n *yaml.Node, c []string) []string {
	if len(c) > 0 {
		text := "#" + strings.Join(c, "\n#")
		if n.LineComment != "" {
			n.LineComment += "\n" + text
		} else {
			n.LineComment = text
		}
	}
	return nil
}

func valueToNode(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case branch:
		n := &yaml.Node{Kind: yaml.MappingNode}
		return n, appendBranchNodes(v, n)
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		return n, appendSequenceNodes(v, n)
	case *yaml.Node:
		return v, nil
	default:
		n := &yaml.Node{}
		if err := n.Encode(v); err != nil {
			return nil, err
		}
		return n, nil
	}
}

func appendSequenceNodes(in []any, seq *yaml.Node) error {
	var head, inline []string
	begin := true
	for _, v := range in {
		if c, ok := v.(comment); ok {
			if c.Inline {
				inline = append(inline, c.Value)
			} else {
				head = append(head, c.Value)
			}
			continue
		}
		if begin {
			head = headComments(seq, head)
			begin = false
		}
		n, err := valueToNode(v)
		if err != nil {
			return err
		}
		head = headComments(n, head)
		inline = lineComments(n, inline)
		seq.Content = append(seq.Content, n)
	}
	head = append(head, inline...)
	if len(head) > 0 {
		if begin {
			headComments(seq, head)
		} else {
			footComments(seq.Content[len(seq.Content)-1], head)
		}
	}
	return nil
}

func appendBranchNodes(b branch, m *yaml.Node) error {
	var head, inline []string
	begin := true
	for _, it := range b {
		if c, ok := it.Key.(comment); ok {
			if c.Inline {
				inline = append(inline, c.Value)
			} else {
				head = append(head, c.Value)
			}
			continue
		}
		if begin {
			head = headComments(m, head)
			begin = false
		}
		k := &yaml.Node{}
		if err := k.Encode(it.Key); err != nil {
			return err
		}
		head = headComments(k, head)
		v, err := valueToNode(it.Value)
		if err != nil {
			return err
		}
		inline = lineComments(v, inline)
		m.Content = append(m.Content, k, v)
	}
	head = append(head, inline...)
	if len(head) > 0 {
		if begin {
			headComments(m, head)
		} else {
			footComments(m.Content[len(m.Content)-2], head)
		}
	}
	return nil
}

// emitYAML writes the documents the way sops does: yaml.v3, indent 4, one
// "---"-separated document per branch.
func emitYAML(docs []branch) ([]byte, error) {
	var buf bytes.Buffer
	e := yaml.NewEncoder(&buf)
	e.SetIndent(indent)
	for _, b := range docs {
		m := &yaml.Node{Kind: yaml.MappingNode}
		if err := appendBranchNodes(b, m); err != nil {
			return nil, fmt.Errorf("writing YAML: %w", err)
		}
		if err := e.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}); err != nil {
			return nil, fmt.Errorf("writing YAML: %w", err)
		}
	}
	if err := e.Close(); err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	return buf.Bytes(), nil
}
