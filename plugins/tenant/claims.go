package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

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

var (
	gvkFluxKustomization = schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}
	gvkAppProject        = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "AppProject"}
)

// liveTenantClaims lists what the cluster says about tenants: Namespaces
// labelled with either tenant label, Flux Kustomizations labelled with
// Flux's (what `flux create tenant` and its reference layout set), and
// labelled Argo CD AppProjects with their destination namespaces. A kind
// the cluster does not serve (no Flux, no Argo CD) is skipped.
func liveTenantClaims(ctx context.Context, c *cluster.Client) ([]tenancy.Claim, error) {
	var claims []tenancy.Claim
	list := func(gvk schema.GroupVersionKind, label string, each func(o *unstructured.Unstructured, owner string)) error {
		m, err := c.Mapping(ctx, gvk)
		if errors.Is(err, cluster.ErrKindNotServed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		items, err := c.List(ctx, m, "", label)
		if err != nil {
			return fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		for i := range items {
			if owner := tenancy.NamespaceOwner(items[i].GetLabels()); owner != "" {
				each(&items[i], owner)
			}
		}
		return nil
	}
	for _, label := range []string{tenancy.LabelTenant, tenancy.LabelFluxTenant} {
		err := list(gvkNamespace, label, func(o *unstructured.Unstructured, owner string) {
			claims = append(claims, tenancy.Claim{Namespace: o.GetName(), Tenant: owner, Source: "cluster Namespace " + o.GetName()})
		})
		if err != nil {
			return nil, err
		}
	}
	err := list(gvkFluxKustomization, tenancy.LabelFluxTenant, func(o *unstructured.Unstructured, owner string) {
		claims = append(claims, tenancy.Claim{Namespace: o.GetNamespace(), Tenant: owner, Operator: tenancy.OperatorFlux,
			Source: fmt.Sprintf("cluster Kustomization %s/%s", o.GetNamespace(), o.GetName())})
	})
	if err != nil {
		return nil, err
	}
	for _, label := range []string{tenancy.LabelTenant, tenancy.LabelFluxTenant} {
		err := list(gvkAppProject, label, func(o *unstructured.Unstructured, owner string) {
			src := fmt.Sprintf("cluster AppProject %s/%s", o.GetNamespace(), o.GetName())
			claims = append(claims, tenancy.Claim{Tenant: owner, Operator: tenancy.OperatorArgoCD, Source: src})
			dests, _, _ := unstructured.NestedSlice(o.Object, "spec", "destinations")
			for _, d := range dests {
				dm, _ := d.(map[string]any)
				ns, _ := dm["namespace"].(string)
				if len(validation.IsDNS1123Label(ns)) == 0 { // no globs, nothing unprintable
					claims = append(claims, tenancy.Claim{Namespace: ns, Tenant: owner, Operator: tenancy.OperatorArgoCD, Source: src})
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return claims, nil
}
