package tenancy

import (
	"fmt"
	"path"
	"strings"
)

// FileClusterTenants is the file of a cluster directory that reconciles the
// tenants, as in Flux's multi-tenancy reference (clusters/<env>/tenants.yaml).
const FileClusterTenants = "tenants.yaml"

// ClusterTenants renders clusters/<env>/tenants.yaml: the Flux
// Kustomization "tenants" in flux-system that reconciles repoPath (the
// tenants directory, or its environment overlay, relative to the root of
// the repository flux-system syncs), shaped as the reference's: run as
// kustomize-controller (the lockdown's default ServiceAccount can do
// nothing), from the flux-system GitRepository, pruned.
func ClusterTenants(repoPath string) ([]byte, error) {
	p := path.Clean(strings.TrimPrefix(repoPath, "./"))
	if p == "." || strings.HasPrefix(p, "../") || p == ".." || path.IsAbs(p) {
		return nil, fmt.Errorf("tenants path %q is not inside the repository", repoPath)
	}
	body := fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: tenants
  namespace: %s
spec:
  interval: %s
  serviceAccountName: %s
  sourceRef:
    kind: GitRepository
    name: %s
  path: ./%s
  prune: true
`, FluxSystemNamespace, DefaultFluxInterval, FluxKustomizeController, FluxSystemNamespace, p)
	return withHeader([]byte(body)), nil
}
