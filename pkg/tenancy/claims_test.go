package tenancy

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// fluxLayout is a tenant directory in the shape of fluxcd/flux2-multi-tenancy
// (written by `flux create tenant`, no tenant.yaml).
const fluxLayout = `---
apiVersion: v1
kind: Namespace
metadata:
  labels:
    toolkit.fluxcd.io/tenant: dev-team
  name: apps
---
apiVersion: v1
kind: ServiceAccount
metadata:
  labels:
    toolkit.fluxcd.io/tenant: dev-team
  name: dev-team
  namespace: apps
`

func TestForeignClaims(t *testing.T) {
	fsys := fstest.MapFS{
		"dev-team/base/rbac.yaml":  {Data: []byte(fluxLayout)},
		"dev-team/README.md":       {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: readme}\n")},
		"dev-team/broken.yaml":     {Data: []byte("{{ not yaml")},
		"ours/tenant.yaml":         {Data: []byte("ignored")},
		"ours/namespaces.yaml":     {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {kubectl-gitops.io/tenant: ours}}\n")},
		"other/ns.yml":             {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: shared, labels: {kubectl-gitops.io/tenant: other}}\n")},
		"evil/ns.yaml":             {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: evil, labels: {toolkit.fluxcd.io/tenant: \"\\e[31mred\"}}\n")},
		"kustomization.yaml":       {Data: []byte("resources: [dev-team]\n")},
		"unlabelled/namespace.yml": {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: free}\n")},
	}
	got, err := ForeignClaims(fsys, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	want := []Claim{
		{Namespace: "apps", Tenant: "dev-team", Source: "tenants/dev-team/base/rbac.yaml"},
		{Namespace: "shared", Tenant: "other", Source: "tenants/other/ns.yml"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}

	tn := &Tenant{Name: "team-a", Namespaces: []string{"team-a", "apps"}}
	err = CheckClaims(tn, got)
	if err == nil || !strings.Contains(err.Error(), `namespaces[1]: namespace "apps" already belongs to tenant "dev-team" (tenants/dev-team/base/rbac.yaml)`) {
		t.Errorf("CheckClaims: %v", err)
	}
	if err := CheckClaims(&Tenant{Name: "dev-team", Namespaces: []string{"apps"}}, got); err != nil {
		t.Errorf("the tenant's own claim refused: %v", err)
	}
}

func TestNamespaceOwner(t *testing.T) {
	for _, tt := range []struct {
		labels map[string]string
		want   string
	}{
		{nil, ""},
		{map[string]string{LabelFluxTenant: "f"}, "f"},
		{map[string]string{LabelTenant: "k"}, "k"},
		{map[string]string{LabelTenant: "k", LabelFluxTenant: "f"}, "k"},
	} {
		if got := NamespaceOwner(tt.labels); got != tt.want {
			t.Errorf("NamespaceOwner(%v) = %q, want %q", tt.labels, got, tt.want)
		}
	}
}

func TestForeignTenants(t *testing.T) {
	known := []*Tenant{{Name: "ours"}}
	claims := []Claim{
		{Namespace: "x", Tenant: "ours", Source: "cluster Namespace x"},
		{Namespace: "b2", Tenant: "b", Source: "cluster Namespace b2", Operator: ""},
		{Namespace: "b1", Tenant: "b", Source: "cluster Kustomization b1/b", Operator: OperatorFlux},
		{Namespace: "b1", Tenant: "b", Source: "cluster Kustomization b1/b", Operator: OperatorFlux},
		{Tenant: "b", Source: "cluster AppProject argocd/b", Operator: OperatorArgoCD},
		{Namespace: "a", Tenant: "a", Source: "tenants/a/ns.yaml"},
	}
	want := []ForeignTenant{
		{Name: "a", Namespaces: []string{"a"}, Sources: []string{"tenants/a/ns.yaml"}},
		{Name: "b", Namespaces: []string{"b1", "b2"}, Operator: OperatorBoth,
			Sources: []string{"cluster AppProject argocd/b", "cluster Kustomization b1/b", "cluster Namespace b2"}},
	}
	if diff := cmp.Diff(want, ForeignTenants(known, claims)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
