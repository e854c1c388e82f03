package tenancy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// clusters/staging/tenants.yaml of fluxcd/flux2-multi-tenancy (commit
// 192da0594c0c06a38a232050b05fdb6e000d6eb8) without its dependsOn on the
// reference's own kyverno-policies.
const referenceClusterTenants = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: tenants
  namespace: flux-system
spec:
  interval: 5m
  serviceAccountName: kustomize-controller
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./tenants/staging
  prune: true
`

func TestClusterTenantsIsTheReferences(t *testing.T) {
	got, err := ClusterTenants("tenants/staging")
	if err != nil {
		t.Fatal(err)
	}
	if CheckFile(got) != Pristine {
		t.Errorf("no generated header:\n%s", got)
	}
	var want, have map[string]any
	if err := yaml.Unmarshal([]byte(referenceClusterTenants), &want); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(got, &have); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("differs from the reference (-reference +ours):\n%s", diff)
	}
	for _, bad := range []string{"", ".", "../tenants", "/abs"} {
		if _, err := ClusterTenants(bad); err == nil {
			t.Errorf("ClusterTenants(%q) accepted", bad)
		}
	}
}
