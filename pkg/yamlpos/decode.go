package yamlpos

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Decode fills out, a pointer to a struct, from n strictly: a field is
// found by its json name (the struct's field order is the order its
// unknown-field message lists them in), unknown and repeated keys and
// values of the wrong kind are reported as the Walker's other checks are.
// Fields may be strings (or string kinds), []string, map[string]string
// (any key), structs and pointers to structs (allocated when the key is
// given); unexported fields and json:"-" are skipped. seen, when not nil,
// is called with the field path and position of every key and list item
// decoded, for the caller's later checks of the values.
func (w *Walker) Decode(n *yaml.Node, field string, out any, seen func(field string, at Pos)) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("yamlpos: Decode into %T, not a pointer to a struct", out))
	}
	if seen == nil {
		seen = func(string, Pos) {}
	}
	w.decode(n, field, v.Elem(), seen)
}

var stringSlice = reflect.TypeFor[[]string]()

func (w *Walker) decode(n *yaml.Node, field string, v reflect.Value, seen func(string, Pos)) {
	n = Deref(n)
	switch {
	case v.Kind() == reflect.String:
		s, _ := w.String(n, field)
		v.SetString(s)
	case v.Type() == stringSlice:
		v.Set(reflect.ValueOf(w.strings(n, field, seen)))
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String:
		m := reflect.MakeMap(v.Type())
		w.Mapping(n, field, nil, func(key string, k, val *yaml.Node) {
			f := Join(field, key)
			seen(f, At(k))
			s, _ := w.String(val, f)
			m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), reflect.ValueOf(s).Convert(v.Type().Elem()))
		})
		v.Set(m)
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct:
		v.Set(reflect.New(v.Type().Elem()))
		w.decode(n, field, v.Elem(), seen)
	case v.Kind() == reflect.Struct:
		names, index := jsonFields(v.Type())
		w.Mapping(n, field, names, func(key string, k, val *yaml.Node) {
			f := Join(field, key)
			seen(f, At(k))
			w.decode(val, f, v.Field(index[key]), seen)
		})
	default:
		panic(fmt.Sprintf("yamlpos: Decode cannot fill a %s (%s)", v.Type(), field))
	}
}

// strings is a list of strings; a single value is reported with a hint.
func (w *Walker) strings(n *yaml.Node, field string, seen func(string, Pos)) []string {
	if n.Kind == yaml.ScalarNode && !IsNull(n) {
		text := w.Words.Text
		if text == nil {
			text = func(s string) string { return s }
		}
		w.Errorf(n, field, "must be a list of strings, not a single value (write [%s])", text(n.Value))
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		w.Errorf(n, field, "%s", w.say("must be a list of strings, not %s", "", n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		f := Index(field, i)
		seen(f, At(item))
		s, _ := w.String(item, f)
		out = append(out, s)
	}
	return out
}

// jsonFields are a struct's json names in field order, and their index.
func jsonFields(t reflect.Type) ([]string, map[string]int) {
	var names []string
	index := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}
