package compare

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
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

// reviewer answers access reviews from allowed (namespace "" for all
// namespaces) and records them.
type reviewer struct {
	mu      sync.Mutex
	allowed map[string]bool
	asked   []string
}

func (r *reviewer) ReviewSelfAccess(_ context.Context, a authorizationv1.ResourceAttributes) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.Verb != "patch" {
		return false, fmt.Errorf("verb %q", a.Verb)
	}
	key := a.Resource + "/" + a.Namespace
	r.asked = append(r.asked, key)
	return r.allowed[key], nil
}

// mayPatch reviews each resource once for all namespaces, and per namespace
// only when that is not allowed: a user allowed everywhere costs one review
// per resource, however many namespaces; one allowed in some namespaces gets
// the same answers as with a review per namespace.
func TestMayPatchReviewsAllNamespacesFirst(t *testing.T) {
	t.Parallel()
	cms := schema.GroupResource{Resource: "configmaps"}
	svcs := schema.GroupResource{Resource: "services"}
	nodes := schema.GroupResource{Resource: "nodes"}
	tests := []struct {
		name    string
		allowed map[string]bool
		want    map[string]bool // resource/namespace: mayPatch's answer
		asked   []string
	}{
		{name: "allowed everywhere",
			allowed: map[string]bool{"configmaps/": true, "services/": true, "nodes/": true},
			want:    map[string]bool{"configmaps/a": true, "configmaps/b": true, "services/a": true, "services/b": true, "nodes/": true},
			asked:   []string{"configmaps/", "nodes/", "services/"}},
		{name: "allowed in one namespace only",
			allowed: map[string]bool{"configmaps/a": true, "services/a": true},
			want:    map[string]bool{"configmaps/a": true, "configmaps/b": false, "services/a": true, "services/b": false, "nodes/": false},
			asked:   []string{"configmaps/", "configmaps/a", "configmaps/b", "nodes/", "services/", "services/a", "services/b"}},
		{name: "configmaps everywhere, services in one namespace",
			allowed: map[string]bool{"configmaps/": true, "services/b": true},
			want:    map[string]bool{"configmaps/a": true, "configmaps/b": true, "services/a": false, "services/b": true},
			asked:   []string{"configmaps/", "services/", "services/a", "services/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &reviewer{allowed: tt.allowed}
			h := &hybrid{reviewer: r, allowed: map[groupKey]*review{}}
			// Many objects per resource and namespace, in parallel.
			var wg sync.WaitGroup
			for range 20 {
				for key, want := range tt.want {
					wg.Go(func() {
						res, ns, _ := strings.Cut(key, "/")
						gr := map[string]schema.GroupResource{"configmaps": cms, "services": svcs, "nodes": nodes}[res]
						if got := h.mayPatch(t.Context(), groupKey{gr, ns}); got != want {
							t.Errorf("mayPatch(%s) = %v, want %v", key, got, want)
						}
					})
				}
			}
			wg.Wait()
			slices.Sort(r.asked)
			if !slices.Equal(r.asked, tt.asked) {
				t.Errorf("reviews asked: %q, want %q", r.asked, tt.asked)
			}
		})
	}
}
