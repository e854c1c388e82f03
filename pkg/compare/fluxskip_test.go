package compare

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestFluxSkip: the objects kustomize-controller leaves alone, as its diff
// decides (fluxcd/pkg/ssa shouldSkipDiff), found by the differential test
// against `flux diff kustomization` (plugins/drift/flux_diff_test.go).
func TestFluxSkip(t *testing.T) {
	obj := func(labels, annotations map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
		u.SetName("cm")
		u.SetLabels(labels)
		u.SetAnnotations(annotations)
		return u
	}
	plain := obj(nil, nil)
	tests := []struct {
		name          string
		desired, live *unstructured.Unstructured
		want          string
	}{
		{"nothing", plain, plain, ""},
		{"reconcile disabled in Git", obj(nil, map[string]string{FluxReconcile: "disabled"}), plain, FluxReconcile + ": disabled"},
		{"reconcile disabled live, as a label", plain, obj(map[string]string{FluxReconcile: "Disabled"}, nil), FluxReconcile + ": disabled"},
		{"ssa: Ignore in Git", obj(nil, map[string]string{FluxSSA: "Ignore"}), plain, FluxSSA + ": Ignore"},
		{"ssa: ignore live", plain, obj(nil, map[string]string{FluxSSA: "ignore"}), FluxSSA + ": Ignore"},
		{"ssa: IfNotPresent, exists", obj(nil, map[string]string{FluxSSA: "IfNotPresent"}), plain, FluxSSA + ": IfNotPresent, and it exists"},
		{"ssa: IfNotPresent as a label, exists", obj(map[string]string{FluxSSA: "ifnotpresent"}, nil), plain, FluxSSA + ": IfNotPresent, and it exists"},
		{"ssa: IfNotPresent, missing", obj(nil, map[string]string{FluxSSA: "IfNotPresent"}), nil, ""},
		{"ssa: IfNotPresent only live", plain, obj(nil, map[string]string{FluxSSA: "IfNotPresent"}), ""},
		{"ssa: Merge", obj(nil, map[string]string{FluxSSA: "Merge"}), plain, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fluxSkip(tt.desired, tt.live); got != tt.want {
				t.Errorf("fluxSkip = %q, want %q", got, tt.want)
			}
		})
	}
}
