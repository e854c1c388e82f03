package compare

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

// Annotations and labels the engine honours.
const (
	ArgoTrackingID      = "argocd.argoproj.io/tracking-id"
	ArgoCompareOptions  = "argocd.argoproj.io/compare-options"
	FluxNameLabel       = "kustomize.toolkit.fluxcd.io/name"
	FluxNamespaceLabel  = "kustomize.toolkit.fluxcd.io/namespace"
	FluxReconcile       = "kustomize.toolkit.fluxcd.io/reconcile"
	FluxSSA             = "kustomize.toolkit.fluxcd.io/ssa"
	FluxPrune           = "kustomize.toolkit.fluxcd.io/prune"
	ArgoSyncOptions     = "argocd.argoproj.io/sync-options"
	HelmFluxNameLabel   = "helm.toolkit.fluxcd.io/name"
	HelmResourcePolicy  = "helm.sh/resource-policy"
	DefaultFieldManager = "kubectl-gitops"
)

// agentManager guesses the GitOps agent's field manager from tracking
// metadata.
func agentManager(objs ...*unstructured.Unstructured) string {
	for _, o := range objs {
		if o == nil {
			continue
		}
		if _, ok := metadataLookup(o, "annotations", ArgoTrackingID); ok {
			return "argocd-controller"
		}
		if _, ok := metadataLookup(o, "labels", FluxNameLabel); ok {
			return "kustomize-controller"
		}
		if _, ok := metadataLookup(o, "labels", HelmFluxNameLabel); ok {
			return "helm-controller"
		}
	}
	return ""
}

func reconcileDisabled(o *unstructured.Unstructured) bool {
	return o != nil && strings.EqualFold(metadataValue(o, "annotations", FluxReconcile), "disabled")
}

// fluxSkip returns why kustomize-controller leaves the object alone, as its
// diff does (fluxcd/pkg/ssa, shouldSkipDiff), or "": reconcile: disabled
// or ssa: Ignore on either side, as a label or an annotation; ssa:
// IfNotPresent on the desired object once the object exists.
func fluxSkip(desired, live *unstructured.Unstructured) string {
	is := func(o *unstructured.Unstructured, key, value string) bool {
		return o != nil && (strings.EqualFold(metadataValue(o, "annotations", key), value) || strings.EqualFold(metadataValue(o, "labels", key), value))
	}
	for _, o := range []*unstructured.Unstructured{desired, live} {
		if is(o, FluxReconcile, "disabled") {
			return FluxReconcile + ": disabled"
		}
		if is(o, FluxSSA, "ignore") {
			return FluxSSA + ": Ignore"
		}
	}
	if live != nil && is(desired, FluxSSA, "ifnotpresent") {
		return FluxSSA + ": IfNotPresent, and it exists"
	}
	return ""
}

// metadataValue is o.GetLabels()[key] (field "labels") or
// o.GetAnnotations()[key] ("annotations"), without copying the map: ""
// also when the map holds a value that is not a string (null aside), as
// then Get… return no map. Called for every object compared, twice for
// each one hybrid mode's server pass compares.
func metadataValue(o *unstructured.Unstructured, field, key string) string {
	v, _ := metadataLookup(o, field, key)
	return v
}

// metadataLookup is metadataValue, and whether key is there (what
// `_, ok := o.GetLabels()[key]` says).
func metadataLookup(o *unstructured.Unstructured, field, key string) (string, bool) {
	md, _ := o.Object["metadata"].(map[string]any)
	m, _ := md[field].(map[string]any)
	if _, ok := m[key]; !ok {
		return "", false
	}
	for _, v := range m {
		if _, ok := v.(string); !ok && v != nil {
			return "", false
		}
	}
	v, _ := m[key].(string)
	return v, true
}

