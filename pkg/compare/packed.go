package compare

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Head names a desired object without reading it: what the engine needs
// to plan a comparison (the kind to read, the namespace, the name) before
// the object itself is compared.
type Head struct {
	APIVersion, Kind, Namespace, Name string
}

// headOf returns the head of obj, read as its getters read it.
func headOf(obj *unstructured.Unstructured) Head {
	return Head{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// lazy is a desired object read only when it is compared.
type lazy struct {
	head Head
	load func() (*unstructured.Unstructured, error)
}

// Lazy returns a desired object that the engine reads, by calling load,
// only when it compares it, and drops once compared: a large desired set
// need not be held parsed while the comparison runs. head must name the
// object load returns; load is called at most once per Run that compares
// it (plus once per Run to match a label selector, when one is set), and
// must return a new object each time (the engine may set its namespace).
func Lazy(head Head, source string, load func() (*unstructured.Unstructured, error)) Desired {
	return Desired{Source: source, lazy: &lazy{head: head, load: load}}
}

// Pack returns obj as a desired object held compactly (a few times smaller
// than the parsed object: its values encoded in a byte string) and parsed
// again only when compared, with exactly its types and values. An object
// holding a value of another type than JSON decoding gives (string, bool,
// int64, float64, nil, map[string]any, []any) is kept as it is.
func Pack(obj *unstructured.Unstructured, source string) Desired {
	b, err := packValue(obj.Object)
	if err != nil {
		return Desired{Object: obj, Source: source}
	}
	return Lazy(headOf(obj), source, func() (*unstructured.Unstructured, error) {
		v, err := unpackValue(b)
		if err != nil {
			return nil, err
		}
		m, _ := v.(map[string]any)
		return &unstructured.Unstructured{Object: m}, nil
	})
}

// Head names d (without parsing it when it is lazy).
func (d Desired) Head() Head {
	if d.lazy != nil {
		return d.lazy.head
	}
	if d.Object == nil {
		return Head{}
	}
	return headOf(d.Object)
}

// Load returns d's object: Object, or a new one read from a lazy object
// (Lazy, Pack).
func (d Desired) Load() (*unstructured.Unstructured, error) {
	if d.lazy == nil {
		return d.Object, nil
	}
	return d.lazy.load()
}

// The packed encoding: one tag byte per value, then for a string its
// length (uvarint) and bytes, for an int64 a varint, for a float64 its 8
// bytes, for a map its length then each key (as a string, without tag) and
// value, for a list its length then its values. Nil maps and lists have
// their own tags, so that a round trip gives back exactly the same tree.
const (
	tagNull byte = iota
	tagFalse
	tagTrue
	tagString
	tagInt
	tagFloat
	tagMap
	tagList
	tagNilMap
	tagNilList
)

var errUnpackable = errors.New("a value of a type JSON decoding does not give")

// packValue encodes v (see the tags above).
func packValue(v any) ([]byte, error) {
	n, err := packedSize(v)
	if err != nil {
		return nil, err
	}
	return appendPacked(make([]byte, 0, n), v), nil
}

func uvarintLen(n uint64) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

func packedSize(v any) (int, error) {
	switch v := v.(type) {
	case nil, bool:
		return 1, nil
	case string:
		return 1 + uvarintLen(uint64(len(v))) + len(v), nil
	case int64:
		ux := uint64(v) << 1 // zigzag, as binary.AppendVarint
		if v < 0 {
			ux = ^ux
		}
		return 1 + uvarintLen(ux), nil
	case float64:
		return 9, nil
	case map[string]any:
		if v == nil {
			return 1, nil
		}
		n := 1 + uvarintLen(uint64(len(v)))
		for k, x := range v {
			s, err := packedSize(x)
			if err != nil {
				return 0, err
			}
			n += uvarintLen(uint64(len(k))) + len(k) + s
		}
		return n, nil
	case []any:
		if v == nil {
			return 1, nil
		}
		n := 1 + uvarintLen(uint64(len(v)))
		for _, x := range v {
			s, err := packedSize(x)
			if err != nil {
				return 0, err
			}
			n += s
		}
		return n, nil
	default:
		return 0, fmt.Errorf("packing %T: %w", v, errUnpackable)
	}
}

func appendPacked(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, tagNull)
	case bool:
		if v {
			return append(b, tagTrue)
		}
		return append(b, tagFalse)
	case string:
		b = binary.AppendUvarint(append(b, tagString), uint64(len(v)))
		return append(b, v...)
	case int64:
		return binary.AppendVarint(append(b, tagInt), v)
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(v))
	case map[string]any:
		if v == nil {
			return append(b, tagNilMap)
		}
		b = binary.AppendUvarint(append(b, tagMap), uint64(len(v)))
		for k, x := range v {
			b = binary.AppendUvarint(b, uint64(len(k)))
			b = appendPacked(append(b, k...), x)
		}
		return b
	default: // []any: packedSize accepted nothing else
		l := v.([]any)
		if l == nil {
			return append(b, tagNilList)
		}
		b = binary.AppendUvarint(append(b, tagList), uint64(len(l)))
		for _, x := range l {
			b = appendPacked(b, x)
		}
		return b
	}
}

// unpackValue decodes what packValue encoded.
func unpackValue(b []byte) (any, error) {
	u := unpacker{b: b}
	v := u.value()
	if u.err == nil && u.off != len(u.b) {
		u.err = errors.New("trailing bytes")
	}
	if u.err != nil {
		return nil, fmt.Errorf("unpacking a desired object: %w", u.err)
	}
	return v, nil
}

type unpacker struct {
	b   []byte
	off int
	err error
}

func (u *unpacker) fail(msg string) {
	if u.err == nil {
		u.err = fmt.Errorf("%s at byte %d", msg, u.off)
	}
}

func (u *unpacker) uvarint() int {
	n, l := binary.Uvarint(u.b[u.off:])
	if l <= 0 || n > uint64(len(u.b)-u.off-l) {
		// No length exceeds the bytes left (each element takes one).
		u.fail("bad length")
		return 0
	}
	u.off += l
	return int(n)
}

func (u *unpacker) str() string {
	n := u.uvarint()
	if u.err != nil {
		return ""
	}
	s := string(u.b[u.off : u.off+n])
	u.off += n
	return s
}

func (u *unpacker) value() any {
	if u.err != nil {
		return nil
	}
	if u.off >= len(u.b) {
		u.fail("truncated")
		return nil
	}
	tag := u.b[u.off]
	u.off++
	switch tag {
	case tagNull:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagString:
		return u.str()
	case tagInt:
		v, l := binary.Varint(u.b[u.off:])
		if l <= 0 {
			u.fail("bad integer")
			return nil
		}
		u.off += l
		return v
	case tagFloat:
		if len(u.b)-u.off < 8 {
			u.fail("truncated")
			return nil
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(u.b[u.off:]))
		u.off += 8
		return v
	case tagMap:
		n := u.uvarint()
		m := make(map[string]any, n)
		for range n {
			k := u.str()
			m[k] = u.value()
			if u.err != nil {
				return nil
			}
		}
		return m
	case tagList:
		n := u.uvarint()
		l := make([]any, n)
		for i := range l {
			l[i] = u.value()
			if u.err != nil {
				return nil
			}
		}
		return l
	case tagNilMap:
		return map[string]any(nil)
	case tagNilList:
		return []any(nil)
	}
	u.fail(fmt.Sprintf("unknown tag %d", tag))
	return nil
}
