package compare

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// A made-up document with the merge extensions server-side apply reads:
// containers keyed by name, ports by containerPort and protocol (a key Git
// may leave to its default), a set of finalizers, an atomic selector, and
// args an atomic list (no list type).
const mergeDoc = `{"components":{"schemas":{
 "example.Thing":{"type":"object","x-kubernetes-group-version-kind":[{"group":"example.com","version":"v1","kind":"Thing"}],
  "properties":{
   "finalizers":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"set"},
   "selector":{"allOf":[{"$ref":"#/components/schemas/sel"}]},
   "containers":{"type":"array","items":{"allOf":[{"$ref":"#/components/schemas/c"}]},"x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"]},
   "labels":{"type":"object","additionalProperties":{"type":"string"}}}},
 "sel":{"type":"object","x-kubernetes-map-type":"atomic","properties":{"app":{"type":"string"},"tier":{"type":"string"}}},
 "c":{"type":"object","properties":{"name":{"type":"string"},"args":{"type":"array","items":{"type":"string"}},
   "ports":{"type":"array","items":{"type":"object","properties":{"containerPort":{"type":"integer"},"protocol":{"type":"string"}}},
    "x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["containerPort","protocol"]},
   "cpu":{"oneOf":[{"type":"string"},{"type":"number"}]}}}}}}`

func TestExactSubset(t *testing.T) {
	t.Parallel()
	f := &schemaCluster{fakeCluster: &fakeCluster{}, docs: map[schema.GroupVersion]string{{Group: "example.com", Version: "v1"}: mergeDoc}}
	root := newValidator(f, nil).root(t.Context(), schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Thing"})
	if root == nil {
		t.Fatal("no root schema")
	}
	live := `{"finalizers":["a","b"],"selector":{"app":"web","tier":"front"},"labels":{"x":"1","y":"2"},
	  "containers":[{"name":"side","args":["-v"]},{"name":"web","args":["-a","-b"],"cpu":"1","ports":[{"containerPort":80,"protocol":"TCP"}]}]}`
	tests := []struct {
		name, desired, want string
	}{
		{"subset with another manager's items", `{"labels":{"x":"1"},"containers":[{"name":"web","args":["-a","-b"],"ports":[{"containerPort":80}]}]}`, ""},
		{"set in live order", `{"finalizers":["a","b"]}`, ""},
		{"set in another order", `{"finalizers":["b","a"]}`, hybridAtomic},
		{"atomic map with fewer keys", `{"selector":{"app":"web"}}`, hybridAtomic},
		{"atomic map identical", `{"selector":{"app":"web","tier":"front"}}`, ""},
		{"atomic list with fewer items", `{"containers":[{"name":"web","args":["-a"]}]}`, hybridAtomic},
		{"keyed items in another order", `{"containers":[{"name":"web"},{"name":"side"}]}`, hybridAtomic},
		{"keyed item missing", `{"containers":[{"name":"gone"}]}`, hybridInexact},
		{"key left to a default that is not the live one", `{"containers":[{"name":"web","ports":[{"containerPort":81}]}]}`, hybridInexact},
		{"quantity written differently", `{"containers":[{"name":"web","cpu":"1000m"}]}`, hybridInexact},
		{"number for a string", `{"containers":[{"name":"web","cpu":1}]}`, hybridInexact},
		{"null", `{"labels":{"x":null}}`, hybridInexact},
		{"empty object the live object lacks", `{"other":{}}`, hybridInexact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d, l map[string]any
			if err := json.Unmarshal([]byte(tt.desired), &d); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(live), &l); err != nil {
				t.Fatal(err)
			}
			if got := exactSubset(toInt64(d).(map[string]any), toInt64(l).(map[string]any), root); got != tt.want {
				t.Errorf("exactSubset = %q, want %q", got, tt.want)
			}
		})
	}
}

// toInt64 makes whole JSON numbers int64, as the suite's decoders do.
func toInt64(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = toInt64(x)
		}
	case []any:
		for i, x := range t {
			t[i] = toInt64(x)
		}
	case float64:
		if t == float64(int64(t)) {
			return int64(t)
		}
	}
	return v
}

func TestAdmissionMatches(t *testing.T) {
	t.Parallel()
	a := &admission{resources: map[string]bool{}}
	a.add([]any{
		map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "operations": []any{"CREATE", "UPDATE"}},
		map[string]any{"apiGroups": []any{"apps"}, "resources": []any{"deployments/scale"}, "operations": []any{"*"}},
		map[string]any{"apiGroups": []any{"*"}, "resources": []any{"secrets"}, "operations": []any{"CREATE"}}, // not on update
		map[string]any{"apiGroups": []any{"example.com"}, "resources": []any{"*"}, "operations": []any{"UPDATE"}},
	})
	for gr, want := range map[schema.GroupResource]string{
		{Resource: "configmaps"}:                   hybridAdmission,
		{Group: "apps", Resource: "deployments"}:   hybridAdmission, // a subresource's webhook counts, to be safe
		{Resource: "secrets"}:                      "",
		{Group: "example.com", Resource: "gizmos"}: hybridAdmission,
		{Resource: "services"}:                     "",
	} {
		if got := a.matches(gr); got != want {
			t.Errorf("%v: %q, want %q", gr, got, want)
		}
	}
	if got := (&admission{unknown: true}).matches(schema.GroupResource{Resource: "services"}); got != hybridAdmissionUnknown {
		t.Errorf("unreadable configuration: %q", got)
	}
}
