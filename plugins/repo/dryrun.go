package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolint"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// warningCollector keeps the API server's warnings of the current request
// (dry runs are sent one at a time).
type warningCollector struct {
	mu   sync.Mutex
	msgs []string
}

func (c *warningCollector) HandleWarningHeader(_ int, _ string, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, text)
}

func (c *warningCollector) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.msgs
	c.msgs = nil
	return out
}

// serverDryRunner implements repolint.DryRunner with pkg/cluster's
// server-side apply, dry run.
type serverDryRunner struct {
	client    *cluster.Client
	namespace string
	warnings  *warningCollector
}

func newServerDryRunner(env *cli.Env) (*serverDryRunner, error) {
	cfg, err := env.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	ns, _, err := env.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return newDryRunner(cfg, ns)
}

func newDryRunner(cfg *rest.Config, namespace string) (*serverDryRunner, error) {
	wc := &warningCollector{}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = wc
	cfg.WarningHandlerWithContext = nil
	c, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}
	if namespace == "" {
		namespace = "default"
	}
	return &serverDryRunner{client: c, namespace: namespace, warnings: wc}, nil
}

// DryRun implements repolint.DryRunner.
func (d *serverDryRunner) DryRun(ctx context.Context, obj *unstructured.Unstructured) ([]string, error) {
	gvk := obj.GroupVersionKind()
	m, err := d.client.Mapping(ctx, gvk)
	if errors.Is(err, cluster.ErrKindNotServed) {
		// repolint may not import pkg/cluster: map its sentinel, keeping
		// cluster's text (which names the versions served).
		sentinel := repolint.ErrKindNotServed
		if cluster.VersionNotServed(err) {
			sentinel = repolint.ErrVersionNotServed
		}
		return nil, &notServedError{sentinel: sentinel, err: err}
	}
	if err != nil {
		return nil, err
	}
	o := obj.DeepCopy()
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if o.GetNamespace() == "" {
			o.SetNamespace(d.namespace)
		}
	} else {
		o.SetNamespace("")
	}
	d.warnings.take()
	_, err = d.client.Apply(ctx, m, o, cluster.ApplyOptions{FieldManager: FieldManager, Force: true, DryRun: true})
	warnings := d.warnings.take()
	if err != nil && apierrors.IsNotFound(err) {
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			if det := status.Status().Details; det != nil && det.Kind == "namespaces" {
				return warnings, fmt.Errorf("%w: %s", repolint.ErrNamespaceNotFound, o.GetNamespace())
			}
		}
	}
	return warnings, err
}

// notServedError is cluster's not-served error as repolint's sentinel.
type notServedError struct{ sentinel, err error }

func (e *notServedError) Error() string   { return e.err.Error() }
func (e *notServedError) Unwrap() []error { return []error{e.sentinel, e.err} }
