package builders

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestObject(t *testing.T) {
	got := ConfigMap("shop", "cfg",
		Labels("app", "web"), Labels("tier", "front"),
		Annotations("a", "1"),
		Set("data.replicas", 2), Set("data.keep", "x"), Unset("data.keep"))
	want := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{
			"name": "cfg", "namespace": "shop",
			"labels":      map[string]any{"app": "web", "tier": "front"},
			"annotations": map[string]any{"a": "1"},
		},
		"data": map[string]any{"replicas": int64(2)},
	}
	if d := cmp.Diff(want, got.Object); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if ns := Object("v1", "Namespace", "", "n").Object["metadata"].(map[string]any); len(ns) != 1 {
		t.Errorf("a cluster-scoped object has metadata %v", ns)
	}
}

func TestFromYAML(t *testing.T) {
	y := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {count: 3}\n"
	u := FromYAML(t, y)
	if u.GetName() != "cfg" || u.Object["data"].(map[string]any)["count"] != float64(3) {
		t.Errorf("FromYAML: %v", u.Object)
	}
	if d := cmp.Diff(u.Object, YAMLMap(t, y)); d != "" {
		t.Errorf("YAMLMap differs from FromYAML (-want +got):\n%s", d)
	}
}

func TestWriteTree(t *testing.T) {
	dir := WriteTree(t, map[string]string{"a.yaml": "a", "sub/dir/b.yaml": "b"})
	for name, want := range map[string]string{"a.yaml": "a", "sub/dir/b.yaml": "b"} {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
}
