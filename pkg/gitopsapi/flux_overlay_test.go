package gitopsapi

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsyaml "sigs.k8s.io/yaml"
)

// TestFluxOverlayMergesIntoKustomization: a Kustomization's kustomize
// options edit the path's own kustomization, as kustomize-controller's
// generator does, rather than sitting on top of its build. Found by the
// differential test against `flux build kustomization`
// (plugins/drift/flux_diff_test.go): namePrefix replaces the file's own,
// a patch targets the names before the prefix, and images merge with the
// file's entry of the same name.
func TestFluxOverlayMergesIntoKustomization(t *testing.T) {
	root := writeTree(t, map[string]string{
		"base/kustomization.yaml": "resources: [deploy.yaml]\n",
		"base/deploy.yaml":        deploy,
		"overlay/kustomization.yaml": `resources: [../base]
namePrefix: shop-
images: [{name: nginx, newName: registry.example.org/mirror/nginx}]
`,
	})
	var ks unstructured.Unstructured
	if err := sigsyaml.Unmarshal([]byte(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: shop, namespace: flux-system}
spec:
  path: ./overlay
  sourceRef: {kind: GitRepository, name: fleet}
  targetNamespace: shop
  namePrefix: staging-
  patches:
    - patch: '[{"op": "replace", "path": "/spec/replicas", "value": 1}]'
      target: {kind: Deployment, name: web}
  images: [{name: nginx, newTag: "1.27"}]
`), &ks.Object); err != nil {
		t.Fatal(err)
	}
	repo := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"url": "https://git.example.com/fleet.git"}}}
	set, err := Render(t.Context(), FluxSource(&ks, repo), root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range set.Objects {
		replicas, _, _ := unstructured.NestedInt64(o.Obj.Object, "spec", "replicas")
		containers, _, _ := unstructured.NestedSlice(o.Obj.Object, "spec", "template", "spec", "containers")
		image, _, _ := unstructured.NestedString(containers[0].(map[string]any), "image")
		got = append(got, o.Obj.GetNamespace()+"/"+o.Obj.GetName()+" replicas="+strconv.FormatInt(replicas, 10)+" image="+image)
	}
	want := []string{"shop/staging-web replicas=1 image=registry.example.org/mirror/nginx:1.27"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rendered (-kustomize-controller +drift):\n%s", diff)
	}
}

// TestFluxIgnoreMissingComponents: with spec.ignoreMissingComponents a
// component directory that does not exist is left out, as
// kustomize-controller leaves it out; without it, the build fails.
func TestFluxIgnoreMissingComponents(t *testing.T) {
	root := writeTree(t, map[string]string{
		"app/kustomization.yaml": "resources: [deploy.yaml]\n",
		"app/deploy.yaml":        deploy,
		"comp/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches: [{target: {kind: Deployment}, patch: '[{"op": "add", "path": "/spec/replicas", "value": 3}]'}]
`,
	})
	for _, ignore := range []bool{true, false} {
		var ks unstructured.Unstructured
		if err := sigsyaml.Unmarshal([]byte(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app, namespace: flux-system}
spec:
  path: ./app
  sourceRef: {kind: GitRepository, name: fleet}
  components: [../comp, ../canary]
  ignoreMissingComponents: `+strconv.FormatBool(ignore)+`
`), &ks.Object); err != nil {
			t.Fatal(err)
		}
		repo := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"url": "https://git.example.com/fleet.git"}}}
		set, err := Render(t.Context(), FluxSource(&ks, repo), root)
		if !ignore {
			if err == nil {
				t.Error("a missing component without ignoreMissingComponents: no error")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if r, _, _ := unstructured.NestedInt64(set.Objects[0].Obj.Object, "spec", "replicas"); len(set.Objects) != 1 || r != 3 {
			t.Errorf("got %d objects, replicas %d; want the Deployment patched by ../comp to 3", len(set.Objects), r)
		}
	}
}