// compareOne fills it.report. In local mode, schemas (nil: none) check
// desired first, as the server would when applying it.
func (e *Engine) compareOne(ctx context.Context, it *item, live *unstructured.Unstructured, opts Options, sec *secrets, schemas *validator) {
	r := it.report
	desired := it.desired
	if reason := fluxSkip(desired, live); reason != "" {
		r.Status, r.Reason = StatusSkipped, reason
		return
	}
	if it.ifNotPresent != "" && live != nil {
		r.Status, r.Reason = StatusSkipped, it.ifNotPresent
		return
	}
	if reason := schemas.check(ctx, desired.Object, desired.GroupVersionKind()); reason != "" {
		r.Status, r.Reason = StatusError, reason
		return
	}
	sec.add(desired.Object)
	if live != nil {
		sec.add(live.Object)
	}

	manager := opts.FieldManager
	var own *objdiff.Ownership
	if live != nil {
		var err error
		if own, err = objdiff.NewOwnership(live.Object); err != nil {
			r.Status, r.Reason = StatusError, "reading managedFields: "+err.Error()
			return
		}
		if manager == "" {
			manager = own.Applier()
		}
	}
	if manager == "" {
		manager = agentManager(desired, live)
	}
	if manager == "" {
		manager = DefaultFieldManager
	}
	r.FieldManager = manager
	if live != nil {
		own.ClassifyAgents(manager)
		// The operator's own tracking labels and annotations are what
		// applying Git through it writes, not drift.
		r.OperatorLabels, r.OperatorAnnotations = operatorMetadata(desired, live, own, opts.FieldManager)
		desired = r.WithOperatorMetadata(desired)
	}

	desiredN := normalizeDesired(desired.Object)
	var after map[string]any
	var serverErr error
	if opts.Mode == ModeServer {
		merged, err := e.Applier.Apply(ctx, it.mapping, desired, cluster.ApplyOptions{FieldManager: manager, Force: true, DryRun: true, OmitManagedFields: true})
		switch {
		case err == nil:
			sec.add(merged.Object)
			after = normalize(merged.Object)
		case live == nil && apierrors.IsNotFound(err):
			r.Reason = fmt.Sprintf("namespace %q does not exist", desired.GetNamespace())
		case live == nil && apierrors.IsForbidden(err):
			// The object is missing either way (it was read as absent);
			// the dry-run of a creation needs the create verb, which
			// read-mostly RBAC lacks: show Git's object as it is.
			r.Reason = "not dry-run: creating it is forbidden for this user"
		case live != nil && apierrors.IsInvalid(err):
			// Typically an immutable field: report the drift field by field
			// from a local comparison, and say why the server refused.
			serverErr = err
		default:
			r.Status, r.Reason = StatusError, "server-side apply dry-run: "+err.Error()
			return
		}
	}
	if live == nil {
		r.Status = StatusMissing
		if after == nil {
			after = desiredN
		}
		r.After = after
		r.Changes = nil
		return
	}

	liveN := normalize(live.Object)
	created := live.GetCreationTimestamp().Time
	creatorKnown := slices.ContainsFunc(own.Entries(), func(o objdiff.Owner) bool { return createdBy(o, created) })

	var changes, orders []objdiff.Change
	if after != nil {
		changes, orders = splitOrders(objdiff.Full(liveN, after))
	} else {
		changes, orders = splitOrders(objdiff.Subset(desiredN, liveN))
		changes = mergeAtomic(changes, objdiff.AtomicLists(desiredN, liveN, own))
		// Fields the agent applied before and Git no longer sets. Only Apply
		// entries: an Update entry also owns the defaults of what it wrote.
		changes = mergeChanges(changes, objdiff.Foreign(desiredN, liveN, own, func(o objdiff.Owner) bool {
			return o.Class == objdiff.ClassAgent && o.Operation == "Apply"
		}))
		if serverErr != nil {
			r.Reason = "the server refuses to apply Git's state (" + serverErr.Error() + "); fields compared locally"
		}
	}
	// Fields people and unknown tools added, which apply keeps.
	foreign := objdiff.Foreign(desiredN, liveN, own, func(o objdiff.Owner) bool {
		return (o.Class == objdiff.ClassHuman || o.Class == objdiff.ClassUnknown) && (creatorKnown || !isCreator(o, created))
	})
	changes = mergeChanges(changes, foreign)
	// Fields an agent applying client-side applied before and Git no longer
	// sets: its next apply deletes them (the three-way merge). They belong
	// to an Update entry, so neither the dry-run nor Foreign sees them.
	var removed []objdiff.Change
	if la := lastApplied(live, own, manager); la != nil {
		removed = objdiff.Removed(la, desiredN, liveN)
		changes = mergeChanges(changes, removed)
	}
	if opts.Mode == ModeServer && len(orders) > 0 {
		orders = gitOrders(orders, desiredN, liveN)
	}
	// Order changes name a list, not its items: merged last so that they
	// do not hide the changes of items below them (a change of a whole
	// list hides them).
	changes = mergeChanges(changes, orders)
	noteOperatorKeys(changes)
	for i := range changes {
		switch c := &changes[i]; {
		case c.Owners != nil || c.Type == objdiff.Missing:
		case c.Type == objdiff.Reordered && c.Key != "":
			// Who ordered the items that differ, not who added others
			// around them.
			keys, _ := c.Live.([]any)
			c.Owners = own.ItemOwners(liveN, c.Path, c.Key, keys)
		default:
			c.Owners = own.Owners(c.Path)
		}
	}

	rules := matchRules(opts.Ignore, it.desired, live)
	if opts.exact != nil {
		it.ignoredChanges = len(changes) > 0
		if len(changes) == 0 {
			it.exactReason = opts.exact(ctx, it, desiredN, liveN)
		}
	}
	var err error
	changes, err = applyIgnore(ctx, rules, changes, liveN, own)
	if err != nil {
		r.Status, r.Reason = StatusError, "applying ignore rules: "+err.Error()
		return
	}

	shared := false
	if after == nil && len(changes) == 0 {
		// Nothing to apply: after is live (unchanged objects are most of
		// a comparison, and their After is dropped).
		after, shared = liveN, true
	} else if after == nil {
		after = runtime.DeepCopyJSON(liveN)
		var extras []objpath.Path
		var reorders []reorder
		for _, c := range changes {
			switch c.Type {
			case objdiff.Extra:
				extras = append(extras, c.Path)
			case objdiff.Reordered:
				// The list's parent map stays the same object through the
				// deletions, which change indices: found before them.
				if parent, ok := objpath.Get(after, c.Path[:len(c.Path)-1]); ok {
					if m, ok := parent.(map[string]any); ok {
						if k, ok := c.Path[len(c.Path)-1].(string); ok {
							reorders = append(reorders, reorder{m, k, c.Desired})
						}
					}
				}
			default:
				objpath.Set(after, c.Path, runtime.DeepCopyJSONValue(c.Desired))
			}
		}
		deleteAll(after, extras)
		for _, r := range reorders {
			if l, ok := r.parent[r.key].([]any); ok {
				order, _ := r.order.([]any)
				r.parent[r.key] = objdiff.Reorder(l, order)
			}
		}
	} else if len(changes) > 0 {
		// Changes may hold parts of after: delete from a copy. Without
		// changes nothing is deleted, and after is the dry-run's own.
		dryRun := after
		after = runtime.DeepCopyJSON(after)
		var extras []objpath.Path
		for _, c := range append(foreign, removed...) {
			if !kept(changes, c.Path) {
				continue
			}
			// Paths are live's: the dry-run may hold list items in
			// another order (Git's).
			if p, ok := objdiff.PathIn(liveN, dryRun, c.Path); ok {
				extras = append(extras, p)
			}
		}
		deleteAll(after, extras)
	}
	strip := []map[string]any{liveN, after}
	if shared {
		strip = strip[:1] // one map: a jq rule is not idempotent
	}
	if err := stripIgnored(ctx, rules, strip...); err != nil {
		r.Status, r.Reason = StatusError, "applying ignore rules: "+err.Error()
		return
	}
	r.Live, r.After, r.Changes = liveN, after, changes
	if len(changes) > 0 {
		r.Status = StatusModified
	} else {
		r.Status = StatusUnchanged
	}
}

