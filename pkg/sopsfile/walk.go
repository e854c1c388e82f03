package sopsfile

import (
	"fmt"
	"strings"
	"time"
)

// leafFunc is called for every leaf in document order with its key path and
// the comments seen before it at each level; it returns the new leaf.
type leafFunc func(v any, path []string, comments [][]string) (any, error)

func walkValue(v any, path []string, comments [][]string, f leafFunc) (any, error) {
	switch v := v.(type) {
	case string, int, bool, float64, comment, time.Time:
		return f(v, path, comments)
	case []byte:
		return f(string(v), path, comments)
	case branch:
		return walkBranch(v, path, comments, f)
	case []any:
		return walkSlice(v, path, comments, f)
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("unsupported value of type %T at %s", v, pathString(path))
	}
}

func walkSlice(in []any, path []string, comments [][]string, f leafFunc) ([]any, error) {
	comments = append(comments, []string{})
	top := len(comments) - 1
	for i, v := range in {
		c, isComment := v.(comment)
		if isComment {
			comments[top] = append(comments[top], c.Value)
		}
		nv, err := walkValue(v, path, comments, f)
		if err != nil {
			return nil, err
		}
		in[i] = nv
		if !isComment {
			comments[top] = []string{}
		}
	}
	return in, nil
}

func walkBranch(in branch, path []string, comments [][]string, f leafFunc) (branch, error) {
	comments = append(comments, []string{})
	top := len(comments) - 1
	for i, it := range in {
		if c, ok := it.Key.(comment); ok {
			comments[top] = append(comments[top], c.Value)
			nv, err := walkValue(c, path, comments, f)
			if err != nil {
				return nil, err
			}
			switch nv := nv.(type) {
			case comment:
				in[i].Key = nv
			case string:
				in[i].Key = comment{Value: nv, Inline: c.Inline}
			default:
				return nil, fmt.Errorf("a comment became a %T", nv)
			}
			continue
		}
		c, valueIsComment := it.Value.(comment)
		if valueIsComment {
			comments[top] = append(comments[top], c.Value)
		}
		key, ok := it.Key.(string)
		if !ok {
			return nil, fmt.Errorf("non-string key of type %T under %s: only string keys are supported", it.Key, pathString(path))
		}
		// A fresh slice per child, so siblings never share a backing array.
		child := append(append(make([]string, 0, len(path)+1), path...), key)
		nv, err := walkValue(it.Value, child, comments, f)
		if err != nil {
			return nil, err
		}
		in[i].Value = nv
		if !valueIsComment {
			comments[top] = []string{}
		}
	}
	return in, nil
}

// pathString is the AAD of a leaf: the key path joined by ":" plus a
// trailing ":" (just ":" at the top level, for comments).
func pathString(path []string) string {
	return strings.Join(path, ":") + ":"
}
