package builders

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Mod adds to an object Object builds.
type Mod = func(*unstructured.Unstructured)

// Object builds an object with the given identity (no namespace when
// namespace is ""); mods add to it in order.
func Object(apiVersion, kind, namespace, name string, mods ...Mod) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetName(name)
	if namespace != "" {
		u.SetNamespace(namespace)
	}
	for _, m := range mods {
		m(u)
	}
	return u
}

// ConfigMap is Object for a v1 ConfigMap.
func ConfigMap(namespace, name string, mods ...Mod) *unstructured.Unstructured {
	return Object("v1", "ConfigMap", namespace, name, mods...)
}

// Pairs makes a map of key, value pairs (a last odd key is dropped).
func Pairs(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// Labels adds labels from key, value pairs.
func Labels(kv ...string) Mod {
	return func(u *unstructured.Unstructured) { u.SetLabels(merge(u.GetLabels(), kv)) }
}

// Annotations adds annotations from key, value pairs.
func Annotations(kv ...string) Mod {
	return func(u *unstructured.Unstructured) { u.SetAnnotations(merge(u.GetAnnotations(), kv)) }
}

func merge(m map[string]string, kv []string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	for k, v := range Pairs(kv...) {
		m[k] = v
	}
	return m
}

// Set sets a field at a dotted path ("status.sync.revision"; no dots in
// keys). An int is stored as int64, as JSON decoding would.
func Set(path string, value any) Mod {
	return func(u *unstructured.Unstructured) {
		if n, ok := value.(int); ok {
			value = int64(n)
		}
		if err := unstructured.SetNestedField(u.Object, value, strings.Split(path, ".")...); err != nil {
			panic(err)
		}
	}
}

// Unset removes the field at a dotted path.
func Unset(path string) Mod {
	return func(u *unstructured.Unstructured) {
		unstructured.RemoveNestedField(u.Object, strings.Split(path, ".")...)
	}
}

// YAMLMap decodes a YAML object through JSON, as kubectl reads files
// (numbers become float64).
func YAMLMap(t testing.TB, y string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// FromYAML is YAMLMap as an unstructured object.
func FromYAML(t testing.TB, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// WriteTree writes files (slash path → content) under a new temporary
// directory, creating directories as needed, and returns the directory.
func WriteTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
