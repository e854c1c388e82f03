package compare

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
)

// ObjectRef names one object in the cluster.
type ObjectRef struct {
	Group, Version, Kind string
	Namespace, Name      string
}

// String returns "group/Kind namespace/name" ("Kind name" for the core
// group and cluster-scoped objects).
func (r ObjectRef) String() string {
	s := r.Kind
	if r.Group != "" {
		s = r.Group + "/" + r.Kind
	}
	if r.Namespace != "" {
		return s + " " + r.Namespace + "/" + r.Name
	}
	return s + " " + r.Name
}

// Tracking names the GitOps source the desired objects belong to, so that
// extraneous objects are found even when no declared object carries the
// source's tracking metadata (all of them deleted from Git or from the
// cluster). It adds to what the engine learns from the live objects.
type Tracking struct {
	// ArgoApps are Argo CD application instance names ("<app>", or
	// "<namespace>_<app>" for an application outside Argo CD's namespace):
	// live objects whose self-referencing tracking id names one are this
	// source's.
	ArgoApps []string
	// ArgoInstanceLabel, when set, is the label Argo CD's "label" tracking
	// method writes (app.kubernetes.io/instance by default): live objects
	// whose label value is one of ArgoApps are this source's too.
	ArgoInstanceLabel string
	// FluxKustomizations are "<namespace>/<name>" of Flux Kustomizations:
	// live objects with their kustomize.toolkit.fluxcd.io name and
	// namespace labels are this source's.
	FluxKustomizations []string
	// Inventory lists the objects the source applied (a Flux
	// Kustomization's status.inventory): those Git does not declare any more
	// are extraneous when they still exist, whatever their kind and
	// namespace.
	Inventory []ObjectRef
	// InventoryOwner names the inventory's owner in reasons, e.g. "Flux
	// Kustomization flux-system/apps".
	InventoryOwner string
	// FluxNoPrune: the FluxKustomizations' spec.prune is false, so
	// kustomize-controller deletes nothing Git no longer declares: their
	// objects are skipped, not extraneous.
	FluxNoPrune bool
	// FluxInventory: the FluxKustomizations have a status.inventory
	// (Inventory, which may be empty). kustomize-controller's garbage
	// collection deletes only what it lists, so a live object carrying
	// their labels that Git does not declare and Inventory does not list
	// is skipped, not extraneous. Without it (no inventory yet, -k/-f
	// runs) the labels alone decide.
	FluxInventory bool
	// HelmRelease: Inventory is a Helm release's last manifest, so an
	// object annotated helm.sh/resource-policy: keep is skipped, as Helm's
	// upgrade leaves it.
	HelmRelease bool
	// ArgoPrune is the value of the Argo CD application's own Prune sync
	// option ("false", "confirm"…; "" when none): the default of objects
	// without one in argocd.argoproj.io/sync-options.
	ArgoPrune string
}

// learn adds the source's own tracking metadata to t.
func (t *tracker) learn(tr Tracking) {
	for _, app := range tr.ArgoApps {
		t.argoApps[app] = true
	}
	for _, p := range tr.FluxKustomizations {
		t.fluxPairs[p] = true
		if tr.FluxNoPrune {
			t.fluxNoPrune[p] = true
		}
		if tr.FluxInventory {
			t.fluxInventory[p] = true
		}
	}
	if tr.FluxInventory {
		for _, r := range tr.Inventory {
			t.inventory[inventoryKey(r.Group, r.Kind, r.Namespace, r.Name)] = true
		}
	}
	t.argoLabel = tr.ArgoInstanceLabel
	t.argoPrune = tr.ArgoPrune
}

// inventoryKey identifies an object of an inventory, whatever its version.
func inventoryKey(group, kind, namespace, name string) string {
	return group + "|" + kind + "|" + namespace + "|" + name
}

// notInInventory reports whether o carries the labels of p, a Flux
// Kustomization with an inventory, and that inventory does not list it:
// kustomize-controller's garbage collection never sees it.
func (t *tracker) notInInventory(o *unstructured.Unstructured, p string) bool {
	return t.fluxInventory[p] && !t.inventory[inventoryKey(o.GroupVersionKind().Group, o.GetKind(), o.GetNamespace(), o.GetName())]
}

