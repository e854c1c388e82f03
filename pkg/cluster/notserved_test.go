package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestMappingNamesTheServedVersions checks that a kind whose CRD is
// installed but no longer serves the version asked (HelmRelease
// helm.toolkit.fluxcd.io/v2beta1, removed from helm-controller's CRD) is
// reported as such, with the versions the server does serve, while a kind
// served at no version stays "kind not served".
func TestMappingNamesTheServedVersions(t *testing.T) {
	cp := controlplane.ForTest(t)
	ctx := context.Background()
	if err := cp.InstallCRDs(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}

	// What the installed CRD serves, read from the server.
	crd, err := c.Get(ctx, mustMapping(t, c, schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}), "", "helmreleases.helm.toolkit.fluxcd.io")
	if err != nil {
		t.Fatal(err)
	}
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var served []string
	for _, v := range versions {
		v := v.(map[string]any)
		if v["served"] == true {
			served = append(served, v["name"].(string))
		}
	}
	if len(served) == 0 || slices.Contains(served, "v2beta1") {
		t.Fatalf("the HelmRelease CRD serves %v: the test needs it to serve some versions, not v2beta1", served)
	}

	gvk := schema.GroupVersionKind{Group: "helm.toolkit.fluxcd.io", Version: "v2beta1", Kind: "HelmRelease"}
	_, err = c.Mapping(ctx, gvk)
	var nse *NotServedError
	if !errors.Is(err, ErrKindNotServed) || !errors.As(err, &nse) || !VersionNotServed(err) {
		t.Fatalf("Mapping(%v) = %v, want a *NotServedError wrapping ErrKindNotServed with served versions", gvk, err)
	}
	if got, want := slices.Sorted(slices.Values(nse.ServedVersions)), slices.Sorted(slices.Values(served)); !slices.Equal(got, want) {
		t.Errorf("served versions %v, want %v (the CRD's)", got, want)
	}
	msg := err.Error()
	for _, want := range append([]string{"apiVersion not served", "helm.toolkit.fluxcd.io/v2beta1 HelmRelease"}, served...) {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "kind not served") || strings.Contains(msg, "CRD") {
		t.Errorf("error %q says the kind is not served, or blames the CRD", msg)
	}

	// The version served maps.
	mustMapping(t, c, gvk.GroupKind().WithVersion(served[0]))

	// A kind served at no version.
	_, err = c.Mapping(ctx, schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"})
	if !errors.Is(err, ErrKindNotServed) || VersionNotServed(err) || err.Error() != "kind not served by the API server: example.com/v1 Widget" {
		t.Errorf("Mapping(Widget) = %v", err)
	}
}
