package compare

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// schemaCluster is a fakeCluster that also publishes OpenAPI v3 documents
// (none: reading the index is forbidden), at URLs with their hash, as the
// API server does.
type schemaCluster struct {
	*fakeCluster
	docs map[schema.GroupVersion]string
}

func (s *schemaCluster) OpenAPIV3Paths(context.Context) (map[schema.GroupVersion]string, error) {
	if s.docs == nil {
		return nil, errors.New("forbidden: /openapi/v3")
	}
	paths := map[schema.GroupVersion]string{}
	for gv, d := range s.docs {
		paths[gv] = fmt.Sprintf("/openapi/v3/apis/%s/%s?hash=%x", gv.Group, gv.Version, sha256.Sum256([]byte(d)))
	}
	return paths, nil
}

func (s *schemaCluster) OpenAPIV3Document(ctx context.Context, u string) ([]byte, error) {
	paths, err := s.OpenAPIV3Paths(ctx)
	if err != nil {
		return nil, err
	}
	for gv, p := range paths {
		if p == u {
			return []byte(s.docs[gv]), nil
		}
	}
	return nil, fmt.Errorf("%s: not found", u)
}

// A Kustomization (a made-up schema): spec.port is an integer, spec.target int-or-string, spec.size a
// string or a number (a quantity), spec.extra free-form.
const widgetDoc = `{"components":{"schemas":{
 "example.Widget":{"type":"object","x-kubernetes-group-version-kind":[{"group":"kustomize.toolkit.fluxcd.io","version":"v1","kind":"Kustomization"}],
  "properties":{"apiVersion":{"type":"string"},"kind":{"type":"string"},"metadata":{"allOf":[{"$ref":"#/components/schemas/meta"}]},
   "spec":{"type":"object","properties":{
    "port":{"type":"integer"},
    "target":{"x-kubernetes-int-or-string":true},
    "size":{"oneOf":[{"type":"string"},{"type":"number"}]},
    "labels":{"type":"object","additionalProperties":{"type":"string"}},
    "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}},
 "meta":{"type":"object","properties":{"name":{"type":"string"},"namespace":{"type":"string"}}}}}}`

func widget(spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "w", "namespace": "default"}, "spec": spec}}
}

func TestSchemaCheckInLocalMode(t *testing.T) {
	t.Parallel()
	valid := map[string]any{"port": int64(80), "target": "http", "size": 1.5, "labels": map[string]any{"a": "b"},
		"extra": map[string]any{"anything": []any{int64(1)}}}
	tests := []struct {
		name       string
		spec       map[string]any
		wantReason string
	}{
		{name: "valid", spec: valid},
		{name: "integer as a string", spec: map[string]any{"port": "8080"},
			wantReason: "invalid against the server's OpenAPI schema of kustomize.toolkit.fluxcd.io/v1: spec.port: expected integer, got string; the server would refuse to apply it"},
		{name: "int-or-string as a boolean", spec: map[string]any{"target": true},
			wantReason: "spec.target: expected an integer or a string, got boolean"},
		{name: "quantity as an object", spec: map[string]any{"size": map[string]any{}},
			wantReason: "spec.size: object matches none of the allowed types"},
		{name: "map value of the wrong type, unknown field", spec: map[string]any{"labels": map[string]any{"a": int64(1)}, "prot": int64(1)},
			wantReason: "spec.labels.a: expected string, got number; spec.prot: field not declared in schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			live := widget(valid)
			f := &schemaCluster{fakeCluster: &fakeCluster{live: []*unstructured.Unstructured{live}}, docs: map[schema.GroupVersion]string{{Group: "kustomize.toolkit.fluxcd.io", Version: "v1"}: widgetDoc}}
			rep, err := (&Engine{Reader: f, Applier: f}).Run(t.Context(), git(widget(tt.spec)), local)
			if err != nil {
				t.Fatal(err)
			}
			o := rep.Objects[0]
			if tt.wantReason == "" {
				if o.Status == StatusError {
					t.Errorf("valid object in error: %s", o.Reason)
				}
				return
			}
			if o.Status != StatusError || !strings.Contains(o.Reason, tt.wantReason) {
				t.Errorf("status %s, reason %q; want error with %q", o.Status, o.Reason, tt.wantReason)
			}
		})
	}
}

