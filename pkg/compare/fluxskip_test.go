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

// metadataValue reads a label or an annotation as GetLabels and
// GetAnnotations do, without their copy: nulls read as "", and a map with a
// value that is not a string reads as no map.
func TestMetadataValue(t *testing.T) {
	t.Parallel()
	objs := []map[string]any{
		{},
		{"metadata": "not a map"},
		{"metadata": map[string]any{"labels": "not a map", "annotations": nil}},
		{"metadata": map[string]any{"labels": map[string]any{"k": "v", "n": nil}, "annotations": map[string]any{"k": "a"}}},
		{"metadata": map[string]any{"labels": map[string]any{"k": "v", "bad": int64(1)}, "annotations": map[string]any{"k": "a", "bad": true}}},
		{"metadata": map[string]any{"labels": map[string]any{"k": nil}, "annotations": map[string]any{"other": "x"}}},
	}
	for i, obj := range objs {
		u := &unstructured.Unstructured{Object: obj}
		for _, key := range []string{"k", "n", "bad", "other", "absent"} {
			if got, want := metadataValue(u, "labels", key), u.GetLabels()[key]; got != want {
				t.Errorf("object %d, label %q: %q, want %q", i, key, got, want)
			}
			if got, want := metadataValue(u, "annotations", key), u.GetAnnotations()[key]; got != want {
				t.Errorf("object %d, annotation %q: %q, want %q", i, key, got, want)
			}
			for _, field := range []string{"labels", "annotations"} {
				m := u.GetLabels()
				if field == "annotations" {
					m = u.GetAnnotations()
				}
				want, wantOK := m[key]
				if got, ok := metadataLookup(u, field, key); got != want || ok != wantOK {
					t.Errorf("object %d, %s %q: (%q, %v), want (%q, %v)", i, field, key, got, ok, want, wantOK)
				}
			}
		}
	}
}

// fluxSkip runs for every object compared (twice for each one hybrid mode
// dry-runs): it reads labels and annotations without copying them.
func TestFluxSkipAllocatesNothing(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{
		"labels":      map[string]any{"app": "web", "kustomize.toolkit.fluxcd.io/name": "apps"},
		"annotations": map[string]any{"note": "x", FluxSSA: "Merge"},
	}}}
	if n := testing.AllocsPerRun(100, func() { _ = fluxSkip(u, u) }); n != 0 {
		t.Errorf("fluxSkip allocates %v times per call, want 0", n)
	}
}

// agentManager and reconcileDisabled run for every object compared: they
// read labels and annotations without copying them either.
func TestAgentManagerAllocatesNothing(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{
		"labels":      map[string]any{"app": "web", HelmFluxNameLabel: "web"},
		"annotations": map[string]any{"note": "x", FluxReconcile: "enabled"},
	}}}
	if got := agentManager(u); got != "helm-controller" {
		t.Fatalf("agentManager = %q, want helm-controller", got)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = agentManager(u), reconcileDisabled(u) }); n != 0 {
		t.Errorf("agentManager and reconcileDisabled allocate %v times per call, want 0", n)
	}
}
