package compare

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// Hybrid mode compares every object locally first, then asks the server (a
// server-side apply dry-run, exactly as server mode does) about every object
// the local pass did not find unchanged, and about every unchanged one whose
// local result the server's could differ from. Only an object the local pass
// finds unchanged, for none of the reasons below, keeps its local result:
// then applying Git changes nothing, and server mode reports it unchanged
// too, with the same field manager and operator metadata.
//
// The reasons an unchanged object still takes the server path (hybrid
// mode's undecidable cases):
const (
	// The local pass found drift, a missing object or an error (the server
	// describes drift with its own defaults and merge, and refuses what it
	// refuses in its own words).
	hybridFlagged = "the local pass found drift or an error"
	// The live object carries kubectl's last-applied annotation: applying
	// server-side rewrites it, and fields a client-side applier set and Git
	// stopped setting are the server's to judge.
	hybridClientSideApplied = "client-side applied (last-applied annotation)"
	// A mutating or validating admission webhook, or an admission policy,
	// matches updates of the kind: it may change or refuse the apply.
	hybridAdmission = "an admission webhook or policy matches the kind"
	// The admission configuration could not be read: any kind may have a
	// webhook.
	hybridAdmissionUnknown = "the admission webhooks and policies could not be read"
	// Pods: built-in admission plugins mutate them.
	hybridPod = "built-in admission mutates Pods"
	// The server publishes no OpenAPI schema of the kind, so how it merges
	// lists and maps is not known.
	hybridNoSchema = "no OpenAPI schema of the kind"
	// A value Git sets equals the live one only after normalisation: a
	// number of another type (1 and 1.0), a quantity or int-or-string
	// written differently ("1000m" and "1"), a null, an empty object or
	// list the object lacks (a CRD's schema may default fields into it), a
	// field local comparison drops (status, server metadata, stringData),
	// or a list item whose merge key Git leaves to a default.
	hybridInexact = "a value Git sets matches only after normalisation"
	// An atomic list, map or struct (replaced whole on apply) holds more
	// than Git's value, or a keyed list holds Git's items in another order.
	hybridAtomic = "an atomic list or map differs from Git's"
	// Changes were found and all ignored: the server may find others.
	hybridIgnored = "changes found, all ignored by rules"
	// The user is not known to be allowed to patch the object: the dry-run
	// would be refused, as in server mode.
	hybridAccess = "patching it is not known to be allowed"
)

// hybrid holds what the decisions of hybrid mode share.
type hybrid struct {
	schemas   *validator
	admission *admission
	// reviewer reviews the user's right to patch (nil: nothing is known
	// to be allowed).
	reviewer cluster.SelfAccessReviewer
	mu       sync.Mutex
	// allowed caches the access reviews, by resource and namespace ("":
	// all namespaces).
	allowed map[groupKey]*review
	// counts are the objects sent to the server, by reason.
	counts map[string]int
}

// review is one access review, made once for all the objects of its
// resource and namespace (or all namespaces).
type review struct {
	once    sync.Once
	allowed bool
}

// newHybrid reads the admission configuration.
func (e *Engine) newHybrid(ctx context.Context) (*hybrid, error) {
	h := &hybrid{schemas: newValidator(e.Reader, e.Schemas), allowed: map[groupKey]*review{}, counts: map[string]int{}}
	var err error
	if h.admission, err = readAdmission(ctx, e.Reader); err != nil {
		return nil, err
	}
	h.reviewer, _ = e.Reader.(cluster.SelfAccessReviewer)
	return h, nil
}

// mayPatch reviews the user's right to patch the objects of k: first once
// per resource in all namespaces (a review of namespace "" asks about every
// namespace at once: one review instead of one per namespace, for the usual
// user allowed everywhere), and only when that is not allowed, once per
// resource and namespace (a user allowed in some namespaces only). A review
// that fails counts as not allowed: the server path will say.
func (h *hybrid) mayPatch(ctx context.Context, k groupKey) bool {
	if h.reviewer == nil {
		return false
	}
	if k.namespace != "" && h.review(ctx, groupKey{resource: k.resource}) {
		return true
	}
	return h.review(ctx, k)
}

