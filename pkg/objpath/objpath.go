package objpath

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Path addresses a value in an object: each element is a map key (string)
// or a list index (int).
type Path []any

// Key returns p extended by a map key (a new slice; p is not modified).
func (p Path) Key(k string) Path { return append(p[:len(p):len(p)], k) }

// Index returns p extended by a list index (a new slice).
func (p Path) Index(i int) Path { return append(p[:len(p):len(p)], i) }

// RFC 6901 escaping, built once: the ignore rules parse pointers for every
// object compared.
var (
	pointerEscaper   = strings.NewReplacer("~", "~0", "/", "~1")
	pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// String renders p the way users read field paths: spec.replicas,
// spec.template.spec.containers[0].image, metadata.labels["app.kubernetes.io/name"].
func (p Path) String() string {
	var b strings.Builder
	for i, e := range p {
		switch v := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		case string:
			if plainKey.MatchString(v) {
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(v)
			} else {
				b.WriteString("[" + strconv.Quote(v) + "]")
			}
		default:
			fmt.Fprintf(&b, "[%v]", v)
		}
	}
	return b.String()
}

// Pointer renders p as an RFC 6901 JSON Pointer: /spec/replicas,
// /metadata/labels/app.kubernetes.io~1name.
func (p Path) Pointer() string {
	var b strings.Builder
	for _, e := range p {
		b.WriteByte('/')
		switch v := e.(type) {
		case int:
			b.WriteString(strconv.Itoa(v))
		case string:
			b.WriteString(pointerEscaper.Replace(v))
		}
	}
	return b.String()
}

// HasPrefix reports whether prefix is a prefix of p (or equal to it).
func (p Path) HasPrefix(prefix Path) bool {
	if len(prefix) > len(p) {
		return false
	}
	for i := range prefix {
		if p[i] != prefix[i] {
			return false
		}
	}
	return true
}

// Equal reports whether p and q are the same path.
func (p Path) Equal(q Path) bool { return len(p) == len(q) && p.HasPrefix(q) }

// Compare orders paths element by element; ints before strings.
func Compare(p, q Path) int {
	for i := 0; i < len(p) && i < len(q); i++ {
		if c := compareElem(p[i], q[i]); c != 0 {
			return c
		}
	}
	return len(p) - len(q)
}

func compareElem(a, b any) int {
	ai, aInt := a.(int)
	bi, bInt := b.(int)
	switch {
	case aInt && bInt:
		return ai - bi
	case aInt:
		return -1
	case bInt:
		return 1
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// Get returns the value at p in obj.
func Get(obj any, p Path) (any, bool) {
	cur := obj
	for _, e := range p {
		switch k := e.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			cur, ok = m[k]
			if !ok {
				return nil, false
			}
		case int:
			l, ok := cur.([]any)
			if !ok || k < 0 || k >= len(l) {
				return nil, false
			}
			cur = l[k]
		default:
			return nil, false
		}
	}
	return cur, true
}

// Delete removes the value at p from obj (a map key is deleted; a list item
// is removed, shifting later items). It reports whether something was removed.
// The root cannot be deleted.
func Delete(obj any, p Path) bool {
	if len(p) == 0 {
		return false
	}
	parent, ok := Get(obj, p[:len(p)-1])
	if !ok {
		return false
	}
	switch k := p[len(p)-1].(type) {
	case string:
		m, ok := parent.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m[k]; !ok {
			return false
		}
		delete(m, k)
		return true
	case int:
		l, ok := parent.([]any)
		if !ok || k < 0 || k >= len(l) {
			return false
		}
		nl := append(l[:k:k], l[k+1:]...)
		// Write the shortened list back into its parent.
		if len(p) == 1 {
			return false
		}
		gp, _ := Get(obj, p[:len(p)-2])
		switch pk := p[len(p)-2].(type) {
		case string:
			gp.(map[string]any)[pk] = nl
		case int:
			gp.([]any)[pk] = nl
		}
		return true
	}
	return false
}

// ParsePointer parses an RFC 6901 JSON Pointer into a path, resolving
// numeric tokens against obj: a token is an index where obj has a list.
func ParsePointer(ptr string, obj any) (Path, error) {
	if ptr == "" {
		return Path{}, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("JSON pointer %q must start with /", ptr)
	}
	var p Path
	cur := obj
	for _, tok := range strings.Split(ptr[1:], "/") {
		if strings.Contains(tok, "~") {
			tok = pointerUnescaper.Replace(tok)
		}
		if l, ok := cur.([]any); ok {
			i, err := strconv.Atoi(tok)
			if err != nil {
				return nil, fmt.Errorf("JSON pointer %q: %q is not a list index", ptr, tok)
			}
			p = append(p, i)
			if i >= 0 && i < len(l) {
				cur = l[i]
			} else {
				cur = nil
			}
			continue
		}
		p = append(p, tok)
		if m, ok := cur.(map[string]any); ok {
			cur = m[tok]
		} else {
			cur = nil
		}
	}
	return p, nil
}

// Walk calls fn for every leaf of v (scalars, empty maps, empty lists), with
// its path, in a deterministic order (map keys sorted).
func Walk(v any, fn func(p Path, leaf any)) {
	walk(Path{}, v, fn)
}

func walk(p Path, v any, fn func(Path, any)) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			fn(p, t)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			walk(p.Key(k), t[k], fn)
		}
	case []any:
		if len(t) == 0 {
			fn(p, t)
			return
		}
		for i, e := range t {
			walk(p.Index(i), e, fn)
		}
	default:
		fn(p, v)
	}
}

// Set stores v at p in obj, creating missing maps along the way; an index
// equal to a list's length appends. It reports whether it could.
func Set(obj any, p Path, v any) bool {
	if len(p) == 0 {
		return false
	}
	parent, ok := Get(obj, p[:len(p)-1])
	if !ok {
		// Create the missing parent as a map when the last known element is a key.
		if _, isKey := p[len(p)-1].(string); !isKey || !Set(obj, p[:len(p)-1], map[string]any{}) {
			return false
		}
		parent, _ = Get(obj, p[:len(p)-1])
	}
	switch k := p[len(p)-1].(type) {
	case string:
		m, ok := parent.(map[string]any)
		if !ok {
			return false
		}
		m[k] = v
		return true
	case int:
		l, ok := parent.([]any)
		if !ok || k < 0 || k > len(l) {
			return false
		}
		if k < len(l) {
			l[k] = v
			return true
		}
		if len(p) == 1 {
			return false
		}
		return Set(obj, p[:len(p)-1], append(l, v))
	}
	return false
}
