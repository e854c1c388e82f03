package compare

import (
	"math"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPackRoundTrip: a packed desired object reads back as exactly the
// object packed (types, nil and empty maps and lists included), and its
// head names it without reading it.
func TestPackRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		obj  map[string]any
	}{
		{"configmap", map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "a", "namespace": "ns", "labels": map[string]any{"x": "y"}}, "data": map[string]any{"k": "v", "": "empty key"}}},
		{"numbers", map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "d"}, "spec": map[string]any{
			"replicas": int64(3), "neg": int64(-1), "min": int64(math.MinInt64), "max": int64(math.MaxInt64), "f": 2.5, "big": 1e300, "negzero": math.Copysign(0, -1)}}},
		{"nils", map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"}, "null": nil, "nilmap": map[string]any(nil), "nillist": []any(nil),
			"emptymap": map[string]any{}, "emptylist": []any{}, "bools": []any{true, false, nil, "", []any{[]any{}}}}},
		{"unicode", map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}, "stringData": map[string]any{"ü": "é\x00\n" + string(make([]byte, 300))}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := &unstructured.Unstructured{Object: tc.obj}
			d := Pack(obj, "a.yaml:1")
			if d.Object != nil {
				t.Fatal("Pack kept the parsed object")
			}
			if got, want := d.Head(), headOf(obj); got != want {
				t.Errorf("head %+v, want %+v", got, want)
			}
			for range 2 {
				got, err := d.Load()
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Object, tc.obj) {
					t.Errorf("round trip:\n got %#v\nwant %#v", got.Object, tc.obj)
				}
				if tc.name == "numbers" && !math.Signbit(got.Object["spec"].(map[string]any)["negzero"].(float64)) {
					t.Error("-0 lost its sign")
				}
				got.SetNamespace("changed") // a new object each time
			}
		})
	}
}

// TestPackKeepsOtherTypes: an object holding a value JSON decoding never
// gives is kept as it is, not packed.
func TestPackKeepsOtherTypes(t *testing.T) {
	t.Parallel()
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "n": 3}}
	if d := Pack(obj, "x"); d.Object != obj {
		t.Errorf("Pack of an int: Object %v", d.Object)
	}
}

// TestUnpackRejectsBadInput: truncated or corrupt bytes are an error, never
// a panic or a huge allocation.
func TestUnpackRejectsBadInput(t *testing.T) {
	t.Parallel()
	b, err := packValue(map[string]any{"a": []any{"b", int64(1), 1.5}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := unpackValue(b[:i]); err == nil {
			t.Errorf("truncated at %d: no error", i)
		}
	}
	for _, bad := range [][]byte{{tagMap, 0xff, 0xff, 0xff, 0xff, 0x0f}, {tagList, 0x80}, {42}, {tagNull, tagNull}} {
		if _, err := unpackValue(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