// reorder is a list of after to put in Git's order: parent[key].
type reorder struct {
	parent map[string]any
	key    string
	order  any
}

// gitOrders describes the order changes the dry-run shows with the items
// Git sets, as local mode does: the dry-run's lists also hold the items
// other managers added, which are not Git's to order. A list whose Git
// items keep their live order keeps the dry-run's description.
func gitOrders(orders []objdiff.Change, desired, live map[string]any) []objdiff.Change {
	_, local := splitOrders(objdiff.Subset(desired, live))
	out := make([]objdiff.Change, 0, len(orders))
	for _, c := range orders {
		for _, l := range local {
			if l.Path.Equal(c.Path) {
				c.Live, c.Desired = l.Live, l.Desired
			}
		}
		out = append(out, c)
	}
	return out
}

// splitOrders separates the Reordered changes from the others.
func splitOrders(changes []objdiff.Change) (rest, orders []objdiff.Change) {
	rest = changes[:0:0]
	for _, c := range changes {
		if c.Type == objdiff.Reordered {
			orders = append(orders, c)
			continue
		}
		rest = append(rest, c)
	}
	return rest, orders
}

// isCreator reports whether o may be the Update that created the object
// (managedFields times have one-second resolution): such an entry owns every
// server default of what it wrote, so its fields cannot be told apart from
// defaults and are not reported as added by another manager. Only when no
// entry is known to be the creator (createdBy): an object has one creator,
// and a person's change landing in its creation second is still drift.
func isCreator(o objdiff.Owner, created time.Time) bool {
	return o.Operation == "Update" && o.Subresource == "" && o.Time != nil && !created.IsZero() &&
		o.Time.Unix() == created.Unix()
}

