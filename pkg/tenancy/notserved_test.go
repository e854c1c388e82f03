package tenancy

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
)

// notServedGetter answers every AppProject with err, the rest as fakeGetter.
type notServedGetter struct {
	fakeGetter
	err error
}

func (g notServedGetter) Get(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
	if gvk.Kind == "AppProject" {
		return nil, g.err
	}
	return g.fakeGetter.Get(ctx, gvk, ns, name)
}

// The guard of a kind not served says what pkg/cluster's error says: the
// CRD is not installed when no version is served, the versions served when
// only the one asked is not (then nothing about installing the CRD).
func TestGuardOfAKindNotServed(t *testing.T) {
	tn := &Tenant{Name: "a", Namespaces: []string{"a1"}, Owners: Owners{Groups: []string{"g"}}, Operator: OperatorArgoCD, Repos: []string{"https://x/y.git"}}
	if err := Validate([]*Tenant{tn}); err != nil {
		t.Fatal(err)
	}
	gvk := gvkAppProject
	tests := []struct {
		name        string
		err         error
		want, never string
	}{
		{"CRD not installed", &cluster.NotServedError{GVK: gvk}, "kind not served by the API server (CRD not installed)", "apiVersion"},
		{"version removed", &cluster.NotServedError{GVK: gvk, ServedVersions: []string{"v1", "v1beta9"}},
			"apiVersion not served by the API server: " + gvk.GroupVersion().String() + " AppProject (it serves AppProject at v1, v1beta9)", "CRD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *GuardResult
			for _, g := range checkGuards(context.Background(), tn, notServedGetter{err: tt.err}) {
				if g.Kind == "AppProject" {
					got = &g
				}
			}
			if got == nil || got.Status != GuardMissing || got.Message != tt.want || strings.Contains(got.Message, tt.never) {
				t.Errorf("AppProject guard %+v, want %s %q", got, GuardMissing, tt.want)
			}
		})
	}
}