// review makes, once, the access review of k (namespace "": all
// namespaces, or the cluster scope).
func (h *hybrid) review(ctx context.Context, k groupKey) bool {
	h.mu.Lock()
	r := h.allowed[k]
	if r == nil {
		r = &review{}
		h.allowed[k] = r
	}
	h.mu.Unlock()
	r.once.Do(func() {
		ok, err := h.reviewer.ReviewSelfAccess(ctx, authorizationv1.ResourceAttributes{
			Verb: "patch", Group: k.resource.Group, Resource: k.resource.Resource, Namespace: k.namespace})
		r.allowed = ok && err == nil
	})
	return r.allowed
}

// serverReason says why the object of it, compared locally, must be
// compared by the server ("" when the local result is exact).
func (h *hybrid) serverReason(ctx context.Context, it *item, live *unstructured.Unstructured) string {
	r := it.report
	switch {
	case r.Status == StatusSkipped:
		return "" // skipped before any comparison, in every mode
	case r.Status != StatusUnchanged || live == nil:
		return hybridFlagged
	case it.ignoredChanges:
		return hybridIgnored
	case it.mapping.Resource.Group == "" && it.mapping.Resource.Resource == "pods":
		return hybridPod
	}
	if _, ok := live.GetAnnotations()[redact.LastApplied]; ok {
		return hybridClientSideApplied
	}
	if reason := h.admission.matches(it.mapping.Resource.GroupResource()); reason != "" {
		return reason
	}
	if !h.mayPatch(ctx, groupKey{it.mapping.Resource.GroupResource(), it.namespace}) {
		return hybridAccess
	}
	return it.exactReason
}

// exactReason is what hybrid mode's local pass finds of an object in which
// it found no change, before ignore rules strip the live object: why the
// server must still compare it ("" when the local result is exact).
func (h *hybrid) exactReason(ctx context.Context, it *item, desiredN, liveN map[string]any) string {
	if droppedByNormalize(it.desired.Object) {
		return hybridInexact
	}
	root := h.schemas.root(ctx, it.desired.GroupVersionKind())
	if root == nil {
		return hybridNoSchema
	}
	return exactSubset(desiredN, liveN, root)
}

func (h *hybrid) count(reason string) {
	h.mu.Lock()
	h.counts[reason]++
	h.mu.Unlock()
}

// droppedByNormalize reports whether obj sets a field normalizeDesired drops
// or rewrites.
func droppedByNormalize(obj map[string]any) bool {
	if _, ok := obj["status"]; ok {
		return true
	}
	if _, ok := obj["stringData"]; ok {
		return true
	}
	md, _ := obj["metadata"].(map[string]any)
	for _, f := range serverFields {
		if _, ok := md[f]; ok {
			return true
		}
	}
	for _, k := range []string{"labels", "annotations"} {
		if m, ok := md[k].(map[string]any); ok && len(m) == 0 {
			return true
		}
	}
	return false
}

// exactSubset returns "" when every value desired sets is in live, identical
// (same JSON type and value), with lists and maps merged the way the schema
// says server-side apply merges them: atomic ones identical as a whole,
// keyed lists' items found by their keys and in the same order, sets' items
// in the same order. Else the undecidable case it met.
func exactSubset(desired, live map[string]any, root *jsonSchema) string {
	return exactAt(desired, live, root, 0)
}

// maxExactDepth bounds the walk (a schema may be cut short, or recursive).
const maxExactDepth = 64

