package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/jsonmergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
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
	own, err := d.owner(ctx, m, o)
	if err != nil {
		return nil, err
	}
	d.warnings.take()
	if own.clientSide {
		err = d.clientSideApply(ctx, m, o, own)
	} else {
		_, err = d.client.Apply(ctx, m, o, cluster.ApplyOptions{FieldManager: own.manager, Force: true, DryRun: true})
	}
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

// Field managers of the GitOps operators, as they apply objects from Git:
// kustomize-controller always server-side with force (fluxcd/pkg/ssa);
// argocd-controller server-side with ServerSideApply=true, otherwise
// client-side (kubectl apply's three-way patch, an Update with the
// last-applied annotation).
var operatorManagers = []string{"kustomize-controller", "argocd-controller"}

// lastApplied is kubectl's client-side apply annotation.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// applier is how an object is dry-run: server-side apply with force as
// manager, or client-side apply (a three-way patch from the last-applied
// configuration) as manager.
type applier struct {
	manager    string
	clientSide bool
	live       *unstructured.Unstructured
}

// owner decides how the operator that applies obj on the cluster would
// apply Git's version of it. An object that does not exist yet, or that no
// operator manages, is applied as the lint's own manager. For one an
// operator manages, using our own manager would be wrong: server-side apply
// keeps the fields the operator owns and Git no longer has (a HelmRelease
// moved from spec.chart to spec.chartRef would hold both and be rejected),
// where the operator's next sync removes them.
func (d *serverDryRunner) owner(ctx context.Context, m *meta.RESTMapping, o *unstructured.Unstructured) (applier, error) {
	self := applier{manager: FieldManager}
	live, err := d.client.Get(ctx, m, o.GetNamespace(), o.GetName())
	switch {
	case apierrors.IsNotFound(err), apierrors.IsForbidden(err):
		// Not there yet, or not readable with these credentials: our own
		// manager is as good as any.
		return self, nil
	case err != nil:
		return self, fmt.Errorf("reading %s/%s: %w", o.GetNamespace(), o.GetName(), err)
	}
	var updaters []string
	for _, mf := range live.GetManagedFields() {
		if mf.Subresource != "" || !slices.Contains(operatorManagers, mf.Manager) {
			continue
		}
		if mf.Operation == metav1.ManagedFieldsOperationApply {
			return applier{manager: mf.Manager, live: live}, nil
		}
		updaters = append(updaters, mf.Manager)
	}
	if len(updaters) > 0 && live.GetAnnotations()[lastApplied] != "" {
		return applier{manager: updaters[0], clientSide: true, live: live}, nil
	}
	return self, nil
}

// clientSideApply dry-runs o as `kubectl apply` (client-side) does, which is
// how Argo CD syncs by default: a three-way patch between the last-applied
// configuration, Git's object (annotated with itself) and the live object —
// strategic merge for built-in kinds, JSON merge for custom resources — so
// that a field Git removed is removed.
func (d *serverDryRunner) clientSideApply(ctx context.Context, m *meta.RESTMapping, o *unstructured.Unstructured, a applier) error {
	modified := o.DeepCopy()
	// kubectl records the configuration without the annotation itself.
	ann := modified.GetAnnotations()
	delete(ann, lastApplied)
	if len(ann) == 0 {
		ann = nil
	}
	modified.SetAnnotations(ann)
	cfg, err := json.Marshal(modified.Object)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", o.GetName(), err)
	}
	if ann == nil {
		ann = map[string]string{}
	}
	ann[lastApplied] = string(cfg) + "\n"
	modified.SetAnnotations(ann)
	mod, err := json.Marshal(modified.Object)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", o.GetName(), err)
	}
	cur, err := json.Marshal(a.live.Object)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", o.GetName(), err)
	}
	original := []byte(a.live.GetAnnotations()[lastApplied])
	var (
		patch []byte
		pt    types.PatchType
	)
	if typed, terr := scheme.Scheme.New(o.GroupVersionKind()); terr == nil {
		meta, merr := strategicpatch.NewPatchMetaFromStruct(typed)
		if merr != nil {
			return fmt.Errorf("patch metadata of %s: %w", o.GroupVersionKind(), merr)
		}
		patch, err = strategicpatch.CreateThreeWayMergePatch(original, mod, cur, meta, true)
		pt = types.StrategicMergePatchType
	} else {
		patch, err = jsonmergepatch.CreateThreeWayJSONMergePatch(original, mod, cur)
		pt = types.MergePatchType
	}
	if err != nil {
		return fmt.Errorf("computing the client-side apply patch of %s: %w", o.GetName(), err)
	}
	_, err = d.client.Patch(ctx, m, o.GetNamespace(), o.GetName(), pt, patch, cluster.PatchOptions{FieldManager: a.manager, DryRun: true})
	return err
}