// createdBy reports whether o, dating from the object's creation second, is
// taken for its creator over any Update of people or unknown tools of that
// second: an Apply (the object was created by apply), or an Update of the
// GitOps agent (which creates its objects; people change them after).
func createdBy(o objdiff.Owner, created time.Time) bool {
	if o.Subresource != "" || o.Time == nil || created.IsZero() || o.Time.Unix() != created.Unix() {
		return false
	}
	return o.Operation == "Apply" || o.Operation == "Update" && o.Class == objdiff.ClassAgent
}

// deleteAll deletes paths from obj, later list items first so that earlier
// indices stay valid.
func deleteAll(obj map[string]any, paths []objpath.Path) {
	sort.Slice(paths, func(i, j int) bool { return objpath.Compare(paths[i], paths[j]) > 0 })
	for _, p := range paths {
		objpath.Delete(obj, p)
	}
}

func kept(changes []objdiff.Change, p objpath.Path) bool {
	for _, c := range changes {
		if c.Path.Equal(p) {
			return true
		}
	}
	return false
}

// mergeAtomic adds whole-list changes, replacing the item-level changes
// under them.
func mergeAtomic(base, lists []objdiff.Change) []objdiff.Change {
	if len(lists) == 0 {
		return base
	}
	out := base[:0:0]
next:
	for _, b := range base {
		for _, l := range lists {
			if b.Path.HasPrefix(l.Path) {
				continue next
			}
		}
		out = append(out, b)
	}
	out = append(out, lists...)
	objdiff.SortChanges(out)
	return out
}

// mergeChanges adds the changes of extra whose path no change of base
// covers (is equal to, or a prefix of).
func mergeChanges(base, extra []objdiff.Change) []objdiff.Change {
	out := base
outer:
	for _, x := range extra {
		for _, b := range base {
			if x.Path.HasPrefix(b.Path) {
				continue outer
			}
		}
		out = append(out, x)
	}
	objdiff.SortChanges(out)
	return out
}

// serverFields are set by the API server, never by Git.
var serverFields = []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"}

// normalize returns a copy of obj without status and server-maintained
// metadata. What it drops is not copied (managedFields are often most of
// an object).
func normalize(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k == "status" {
			continue
		}
		if md, ok := v.(map[string]any); ok && k == "metadata" {
			out[k] = normalizeMetadata(md)
			continue
		}
		out[k] = runtime.DeepCopyJSONValue(v)
	}
	return out
}

// normalizeMetadata copies md without serverFields and empty annotations
// and labels.
func normalizeMetadata(md map[string]any) map[string]any {
	out := make(map[string]any, len(md))
next:
	for k, v := range md {
		for _, f := range serverFields {
			if k == f {
				continue next
			}
		}
		if m, ok := v.(map[string]any); ok && len(m) == 0 && (k == "annotations" || k == "labels") {
			continue
		}
		out[k] = runtime.DeepCopyJSONValue(v)
	}
	return out
}

// normalizeDesired also folds a Secret's stringData into data, as the API
// server does on write.
func normalizeDesired(obj map[string]any) map[string]any {
	out := normalize(obj)
	if out["kind"] == "Secret" && out["apiVersion"] == "v1" {
		if sd, ok := out["stringData"].(map[string]any); ok {
			data, _ := out["data"].(map[string]any)
			if data == nil {
				data = map[string]any{}
			}
			for k, v := range sd {
				if s, ok := v.(string); ok {
					data[k] = base64Encode(s)
				}
			}
			out["data"] = data
			delete(out, "stringData")
		}
	}
	return out
}