func exactAt(d, l any, s *jsonSchema, depth int) string {
	if depth > maxExactDepth {
		return hybridInexact
	}
	sch := effective(s)
	switch dv := d.(type) {
	case nil:
		return hybridInexact
	case map[string]any:
		lm, ok := l.(map[string]any)
		if !ok {
			return hybridInexact
		}
		if sch.mapType == "atomic" {
			if !strictEqual(dv, lm) {
				return hybridAtomic
			}
			return ""
		}
		for k, x := range dv {
			y, ok := lm[k]
			if !ok {
				return hybridInexact
			}
			var sub *jsonSchema
			if sch.s != nil {
				if p, ok := sch.s.Properties[k]; ok {
					sub = p
				} else {
					sub = sch.s.extra
				}
			}
			if reason := exactAt(x, y, sub, depth+1); reason != "" {
				return reason
			}
		}
		return ""
	case []any:
		ll, ok := l.([]any)
		if !ok {
			return hybridInexact
		}
		var items *jsonSchema
		if sch.s != nil {
			items = sch.s.Items
		}
		switch sch.listType {
		case "set":
			last := -1
			for _, x := range dv {
				j := slices.IndexFunc(ll, func(y any) bool { return strictEqual(x, y) })
				if j <= last {
					return hybridAtomic
				}
				last = j
			}
			return ""
		case "map":
			last := -1
			for _, x := range dv {
				xm, ok := x.(map[string]any)
				if !ok {
					return hybridInexact
				}
				j, reason := itemByKeys(xm, ll, sch.keys)
				if reason != "" {
					return reason
				}
				if j <= last {
					return hybridAtomic
				}
				last = j
				if reason := exactAt(x, ll[j], items, depth+1); reason != "" {
					return reason
				}
			}
			return ""
		}
		if !strictEqual(dv, ll) {
			return hybridAtomic
		}
		return ""
	default:
		if !strictEqual(d, l) {
			return hybridInexact
		}
		return ""
	}
}

// keyDefaults are the defaults of list-map keys Git may leave out, which the
// server fills in before merging (a port's protocol).
var keyDefaults = map[string]any{"protocol": "TCP"}

// itemByKeys returns the index in l of the item with x's key values.
func itemByKeys(x map[string]any, l []any, keys []string) (int, string) {
	want := make([]any, len(keys))
	for i, k := range keys {
		v, ok := x[k]
		if !ok {
			if v, ok = keyDefaults[k]; !ok {
				return -1, hybridInexact
			}
		}
		want[i] = v
	}
	found := -1
	for j, y := range l {
		ym, ok := y.(map[string]any)
		if !ok {
			return -1, hybridInexact
		}
		match := true
		for i, k := range keys {
			if !strictEqual(want[i], ym[k]) {
				match = false
				break
			}
		}
		if match {
			if found >= 0 {
				return -1, hybridInexact
			}
			found = j
		}
	}
	if found < 0 {
		return -1, hybridInexact
	}
	return found, ""
}

// mergeInfo is what exactAt reads of a schema, through references and the
// allOf wrappers of k8s documents.
type mergeInfo struct {
	s        *jsonSchema // nil: unknown (maps granular, lists atomic)
	listType string      // atomic (""), set or map
	keys     []string
	mapType  string
}

func effective(s *jsonSchema) mergeInfo {
	var m mergeInfo
	for i := 0; i < 8; i++ {
		s = resolve(s)
		if s == nil {
			break
		}
		if m.listType == "" {
			switch {
			case s.ListType != "":
				m.listType, m.keys = s.ListType, s.ListMapKeys
			case strings.Contains(s.PatchStrategy, "merge") && s.PatchMergeKey != "":
				m.listType, m.keys = "map", []string{s.PatchMergeKey}
			}
		}
		if m.mapType == "" {
			m.mapType = s.MapType
		}
		if len(s.Properties) == 0 && s.Items == nil && s.extra == nil && len(s.AllOf) == 1 {
			s = s.AllOf[0]
			continue
		}
		m.s = s
		break
	}
	if m.listType == "map" && len(m.keys) == 0 {
		m.listType = "" // keys unknown: compared as atomic
	}
	return m
}

