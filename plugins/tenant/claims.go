package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// clusterTimeout bounds each request of the ownership look-ups of create
// and list, so that an unreachable cluster in the kubeconfig does not hang
// an offline command.
const clusterTimeout = 15 * time.Second

var gvkNamespace = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}

// liveClient connects to the cluster of the kubeconfig flags; nil, nil
// when no kubeconfig is configured (create and list work offline).
func liveClient(env *cli.Env) (*cluster.Client, error) {
	flags := env.ConfigFlags
	raw, err := flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil || (len(raw.Contexts) == 0 && (flags.APIServer == nil || *flags.APIServer == "")) {
		return nil, nil //nolint:nilerr // no cluster configured: the live look-up is skipped
	}
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, nil //nolint:nilerr // no cluster configured: the live look-up is skipped
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = clusterTimeout
	}
	return cluster.New(cfg)
}

// liveNamespaceClaims returns, for each of namespaces that exists on the
// cluster, the tenant its labels give it to.
func liveNamespaceClaims(ctx context.Context, c *cluster.Client, namespaces []string) ([]tenancy.Claim, error) {
	m, err := c.Mapping(ctx, gvkNamespace)
	if err != nil {
		return nil, fmt.Errorf("reading namespaces: %w", err)
	}
	var claims []tenancy.Claim
	for _, ns := range namespaces {
		o, err := c.Get(ctx, m, "", ns)
		if cluster.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading namespace %s: %w", ns, err)
		}
		if owner := tenancy.NamespaceOwner(o.GetLabels()); owner != "" {
			claims = append(claims, tenancy.Claim{Namespace: ns, Tenant: owner, Source: "cluster Namespace " + ns})
		}
	}
	return claims, nil
}

// dirClaims returns the namespaces claimed by tenant directories of dir
// that this tool did not write.
func dirClaims(dir string) ([]tenancy.Claim, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return tenancy.ForeignClaims(os.DirFS(dir), dir)
}
