package objpath

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func obj() map[string]any {
	return map[string]any{
		"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/name": "web", "tier": "fe"}},
		"spec": map[string]any{
			"replicas": int64(2),
			"containers": []any{
				map[string]any{"name": "a", "image": "a:1"},
				map[string]any{"name": "b", "image": "b:1"},
			},
		},
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		p    Path
		want string
	}{
		{Path{"spec", "replicas"}, "spec.replicas"},
		{Path{"spec", "containers", 0, "image"}, "spec.containers[0].image"},
		{Path{"metadata", "labels", "app.kubernetes.io/name"}, `metadata.labels["app.kubernetes.io/name"]`},
		{Path{"data", "key.with.dots"}, `data["key.with.dots"]`},
		{Path{}, ""},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestPointerRoundTrip(t *testing.T) {
	o := obj()
	for _, p := range []Path{
		{"spec", "replicas"},
		{"spec", "containers", 1, "image"},
		{"metadata", "labels", "app.kubernetes.io/name"},
		{"a~b", "c/d"},
	} {
		got, err := ParsePointer(p.Pointer(), o)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(p) {
			t.Errorf("ParsePointer(%q) = %#v, want %#v", p.Pointer(), got, p)
		}
	}
	if _, err := ParsePointer("spec", o); err == nil {
		t.Error("pointer without leading / accepted")
	}
	if _, err := ParsePointer("/spec/containers/x", o); err == nil {
		t.Error("non-numeric index into a list accepted")
	}
}

func TestGetDelete(t *testing.T) {
	o := obj()
	if v, ok := Get(o, Path{"spec", "containers", 1, "name"}); !ok || v != "b" {
		t.Fatalf("Get = %v, %v", v, ok)
	}
	if _, ok := Get(o, Path{"spec", "containers", 5}); ok {
		t.Error("out-of-range index found")
	}
	if !Delete(o, Path{"spec", "containers", 0}) {
		t.Fatal("list item not deleted")
	}
	if v, _ := Get(o, Path{"spec", "containers", 0, "name"}); v != "b" {
		t.Errorf("after deleting item 0, item 0 is %v", v)
	}
	if !Delete(o, Path{"metadata", "labels", "tier"}) || Delete(o, Path{"metadata", "labels", "tier"}) {
		t.Error("map key delete not exactly once")
	}
	if Delete(o, Path{}) {
		t.Error("root deleted")
	}
}

func TestWalkAndCompare(t *testing.T) {
	var got []string
	Walk(map[string]any{"b": []any{int64(1), map[string]any{}}, "a": "x"}, func(p Path, _ any) {
		got = append(got, p.String())
	})
	if diff := cmp.Diff([]string{"a", "b[0]", "b[1]"}, got); diff != "" {
		t.Errorf("Walk (-want +got):\n%s", diff)
	}
	if Compare(Path{"a", 1}, Path{"a", 2}) >= 0 || Compare(Path{"a"}, Path{"a", 0}) >= 0 || Compare(Path{"b"}, Path{"a", 0}) <= 0 {
		t.Error("Compare order wrong")
	}
	if !(Path{"a", "b"}).HasPrefix(Path{"a"}) || (Path{"a"}).HasPrefix(Path{"a", "b"}) {
		t.Error("HasPrefix wrong")
	}
}
