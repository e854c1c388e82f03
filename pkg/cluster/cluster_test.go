package cluster

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, controlplane.Options{}))
}

func mustMapping(t *testing.T, c *Client, gvk schema.GroupVersionKind) *meta.RESTMapping {
	t.Helper()
	m, err := c.Mapping(context.Background(), gvk)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func obj(apiVersion, kind, ns, name string, fields map[string]any) *unstructured.Unstructured {
	o := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name, "namespace": ns}}
	for k, v := range fields {
		o[k] = v
	}
	if ns == "" {
		delete(o["metadata"].(map[string]any), "namespace")
	}
	return &unstructured.Unstructured{Object: o}
}

// TestListAndApplyAsDynamicClient checks that List and Apply, which decode
// responses themselves, return exactly what the dynamic client returns:
// the same objects (typed lists' items given apiVersion and kind, pages
// joined) and the same errors.
func TestListAndApplyAsDynamicClient(t *testing.T) {
	cp := controlplane.ForTest(t)
	ctx := context.Background()
	c, err := New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	cmGVK := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	nsGVK := schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	cms, nss := mustMapping(t, c, cmGVK), mustMapping(t, c, nsGVK)
	const ns = "cluster-decode"
	if _, err := c.Apply(ctx, nss, obj("v1", "Namespace", "", ns, nil), ApplyOptions{FieldManager: "test"}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		data := map[string]any{"n": fmt.Sprint(i), "text": "ü \"quoted\" \\ </script>"}
		if _, err := c.Apply(ctx, cms, obj("v1", "ConfigMap", ns, fmt.Sprintf("cm-%d", i), map[string]any{"data": data}), ApplyOptions{FieldManager: "test"}); err != nil {
			t.Fatal(err)
		}
	}

	dynList := func(m *meta.RESTMapping, namespace string) ([]unstructured.Unstructured, error) {
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if namespace != "" {
			ri = dyn.Resource(m.Resource).Namespace(namespace)
		}
		l, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	}
	for _, tt := range []struct {
		name      string
		mapping   *meta.RESTMapping
		namespace string
		pageSize  int64
		wantLen   int
	}{
		{"one page", cms, ns, 500, 5},
		{"pages of two", cms, ns, 2, 5},
		{"cluster-scoped", nss, "", 500, -1},
		{"no such namespace", cms, "cluster-decode-none", 500, 0},
	} {
		t.Run("list "+tt.name, func(t *testing.T) {
			c.ListPageSize = tt.pageSize
			got, err := c.List(ctx, tt.mapping, tt.namespace, "")
			if err != nil {
				t.Fatal(err)
			}
			want, err := dynList(tt.mapping, tt.namespace)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantLen >= 0 && len(got) != tt.wantLen {
				t.Errorf("got %d objects, want %d", len(got), tt.wantLen)
			}
			for _, o := range got {
				if o.GetKind() != tt.mapping.GroupVersionKind.Kind || o.GetAPIVersion() != "v1" {
					t.Errorf("%s: apiVersion %q kind %q", o.GetName(), o.GetAPIVersion(), o.GetKind())
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("List differs from the dynamic client's (-want +got):\n%s", d)
			}
		})
	}
	c.ListPageSize = 500

	for _, tt := range []struct {
		name    string
		obj     *unstructured.Unstructured
		wantErr bool
	}{
		{"unchanged", obj("v1", "ConfigMap", ns, "cm-1", map[string]any{"data": map[string]any{"n": "1", "text": "ü \"quoted\" \\ </script>"}}), false},
		{"changed", obj("v1", "ConfigMap", ns, "cm-2", map[string]any{"data": map[string]any{"n": "two"}, "metadata": map[string]any{"name": "cm-2", "namespace": ns, "annotations": map[string]any{"big": "1152921504606846976"}}}), false},
		{"not a string", obj("v1", "ConfigMap", ns, "cm-2", map[string]any{"data": map[string]any{"big": int64(1) << 60}}), true},
		{"invalid", obj("v1", "ConfigMap", ns, "cm-3", map[string]any{"data": map[string]any{"bad key!": "x"}}), true},
		{"no such namespace", obj("v1", "ConfigMap", "cluster-decode-none", "cm", nil), true},
		{"bad name", obj("v1", "ConfigMap", ns, "a/b", nil), true},
		{"no name", obj("v1", "ConfigMap", ns, "", nil), true},
	} {
		t.Run("apply "+tt.name, func(t *testing.T) {
			got, gotErr := c.Apply(ctx, cms, tt.obj, ApplyOptions{FieldManager: "test", Force: true, DryRun: true})
			data, err := tt.obj.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			force := true
			want, wantErr := dyn.Resource(cms.Resource).Namespace(tt.obj.GetNamespace()).Patch(ctx, tt.obj.GetName(), types.ApplyPatchType, data,
				metav1.PatchOptions{FieldManager: "test", Force: &force, DryRun: []string{metav1.DryRunAll}})
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("error %v, the dynamic client's %v", gotErr, wantErr)
			}
			if (gotErr != nil) != tt.wantErr {
				t.Fatalf("error %v", gotErr)
			}
			if gotErr != nil {
				return
			}
			// managedFields times have one-second resolution and may differ.
			for _, o := range []*unstructured.Unstructured{got, want} {
				mf := o.GetManagedFields()
				for i := range mf {
					mf[i].Time = nil
				}
				o.SetManagedFields(mf)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Apply differs from the dynamic client's (-want +got):\n%s", d)
			}
			short, err := c.Apply(ctx, cms, tt.obj, ApplyOptions{FieldManager: "test", Force: true, DryRun: true, OmitManagedFields: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.GetManagedFields()) == 0 {
				t.Fatal("no managedFields to omit")
			}
			want.SetManagedFields(nil)
			if d := cmp.Diff(want, short); d != "" {
				t.Errorf("OmitManagedFields: not the dynamic client's object without managedFields (-want +got):\n%s", d)
			}
		})
	}
}