// strictEqual compares JSON values by type and value: 1 and 1.0, or "1"
// and 1, differ (normalisation may make them equal; only the server knows).
func strictEqual(a, b any) bool {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !strictEqual(x, y) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !strictEqual(av[i], bv[i]) {
				return false
			}
		}
		return true
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	case int64:
		bv, ok := b.(int64)
		return ok && av == bv
	case float64:
		bv, ok := b.(float64)
		return ok && av == bv
	case nil:
		return b == nil
	}
	return false
}

// admission is what the cluster's admission configuration says of kinds:
// which group-resources a webhook or policy matches on update.
type admission struct {
	unknown bool
	// resources holds "group/resource"; "*" stands for any group or
	// resource.
	resources map[string]bool
}

// admissionKinds are the kinds that register admission.
var admissionKinds = []struct {
	kind   string
	policy bool
}{
	{"MutatingWebhookConfiguration", false},
	{"ValidatingWebhookConfiguration", false},
	{"MutatingAdmissionPolicy", true},
	{"ValidatingAdmissionPolicy", true},
}

// readAdmission lists the admission webhooks and policies (each kind at v1,
// else at the version the server serves it at). One it cannot read
// (forbidden) makes every kind undecidable; an error that ends the
// comparison (cancelled, unreachable) is returned.
func readAdmission(ctx context.Context, r cluster.Reader) (*admission, error) {
	a := &admission{resources: map[string]bool{}}
	for _, k := range admissionKinds {
		gvk := schema.GroupVersionKind{Group: "admissionregistration.k8s.io", Version: "v1", Kind: k.kind}
		m, err := r.Mapping(ctx, gvk)
		var notServed *cluster.NotServedError
		if errors.As(err, &notServed) && len(notServed.ServedVersions) > 0 {
			gvk.Version = notServed.ServedVersions[0]
			m, err = r.Mapping(ctx, gvk)
		}
		if errors.Is(err, cluster.ErrKindNotServed) {
			continue // no such objects
		}
		var objs []unstructured.Unstructured
		if err == nil {
			objs, err = r.List(ctx, m, "", "")
		}
		if err != nil {
			if isFatal(err) {
				return nil, err
			}
			a.unknown = true
			return a, nil
		}
		for _, o := range objs {
			if k.policy {
				rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "matchConstraints", "resourceRules")
				a.add(rules)
				continue
			}
			hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
			for _, h := range hooks {
				if hm, ok := h.(map[string]any); ok {
					rules, _ := hm["rules"].([]any)
					a.add(rules)
				}
			}
		}
	}
	return a, nil
}

// add records the group-resources of rules that match updates (or creates:
// a missing object is always compared by the server anyway).
func (a *admission) add(rules []any) {
	for _, r := range rules {
		rm, ok := r.(map[string]any)
		if !ok {
			a.unknown = true
			continue
		}
		ops := strings.Join(stringsOf(rm["operations"]), ",")
		if !strings.Contains(ops, "UPDATE") && !strings.Contains(ops, "*") {
			continue
		}
		for _, g := range stringsOf(rm["apiGroups"]) {
			for _, res := range stringsOf(rm["resources"]) {
				res, _, _ = strings.Cut(res, "/") // subresources: counted for the resource, to be safe
				a.resources[g+"/"+res] = true
			}
		}
	}
}

func stringsOf(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// matches returns why gr's objects may be changed or refused by admission
// ("" when no webhook or policy matches).
func (a *admission) matches(gr schema.GroupResource) string {
	if a == nil {
		return ""
	}
	if a.unknown {
		return hybridAdmissionUnknown
	}
	for _, k := range []string{gr.Group + "/" + gr.Resource, "*/" + gr.Resource, gr.Group + "/*", "*/*"} {
		if a.resources[k] {
			return hybridAdmission
		}
	}
	return ""
}
