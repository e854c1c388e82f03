package objdiff

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

// The objects in testdata were captured from a real kube-apiserver v1.37
// (kubectl get -o json --show-managed-fields), then given distinct entry
// times and a fixed namespace, uid and creation time:
//
//   - deployment-scaled-labelled.json: applied with server-side apply as
//     kustomize-controller, then `kubectl scale --replicas=5` (manager
//     "kubectl" on the scale subresource, an entry without a time),
//     `kubectl label owner=alice` ("kubectl-label") and
//     `kubectl set env DEBUG=1 TRACE=1` ("kubectl-set").
//   - service-labelled.json: applied as kustomize-controller (ports keyed
//     k:{"port":80,"protocol":"TCP"}), then labelled by "kubectl-label",
//     which created the labels map (it owns its ".").
//   - configmap-finalizers.json: applied with finalizer example.com/git,
//     then two finalizers added by `kubectl patch` (v:"..." entries).

// load reads a captured object from testdata, decoded as the engine gets
// objects: through JSON, with integers as int64.
func load(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(data))
}

// decode parses a JSON object with integers as int64.
func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := utiljson.Unmarshal([]byte(s), &obj); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return obj
}

// m builds a map from key, value pairs.
func m(kv ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// l builds a list.
func l(items ...any) []any { return items }

// p builds a path.
func p(elems ...any) objpath.Path { return objpath.Path(elems) }

// at parses an RFC 3339 time for an Owner.
func at(t *testing.T, s string) *time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return &ts
}

// container builds a container with a name and an image; mods add fields.
func container(name, image string, kv ...any) map[string]any {
	c := m(kv...)
	c["name"], c["image"] = name, image
	return c
}

// podSpec builds a Deployment-like object holding containers.
func podSpec(containers ...any) map[string]any {
	return m("spec", m("template", m("spec", m("containers", l(containers...)))))
}

// managedFields builds a managedFields entry the way the API server writes
// it; at may be "" (entries of the scale subresource carry no time).
func managedFields(t *testing.T, manager, operation, subresource, at, fieldsV1 string) map[string]any {
	t.Helper()
	e := m("manager", manager, "operation", operation, "apiVersion", "v1", "fieldsType", "FieldsV1", "fieldsV1", decode(t, fieldsV1))
	if subresource != "" {
		e["subresource"] = subresource
	}
	if at != "" {
		e["time"] = at
	}
	return e
}

// withManagedFields returns obj with the given managedFields entries.
func withManagedFields(obj map[string]any, entries ...map[string]any) map[string]any {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	list := make([]any, 0, len(entries))
	for _, e := range entries {
		list = append(list, e)
	}
	md["managedFields"] = list
	return obj
}