// argoLabelApp returns the application named by the instance label, when
// label tracking is in use and names one of this source's applications.
func (t *tracker) argoLabelApp(o *unstructured.Unstructured) (string, bool) {
	if t.argoLabel == "" {
		return "", false
	}
	app, ok := o.GetLabels()[t.argoLabel]
	return app, ok && t.argoApps[app]
}

// otherArgoApp reports whether o is tracked by an Argo CD application this
// run does not compare: a self-referencing tracking id, or the instance
// label of label tracking.
func (t *tracker) otherArgoApp(o *unstructured.Unstructured) bool {
	if _, ok := argoApp(o); ok {
		return true
	}
	if t.argoLabel == "" {
		return false
	}
	_, ok := o.GetLabels()[t.argoLabel]
	return ok
}

// inventoryExtraneous reports the inventory's objects that Git does not
// declare and that still exist, except those already reported (found).
func (e *Engine) inventoryExtraneous(ctx context.Context, items []*item, found []ObjectReport, opts Options, rep *Report, sec *secrets) ([]ObjectReport, error) {
	inv := opts.Tracking.Inventory
	if len(inv) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, it := range items {
		seen[inventoryKey(it.gvk.Group, it.gvk.Kind, it.namespace, it.name)] = true
	}
	for i := range found {
		o := &found[i]
		seen[inventoryKey(groupOf(o.APIVersion), o.Kind, o.Namespace, o.Name)] = true
	}
	owner := opts.Tracking.InventoryOwner
	if owner == "" {
		owner = "the source"
	}
	var out []ObjectReport
	for _, ref := range inv {
		k := inventoryKey(ref.Group, ref.Kind, ref.Namespace, ref.Name)
		if seen[k] {
			continue
		}
		seen[k] = true
		m, err := e.Reader.Mapping(ctx, schema.GroupVersionKind{Group: ref.Group, Version: ref.Version, Kind: ref.Kind})
		if err != nil {
			if errors.Is(err, cluster.ErrKindNotServed) {
				continue // nothing of that kind can exist any more
			}
			return nil, err
		}
		obj, err := e.Reader.Get(ctx, m, ref.Namespace, ref.Name)
		switch {
		case err == nil:
		case apierrors.IsNotFound(err):
			continue
		case isFatal(err):
			return nil, err
		case apierrors.IsForbidden(err):
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("forbidden to read %s of the inventory of %s: not checked for being extraneous", ref, owner))
			continue
		default:
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("reading %s of the inventory of %s: %v", ref, owner, err))
			continue
		}
		if excludedExtraneous(obj, opts) {
			continue
		}
		if reason := inventoryKeeps(obj, opts.Tracking); reason != "" {
			out = append(out, keptReport(obj, reason))
			continue
		}
		out = append(out, extraneousReport(obj, "in the inventory of "+owner+", not in Git", sec))
	}
	return out, nil
}

// inventoryKeeps returns why the inventory's owner never deletes o, an
// object of its inventory that Git no longer declares; or "". For a Flux
// Kustomization, as kustomize-controller's garbage collection decides
// (its prune, then fluxcd/pkg/ssa's Delete): nothing with spec.prune
// false; an object whose kustomize.toolkit.fluxcd.io/name and namespace
// labels do not name the Kustomization (a person removed or changed them)
// is skipped; then the prune: disabled exclusions (fluxKeeps). For a Helm
// release, as Helm's upgrade decides (kube.Client.Update): an object
// whose live annotation helm.sh/resource-policy is exactly "keep".
func inventoryKeeps(o *unstructured.Unstructured, tr Tracking) string {
	if tr.HelmRelease && o.GetAnnotations()[HelmResourcePolicy] == "keep" {
		return HelmResourcePolicy + ": keep: no longer in the chart, and Helm does not delete it"
	}
	if len(tr.FluxKustomizations) == 0 {
		return ""
	}
	owner := strings.Join(tr.FluxKustomizations, ", ")
	if tr.FluxNoPrune {
		return fluxKept("spec.prune is false on Flux Kustomization " + owner)
	}
	if p, ok := fluxPair(o); !ok || !slices.Contains(tr.FluxKustomizations, p) {
		return fluxKept("in the inventory of Flux Kustomization " + owner + ", but its " + FluxNameLabel + " and " + FluxNamespaceLabel +
			" labels do not name it (removed or changed), so its garbage collection skips it")
	}
	if reason := fluxKeeps(o); reason != "" {
		return fluxKept(reason)
	}
	return ""
}
