package ignore

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
)

// workload is a Deployment's content with an injected sidecar twice (as
// after a botched re-injection), so jq selects several list items.
func workload() map[string]any {
	return map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata": map[string]any{
			"name":      "web",
			"namespace": "prod",
			"annotations": map[string]any{
				"example.com/note": "x",
				"a~b":              "tilde",
			},
		},
		"spec": map[string]any{
			"replicas": int64(3),
			"template": map[string]any{
				"spec": map[string]any{
					"containers": []any{
						map[string]any{"name": "app", "image": "web:1", "ports": []any{map[string]any{"containerPort": int64(8080)}}},
						map[string]any{"name": "istio-proxy", "image": "proxyv2:1"},
						map[string]any{"name": "log", "image": "fluent-bit:3", "ports": []any{map[string]any{"containerPort": int64(2020)}}},
						map[string]any{"name": "istio-proxy", "image": "proxyv2:1"},
					},
				},
			},
		},
	}
}

func TestPaths(t *testing.T) {
	tests := []struct {
		name     string
		pointers []string
		jq       []string
		want     []string // JSON pointers of the paths
		wantErr  string
	}{
		{name: "pointer", pointers: []string{"/spec/replicas"}, want: []string{"/spec/replicas"}},
		{name: "missing pointer", pointers: []string{"/spec/paused", "/status/replicas"}},
		{name: "pointer through a scalar", pointers: []string{"/spec/replicas/x"}},
		{name: "escaped slash", pointers: []string{"/metadata/annotations/example.com~1note"}, want: []string{"/metadata/annotations/example.com~1note"}},
		{name: "escaped tilde", pointers: []string{"/metadata/annotations/a~0b"}, want: []string{"/metadata/annotations/a~0b"}},
		{name: "list index", pointers: []string{"/spec/template/spec/containers/1/image"}, want: []string{"/spec/template/spec/containers/1/image"}},
		{name: "list index out of range", pointers: []string{"/spec/template/spec/containers/9/image"}},
		{name: "name where a list is", pointers: []string{"/spec/template/spec/containers/app/image"}},
		{name: "duplicates and order", pointers: []string{"/spec/replicas", "/metadata/name", "/spec/replicas"}, want: []string{"/metadata/name", "/spec/replicas"}},
		{
			name: "jq selecting list items",
			jq:   []string{`.spec.template.spec.containers[] | select(.name == "istio-proxy")`},
			want: []string{"/spec/template/spec/containers/1", "/spec/template/spec/containers/3"},
		},
		{
			name: "jq comparing int64 numbers",
			jq:   []string{`.spec.template.spec.containers[] | select(.ports[0]?.containerPort == 2020) | .image`},
			want: []string{"/spec/template/spec/containers/2/image"},
		},
		{name: "jq missing path", jq: []string{`.spec.paused`, `.status.conditions[]?`}},
		{name: "jq negative index", jq: []string{`.spec.template.spec.containers[-1].image`}, want: []string{"/spec/template/spec/containers/3/image"}},
		{name: "jq key with a slash", jq: []string{`.metadata.annotations["example.com/note"]`}, want: []string{"/metadata/annotations/example.com~1note"}},
		{name: "jq identity is not a path", jq: []string{`.`}},
		{name: "jq comment", jq: []string{".spec.replicas # the HPA's"}, want: []string{"/spec/replicas"}},
		{
			name:     "pointers and jq together",
			pointers: []string{"/spec/template/spec/containers/1"},
			jq:       []string{`.spec.template.spec.containers[] | select(.name == "istio-proxy")`},
			want:     []string{"/spec/template/spec/containers/1", "/spec/template/spec/containers/3"},
		},
		{name: "jq runtime error", jq: []string{`.spec.replicas[]`}, wantErr: `evaluating jq ".spec.replicas[]" of rule test: cannot iterate over: number (3)`},
		{name: "jq slice", jq: []string{`.spec.template.spec.containers[1:3]`}, wantErr: "array slices are not supported"},
		{name: "jq that does not compile", jq: []string{`.spec[`}, wantErr: `compiling jq ".spec[" of rule test: unexpected EOF`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Built by hand, so Paths compiles the jq itself.
			r := &Rule{Name: "test", JSONPointers: tt.pointers, JQPathExpressions: tt.jq}
			obj := workload()
			got, err := r.Paths(context.Background(), obj)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Paths error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, pointers(got)); diff != "" {
				t.Errorf("Paths mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(workload(), obj); diff != "" {
				t.Errorf("Paths modified the object (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPathsParsedRule(t *testing.T) {
	s := mustParse(t, `ignoreDifferences: [{group: apps, kind: Deployment, jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "istio-proxy") | .image']}]`)
	got, err := s.Rules()[0].Paths(context.Background(), workload())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/spec/template/spec/containers/1/image", "/spec/template/spec/containers/3/image"}
	if diff := cmp.Diff(want, pointers(got)); diff != "" {
		t.Errorf("Paths mismatch (-want +got):\n%s", diff)
	}
}

func TestStrip(t *testing.T) {
	containers := func(names ...string) []any {
		var out []any
		for _, c := range workload()["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any) {
			for _, n := range names {
				if c.(map[string]any)["name"] == n {
					out = append(out, c)
					break
				}
			}
		}
		return out
	}
	setContainers := func(obj map[string]any, cs []any) map[string]any {
		obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"] = cs
		return obj
	}

	tests := []struct {
		name        string
		rules       []*Rule
		wantDeleted []string
		want        map[string]any
	}{
		{
			name:  "nothing to strip",
			rules: []*Rule{{Name: "a", JSONPointers: []string{"/spec/paused"}}},
			want:  workload(),
		},
		{
			name:        "several list items",
			rules:       []*Rule{{Name: "a", JQPathExpressions: []string{`.spec.template.spec.containers[] | select(.name == "istio-proxy")`}}},
			wantDeleted: []string{"/spec/template/spec/containers/1", "/spec/template/spec/containers/3"},
			want:        setContainers(workload(), containers("app", "log")),
		},
		{
			// Item 0 goes, then fields of items 1 and 2 as they were
			// before the deletion: indices refer to the original list.
			name: "list items and fields of later items",
			rules: []*Rule{
				{Name: "a", JSONPointers: []string{"/spec/template/spec/containers/0"}},
				{Name: "b", JSONPointers: []string{"/spec/template/spec/containers/2/ports"}},
				{Name: "c", JQPathExpressions: []string{`.spec.template.spec.containers[3].image`}},
			},
			wantDeleted: []string{
				"/spec/template/spec/containers/0",
				"/spec/template/spec/containers/2/ports",
				"/spec/template/spec/containers/3/image",
			},
			want: setContainers(workload(), []any{
				map[string]any{"name": "istio-proxy", "image": "proxyv2:1"},
				map[string]any{"name": "log", "image": "fluent-bit:3"},
				map[string]any{"name": "istio-proxy"},
			}),
		},
		{
			name: "a path inside another",
			rules: []*Rule{
				{Name: "a", JSONPointers: []string{"/spec/template/spec/containers/1/image"}},
				{Name: "b", JSONPointers: []string{"/spec/template"}},
			},
			wantDeleted: []string{"/spec/template"},
			want: func() map[string]any {
				o := workload()
				delete(o["spec"].(map[string]any), "template")
				return o
			}(),
		},
		{
			name: "escaped pointers",
			rules: []*Rule{{Name: "a", JSONPointers: []string{
				"/metadata/annotations/example.com~1note", "/metadata/annotations/a~0b",
			}}},
			wantDeleted: []string{"/metadata/annotations/a~0b", "/metadata/annotations/example.com~1note"},
			want: func() map[string]any {
				o := workload()
				o["metadata"].(map[string]any)["annotations"] = map[string]any{}
				return o
			}(),
		},
		{
			name: "rules with OwnedBy are left to the caller",
			rules: []*Rule{
				{Name: "a", JSONPointers: []string{"/spec/replicas"}, OwnedBy: []string{"kube-controller-manager"}},
				{Name: "b", ManagedFieldsManagers: []string{"vpa-updater"}},
			},
			want: workload(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obj := workload()
			deleted, err := Strip(context.Background(), obj, tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantDeleted, pointers(deleted)); diff != "" {
				t.Errorf("deleted paths mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, obj); diff != "" {
				t.Errorf("object mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStripErrorLeavesObject(t *testing.T) {
	obj := workload()
	rules := []*Rule{
		{Name: "ok", JSONPointers: []string{"/spec/replicas"}},
		{Name: "bad", JQPathExpressions: []string{`.metadata.name[]`}},
	}
	if _, err := Strip(context.Background(), obj, rules); err == nil {
		t.Fatal("Strip succeeded, want the jq error")
	}
	if diff := cmp.Diff(workload(), obj); diff != "" {
		t.Errorf("Strip changed the object despite the error (-before +after):\n%s", diff)
	}
}

// TestStripUnstructured strips an object as the engine holds it: decoded
// from JSON by apimachinery, deep-copyable afterwards.
func TestStripUnstructured(t *testing.T) {
	u := loadObject(t, "objects/deployment-live.yaml")
	if _, err := Strip(context.Background(), u.Object, Builtin().Match(u)); err != nil {
		t.Fatal(err)
	}
	_ = runtime.DeepCopyJSON(u.Object) // panics on a value JSON does not have
}

func TestJQTimeout(t *testing.T) {
	tests := []struct {
		name string
		expr string
	}{
		{"infinite recursion", `def f: f; f`},
		{"huge range", `.spec.template.spec.containers[] | select(last(range(1e12)) < 0)`},
		{"endless paths", `.spec | recurse(.; true)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Compiled past checkJQ, which would reject them: the runtime
			// bounds are what is tested here.
			r := &Rule{Name: "slow", JQPathExpressions: []string{tt.expr}, JQTimeout: 50 * time.Millisecond, jq: uncheckedJQ(t, tt.expr)}
			start := time.Now()
			_, err := r.Paths(context.Background(), workload())
			if err == nil {
				t.Fatal("Paths succeeded, want a timeout or limit error")
			}
			if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "more than") {
				t.Errorf("error = %v, want a timeout or the path limit", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v for a 50ms timeout", d)
			}
			t.Log(err)
		})
	}
}

func TestJQDefaultTimeoutAndCancel(t *testing.T) {
	// No step budget here: on a fast machine maxJQSteps runs out before 1 s.
	r := &Rule{Name: "slow", JQPathExpressions: []string{`def f: f; f`}, jq: uncheckedJQ(t, `def f: f; f`), jqMaxSteps: math.MaxInt}
	start := time.Now()
	_, err := r.Paths(context.Background(), workload())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 1s") {
		t.Errorf("error = %v, want a timeout after the default 1s", err)
	}
	if d := time.Since(start); d < DefaultJQTimeout || d > 10*time.Second {
		t.Errorf("took %v, want about %v", d, DefaultJQTimeout)
	}

	// A cancelled caller stops the evaluation too, and is not reported as
	// the rule's timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.Paths(ctx, workload())
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "timed out") {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}
