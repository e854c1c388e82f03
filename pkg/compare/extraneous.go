package compare

import (
	"context"
	"fmt"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// tracker decides whether a live object belongs to the same GitOps source
// as the desired set.
type tracker struct {
	// mu guards argoApps and fluxPairs while observe learns them; they
	// are read once every live object has been observed.
	mu        sync.Mutex
	argoApps  map[string]bool
	argoLabel string
	// argoPrune is the applications' own Prune sync option ("" if none).
	argoPrune string
	fluxPairs map[string]bool
	// fluxNoPrune holds the fluxPairs whose Kustomization has spec.prune
	// false.
	fluxNoPrune map[string]bool
	// fluxInventory holds the fluxPairs whose Kustomization has a
	// status.inventory, and inventory the objects it lists.
	fluxInventory map[string]bool
	inventory     map[string]bool
	selector      labels.Selector
}

func (t *tracker) empty() bool {
	return len(t.argoApps) == 0 && len(t.fluxPairs) == 0 && t.selector == nil
}

func argoApp(o *unstructured.Unstructured) (string, bool) {
	id, ok := o.GetAnnotations()[ArgoTrackingID]
	if !ok {
		return "", false
	}
	app, rest, ok := strings.Cut(id, ":")
	if !ok {
		return "", false
	}
	// Only a self-referencing id tracks: <app>:<group>/<Kind>:<ns>/<name>.
	gk, nn, ok := strings.Cut(rest, ":")
	if !ok {
		return "", false
	}
	group, kind, _ := strings.Cut(gk, "/")
	ns, name, _ := strings.Cut(nn, "/")
	// Argo CD writes the destination namespace into the ids of
	// cluster-scoped objects, so an object without a namespace matches any.
	if kind != o.GetKind() || name != o.GetName() || (ns != o.GetNamespace() && o.GetNamespace() != "") || group != o.GroupVersionKind().Group {
		return "", false
	}
	return app, true
}

func fluxPair(o *unstructured.Unstructured) (string, bool) {
	l := o.GetLabels()
	name, ok1 := l[FluxNameLabel]
	ns, ok2 := l[FluxNamespaceLabel]
	return ns + "/" + name, ok1 && ok2
}

func (t *tracker) tracks(o *unstructured.Unstructured) bool {
	if app, ok := argoApp(o); ok && t.argoApps[app] {
		return true
	}
	if _, ok := t.argoLabelApp(o); ok {
		return true
	}
	if p, ok := fluxPair(o); ok && t.fluxPairs[p] {
		return true
	}
	return t.selector != nil && t.selector.Matches(labels.Set(o.GetLabels()))
}

// newTracker returns a tracker that knows the prune selector; it learns
// this source's tracking metadata from the live objects of the desired set
// (observe) and from the source (learn).
func newTracker(pruneSelector string) (*tracker, error) {
	t := &tracker{argoApps: map[string]bool{}, fluxPairs: map[string]bool{}, fluxNoPrune: map[string]bool{},
		fluxInventory: map[string]bool{}, inventory: map[string]bool{}}
	if pruneSelector != "" {
		sel, err := labels.Parse(pruneSelector)
		if err != nil {
			return nil, fmt.Errorf("parsing --prune-selector: %w", err)
		}
		t.selector = sel
	}
	return t, nil
}

// observe learns the tracking metadata of l, the live object of a desired
// one. Safe for concurrent use.
func (t *tracker) observe(l *unstructured.Unstructured) {
	app, isApp := argoApp(l)
	pair, isPair := fluxPair(l)
	if !isApp && !isPair {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if isApp {
		t.argoApps[app] = true
	}
	if isPair {
		t.fluxPairs[pair] = true
	}
}

// mayTrack reports whether o carries tracking metadata that t tracks or may
// track once it has observed every live object of the desired set: objects
// without any cannot be extraneous.
func (t *tracker) mayTrack(o *unstructured.Unstructured) bool {
	if _, ok := argoApp(o); ok {
		return true
	}
	if t.argoLabel != "" {
		if _, ok := o.GetLabels()[t.argoLabel]; ok {
			return true
		}
	}
	if _, ok := fluxPair(o); ok {
		return true
	}
	return t.selector != nil && t.selector.Matches(labels.Set(o.GetLabels()))
}

// extraneous lists, for every kind and namespace of the desired set, the
// live objects carrying this source's tracking metadata that Git does not
// declare.
func (e *Engine) extraneous(ctx context.Context, items []*item, t *tracker, listed map[groupKey][]*unstructured.Unstructured, opts Options, rep *Report, sec *secrets) ([]ObjectReport, error) {
	if t.empty() {
		return nil, nil
	}
	groups := map[groupKey]*item{}
	declared := map[string]bool{}
	for _, it := range items {
		if it.mapping == nil {
			continue
		}
		k := groupKey{it.mapping.Resource.GroupResource(), it.namespace}
		if groups[k] == nil {
			groups[k] = it
		}
		declared[k.resource.String()+"|"+k.namespace+"|"+it.name] = true
	}
	var out []ObjectReport
	for k, it := range groups {
		candidates, ok := listed[k]
		if !ok {
			list, err := e.Reader.List(ctx, it.mapping, k.namespace, "")
			if err != nil {
				if isFatal(err) {
					return nil, err
				}
				if apierrors.IsForbidden(err) {
					rep.Warnings = append(rep.Warnings, fmt.Sprintf("forbidden to list %s in %s: extraneous objects there are not detected", k.resource, nsLabel(k.namespace)))
					continue
				}
				return nil, err
			}
			for i := range list {
				candidates = append(candidates, &list[i])
			}
		}
		for _, o := range candidates {
			if declared[k.resource.String()+"|"+k.namespace+"|"+o.GetName()] || !t.tracks(o) || excludedExtraneous(o, opts) || t.argoHook(o) {
				continue
			}
			if p, ok := fluxPair(o); ok && t.fluxPairs[p] {
				reason := fluxKeeps(o)
				switch {
				case t.fluxNoPrune[p]:
					// kustomize-controller's prune returns before
					// looking at any object.
					reason = "spec.prune is false on Flux Kustomization " + p
				case t.notInInventory(o, p):
					// Its prune deletes only the stale entries of
					// the inventory (fluxcd/pkg/ssa DeleteAll).
					reason = "carries the labels of Flux Kustomization " + p + " but its inventory does not list it, so its garbage collection never deletes it"
				}
				if reason != "" {
					out = append(out, keptReport(o, fluxKept(reason)))
					continue
				}
			}
			r := extraneousReport(o, "", sec)
			r.Reason, r.NoPrune, r.PruneConfirm = trackedBy(o, t)
			out = append(out, r)
		}
	}
	return out, nil
}

// fluxKeeps returns why kustomize-controller never deletes o when Git no
// longer declares it, as its garbage collection decides (deleteObjects'
// exclusions, matched by fluxcd/pkg/ssa's AnyInMetadata on labels and
// annotations, case-insensitively): kustomize.toolkit.fluxcd.io/prune:
// disabled or ssa: Ignore; or "".
func fluxKeeps(o *unstructured.Unstructured) string {
	is := func(key, value string) bool {
		return strings.EqualFold(o.GetLabels()[key], value) || strings.EqualFold(o.GetAnnotations()[key], value)
	}
	switch {
	case is(FluxPrune, "disabled"):
		return FluxPrune + ": disabled"
	case is(FluxSSA, "ignore"):
		return FluxSSA + ": Ignore"
	}
	return ""
}

// fluxKept is the reason of an object Flux leaves in the cluster on
// purpose, for why.
func fluxKept(why string) string {
	return why + ": not in Git, and Flux does not delete it"
}

// keptReport reports o, which Git no longer declares and that the
// operator leaves in the cluster on purpose, as skipped, for reason: not
// drift, as the operator's own view (the Kustomization or HelmRelease
// stays Ready, flux diff shows nothing once it has left the inventory).
func keptReport(o *unstructured.Unstructured, reason string) ObjectReport {
	return ObjectReport{
		APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(),
		Status: StatusSkipped, Reason: reason,
	}
}

// ArgoPruneOption returns the value of the first "Prune=" item of Argo CD
// sync options, as Argo CD's SyncOptions.GetOptionValue reads an
// application's spec.syncPolicy.syncOptions (items as they are) and
// gitops-engine's GetAnnotationOptionValue an object's
// argocd.argoproj.io/sync-options (argoPruneOption: items trimmed).
func ArgoPruneOption(options []string) (string, bool) {
	for _, opt := range options {
		if v, ok := strings.CutPrefix(opt, "Prune="); ok {
			return v, true
		}
	}
	return "", false
}

// argoPruneOption returns the value of the first "Prune=" option of o's
// argocd.argoproj.io/sync-options, its comma-separated items trimmed.
func argoPruneOption(o *unstructured.Unstructured) (string, bool) {
	items := strings.Split(o.GetAnnotations()[ArgoSyncOptions], ",")
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	return ArgoPruneOption(items)
}

// argoPruneRule returns the Prune sync option that decides how Argo CD's
// sync prunes o, as gitops-engine's isPruningDisabled and
// objRequiresPruneConfirmation read it: the object's own Prune option,
// else the application's (spec.syncPolicy.syncOptions); with where it
// comes from, for reasons ("" when neither has one).
func argoPruneRule(o *unstructured.Unstructured, appDefault string) (value, where string) {
	if v, ok := argoPruneOption(o); ok {
		return v, ArgoSyncOptions + ": Prune=" + v
	}
	if appDefault != "" {
		return appDefault, "the application's spec.syncPolicy.syncOptions: Prune=" + appDefault
	}
	return "", ""
}

// excludedExtraneous reports whether a live object Git does not declare is
// not to be reported: annotated to be ignored, not reconciled, or outside
// --selector.
func excludedExtraneous(o *unstructured.Unstructured, opts Options) bool {
	return strings.Contains(o.GetAnnotations()[ArgoCompareOptions], "IgnoreExtraneous") || reconcileDisabled(o) ||
		opts.Selector != nil && !opts.Selector.Matches(labels.Set(o.GetLabels()))
}

// argoHook reports whether o is a resource hook Argo CD created for one of
// the tracked applications: Argo CD leaves hooks out of its comparison, so
// a Job a PreSync hook left behind is not extraneous.
func (t *tracker) argoHook(o *unstructured.Unstructured) bool {
	if hook, _ := ArgoHookOf(o); !hook {
		return false
	}
	if app, ok := argoApp(o); ok && t.argoApps[app] {
		return true
	}
	_, ok := t.argoLabelApp(o)
	return ok
}

// extraneousReport reports o as extraneous, for reason.
func extraneousReport(o *unstructured.Unstructured, reason string, sec *secrets) ObjectReport {
	sec.add(o.Object)
	return ObjectReport{
		APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(),
		Status: StatusExtraneous, Reason: reason, Live: normalize(o.Object),
	}
}

// trackedBy returns why o is extraneous, why the operator's sync never
// deletes it, and why it deletes it only once a person confirms ("" when
// it simply deletes it).
func trackedBy(o *unstructured.Unstructured, t *tracker) (reason, noPrune, confirm string) {
	// argoWith: what Argo CD's sync does with o, given its application's
	// Prune option (appDefault).
	argoWith := func(reason, appDefault string) (string, string, string) {
		switch value, where := argoPruneRule(o, appDefault); value {
		case "false":
			return reason + " (" + where + ": Argo CD shows it OutOfSync but its sync does not delete it)", where, ""
		case "confirm":
			// The sync waits until a person confirms the pruning
			// (the application's deletion-approved annotation).
			return reason + " (" + where + ": Argo CD shows it OutOfSync and deletes it only once a person confirms the pruning)", "", where
		}
		return reason, "", ""
	}
	argo := func(reason string) (string, string, string) { return argoWith(reason, t.argoPrune) }
	if app, ok := argoApp(o); ok && t.argoApps[app] {
		return argo("tracked by Argo CD application " + app + ", not in Git")
	}
	if app, ok := t.argoLabelApp(o); ok {
		return argo("labelled as Argo CD application " + app + ", not in Git")
	}
	if p, ok := fluxPair(o); ok && t.fluxPairs[p] {
		return "tracked by Flux Kustomization " + p + ", not in Git", "", ""
	}
	if t.otherArgoApp(o) {
		// Another application's object (its tracking id, or the
		// instance label naming an application not compared): its own
		// Prune option still says what its sync deletes. The compared
		// application's syncOptions are not its application's.
		return argoWith("matches --prune-selector, not in Git", "")
	}
	return "matches --prune-selector, not in Git", "", ""
}
