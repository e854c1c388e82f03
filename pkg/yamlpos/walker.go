package yamlpos

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Words are the messages of a Walker's structural checks. A message with
// %s is given the offending value (Words.Value); one without is used as
// it is. The zero value of a field is its default (DefaultWords).
type Words struct {
	NotMapping string // default "must be a mapping, not %s"
	NotList    string // default "must be a list, not %s"
	NotString  string // default "must be a string, not %s"
	KeyNotText string // default "keys must be strings, not %s"
	Twice      string // default "given twice"
	// Unknown reports a key of a mapping that is not one of known: the
	// field to report it at (given the mapping's field and the key's own
	// field path) and the message. Default: at the key's path, "unknown
	// field (want one of a, b)".
	Unknown func(mapField, keyField, key string, known []string) (field, msg string)
	// Value names an offending value; default Describe.
	Value func(*yaml.Node) string
	// Text is a value's own text as a message may echo it (Decode's "write
	// [x]" hint); default as it is.
	Text func(string) string
}

// DefaultWords are the messages a Walker uses where its Words leave a
// field empty.
var DefaultWords = Words{
	NotMapping: "must be a mapping, not %s",
	NotList:    "must be a list, not %s",
	NotString:  "must be a string, not %s",
	KeyNotText: "keys must be strings, not %s",
	Twice:      "given twice",
	Unknown: func(_, keyField, _ string, known []string) (string, string) {
		return keyField, "unknown field (want one of " + strings.Join(known, ", ") + ")"
	},
	Value: Describe,
}

// Walker checks a decoded document as the caller fills its structs,
// collecting every mistake, in the order found, in Errs.
type Walker struct {
	File  string
	Words Words
	Errs  []*Error
}

// Errorf records a mistake at n's position.
func (w *Walker) Errorf(n *yaml.Node, field, format string, args ...any) {
	w.Errs = append(w.Errs, &Error{File: w.File, Pos: At(n), Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Wrap records err (its text is the message) at n's position.
func (w *Walker) Wrap(n *yaml.Node, field string, err error) {
	w.Errs = append(w.Errs, &Error{File: w.File, Pos: At(n), Field: field, Msg: err.Error(), Err: err})
}

func (w *Walker) say(msg, def string, n *yaml.Node) string {
	if msg == "" {
		msg = def
	}
	if !strings.Contains(msg, "%s") {
		return msg
	}
	value := w.Words.Value
	if value == nil {
		value = Describe
	}
	return fmt.Sprintf(msg, value(n))
}

// Mapping walks the mapping n (aliases resolved) in file order and calls
// each for every key in known (every key when known is nil: a map of the
// user's names) with the key node and the value (aliases resolved). It
// reports a node of another kind (and then returns false), keys that are
// not strings, repeated keys and keys not in known; each is not called
// for those.
func (w *Walker) Mapping(n *yaml.Node, field string, known []string, each func(key string, k, v *yaml.Node)) bool {
	n = Deref(n)
	if n.Kind != yaml.MappingNode {
		w.Errorf(n, field, "%s", w.say(w.Words.NotMapping, DefaultWords.NotMapping, n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.Errorf(k, field, "%s", w.say(w.Words.KeyNotText, DefaultWords.KeyNotText, k))
			continue
		}
		f := Join(field, k.Value)
		switch {
		case seen[k.Value]:
			w.Errorf(k, f, "%s", w.say(w.Words.Twice, DefaultWords.Twice, k))
		case known != nil && !slices.Contains(known, k.Value):
			unknown := w.Words.Unknown
			if unknown == nil {
				unknown = DefaultWords.Unknown
			}
			at, msg := unknown(field, f, k.Value, known)
			w.Errorf(k, at, "%s", msg)
		default:
			each(k.Value, k, Deref(v))
		}
		seen[k.Value] = true
	}
	return true
}

// List is the items of the list n (aliases resolved); it reports a node
// of another kind (and then returns nil, false).
func (w *Walker) List(n *yaml.Node, field string) ([]*yaml.Node, bool) {
	n = Deref(n)
	if n.Kind != yaml.SequenceNode {
		w.Errorf(n, field, "%s", w.say(w.Words.NotList, DefaultWords.NotList, n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = Deref(c)
	}
	return out, true
}

// String is the text of the scalar n (aliases resolved); it reports null
// and a node of another kind (and then returns "", false). "" is a string.
func (w *Walker) String(n *yaml.Node, field string) (string, bool) {
	n = Deref(n)
	if n.Kind != yaml.ScalarNode || IsNull(n) {
		w.Errorf(n, field, "%s", w.say(w.Words.NotString, DefaultWords.NotString, n))
		return "", false
	}
	return n.Value, true
}