// A schema the server does not let us read is a warning: objects are
// compared without the check.
func TestSchemaUnavailable(t *testing.T) {
	t.Parallel()
	f := &schemaCluster{fakeCluster: &fakeCluster{live: []*unstructured.Unstructured{widget(map[string]any{"port": "8080"})}}}
	rep, err := (&Engine{Reader: f, Applier: f}).Run(t.Context(), git(widget(map[string]any{"port": "8080"})), local)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Objects[0].Status != StatusUnchanged {
		t.Errorf("status %s (%s), want unchanged", rep.Objects[0].Status, rep.Objects[0].Reason)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "objects of kustomize.toolkit.fluxcd.io/v1 are not checked against the server's schema: forbidden") {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

// An object Flux does not reconcile is skipped before it is checked, as
// server mode skips it before the dry-run.
func TestSchemaCheckAfterSkip(t *testing.T) {
	t.Parallel()
	w := widget(map[string]any{"port": "8080"})
	w.SetAnnotations(map[string]string{FluxReconcile: "disabled"})
	f := &schemaCluster{fakeCluster: &fakeCluster{live: []*unstructured.Unstructured{widget(nil)}}, docs: map[schema.GroupVersion]string{{Group: "kustomize.toolkit.fluxcd.io", Version: "v1"}: widgetDoc}}
	rep, err := (&Engine{Reader: f, Applier: f}).Run(t.Context(), git(w), local)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Objects[0].Status != StatusSkipped {
		t.Errorf("status %s (%s), want skipped", rep.Objects[0].Status, rep.Objects[0].Reason)
	}
}

// Checking a valid object allocates (almost) nothing: local mode checks
// every object Git declares, and the check once cost a third of local
// mode's time at N = 2000 (docs/benchmarks.md, run H) in sorted key lists,
// paths and additionalProperties decoded again for every map.
func TestSchemaCheckValidAllocates(t *testing.T) {
	f := &schemaCluster{fakeCluster: &fakeCluster{}, docs: map[schema.GroupVersion]string{{Group: "kustomize.toolkit.fluxcd.io", Version: "v1"}: widgetDoc}}
	v := newValidator(f, nil)
	obj := widget(map[string]any{"port": int64(80), "target": "http", "size": 1.5,
		"labels": map[string]any{"a": "b", "c": "d", "e": "f"}, "extra": map[string]any{"anything": []any{int64(1)}}})
	gvk := obj.GroupVersionKind()
	if r := v.check(t.Context(), obj.Object, gvk); r != "" {
		t.Fatalf("valid object: %s", r)
	}
	allocs := testing.AllocsPerRun(100, func() { v.check(t.Context(), obj.Object, gvk) })
	if allocs > 2 {
		t.Errorf("checking a valid object allocates %.0f times, want at most 2", allocs)
	}
}

// A document is decoded only as far as the kinds checked reach: a schema of
// another kind that cannot be read does not stop this kind's check (and the
// megabytes of the core group's other kinds are not decoded).
func TestSchemaCheckDecodesOnlyWhatItReaches(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(widgetDoc, `"meta":{`, `"example.Other":{"type":5,"x-kubernetes-group-version-kind":"not a list"},"meta":{`, 1)
	f := &schemaCluster{fakeCluster: &fakeCluster{live: []*unstructured.Unstructured{widget(map[string]any{"port": int64(80)})}},
		docs: map[schema.GroupVersion]string{{Group: "kustomize.toolkit.fluxcd.io", Version: "v1"}: doc}}
	rep, err := (&Engine{Reader: f, Applier: f}).Run(t.Context(), git(widget(map[string]any{"port": "8080"})), local)
	if err != nil {
		t.Fatal(err)
	}
	if o := rep.Objects[0]; o.Status != StatusError || !strings.Contains(o.Reason, "spec.port: expected integer, got string") {
		t.Errorf("status %s (%s), want the schema error of spec.port", o.Status, o.Reason)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

// countingSchemas counts the documents read from a schemaCluster.
type countingSchemas struct {
	*schemaCluster
	mu    sync.Mutex
	reads int
	fail  bool
}

func (c *countingSchemas) OpenAPIV3Document(ctx context.Context, u string) ([]byte, error) {
	c.mu.Lock()
	c.reads++
	fail := c.fail
	c.mu.Unlock()
	if fail {
		return nil, errors.New("the server is shutting down")
	}
	return c.schemaCluster.OpenAPIV3Document(ctx, u)
}

// Runs that share Schemas, at once, read a document once and all check
// against it; a read that failed is warned about in that Run and tried
// again by the next.
func TestSchemasSharedAcrossRuns(t *testing.T) {
	t.Parallel()
	f := &countingSchemas{schemaCluster: &schemaCluster{fakeCluster: &fakeCluster{live: []*unstructured.Unstructured{widget(map[string]any{"port": int64(80)})}},
		docs: map[schema.GroupVersion]string{{Group: "kustomize.toolkit.fluxcd.io", Version: "v1"}: widgetDoc}}, fail: true}
	shared := NewSchemas(f)
	e := &Engine{Reader: f, Applier: f, Schemas: shared}
	rep, err := e.Run(t.Context(), git(widget(map[string]any{"port": "8080"})), local)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "shutting down") || rep.Objects[0].Status == StatusError {
		t.Fatalf("failed read: warnings %q, status %s", rep.Warnings, rep.Objects[0].Status)
	}
	f.mu.Lock()
	f.fail, f.reads = false, 0
	f.mu.Unlock()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			rep, err := e.Run(t.Context(), git(widget(map[string]any{"port": "8080"})), local)
			if err != nil {
				t.Error(err)
				return
			}
			if o := rep.Objects[0]; o.Status != StatusError || !strings.Contains(o.Reason, "spec.port: expected integer") {
				t.Errorf("status %s (%s), want refused", o.Status, o.Reason)
			}
		})
	}
	wg.Wait()
	if f.reads != 1 {
		t.Errorf("document read %d times by 8 runs sharing their schemas, want once", f.reads)
	}
}
