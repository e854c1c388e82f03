package objdiff

import (
	"sort"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

// ChangeType says how a field differs, seen from Git.
type ChangeType string

// Change types.
const (
	// Modified: Git and the cluster both set the field, to different values.
	Modified ChangeType = "modified"
	// Missing: Git sets the field; the cluster does not have it.
	Missing ChangeType = "missing"
	// Extra: the cluster has the field; Git does not set it (another manager
	// added it, or Git stopped setting it).
	Extra ChangeType = "extra"
	// Reordered: the items of an associative list (a container's env,
	// ports, the containers, the volumes) that Git and the cluster both
	// have are in a different order. Server-side apply keeps Git's order of
	// the items it applies, so applying Git reorders them (in a pod
	// template, a rollout). Path is the list's; Live and Desired are the
	// identifying values (names, ports) of those items in each order.
	Reordered ChangeType = "reordered"
)

// Change is one drifted field.
type Change struct {
	Path objpath.Path
	Type ChangeType
	// Live is the cluster's value (nil when Missing).
	Live any
	// Desired is Git's value, or what the cluster would hold after applying
	// Git (nil when Extra).
	Desired any
	// Owners are the managers owning the live field (most recent first).
	Owners []Owner
	// Note explains an Extra field: "added by another manager" or "not in Git".
	Note string
	// Key is the merge key of a Reordered change's list (Live and Desired
	// hold its values).
	Key string
}

// Full compares two complete objects, live and what it would become after
// applying Git (a server-side dry-run result), field by field.
func Full(live, after map[string]any) []Change {
	var out []Change
	full(objpath.Path{}, live, after, &out)
	SortChanges(out)
	return out
}

func full(p objpath.Path, a, b any, out *[]Change) {
	am, aMap := a.(map[string]any)
	bm, bMap := b.(map[string]any)
	if aMap && bMap {
		for k, av := range am {
			bv, ok := bm[k]
			if !ok {
				*out = append(*out, Change{Path: p.Key(k), Type: Extra, Live: av})
				continue
			}
			if sameScalar(av, bv) {
				continue // the common case: no path to build
			}
			full(p.Key(k), av, bv, out)
		}
		for k, bv := range bm {
			if _, ok := am[k]; !ok {
				*out = append(*out, Change{Path: p.Key(k), Type: Missing, Desired: bv})
			}
		}
		return
	}
	al, aList := a.([]any)
	bl, bList := b.([]any)
	if aList && bList {
		if key := listKey(al, bl); key != "" {
			fullKeyed(p, al, bl, key, out)
			return
		}
		if len(al) == len(bl) {
			for i := range al {
				full(p.Index(i), al[i], bl[i], out)
			}
			return
		}
	}
	if !Equal(a, b) {
		*out = append(*out, Change{Path: p, Type: Modified, Live: a, Desired: b})
	}
}

// sameScalar reports whether a and b are equal strings, booleans or
// numbers of the same type (where Equal is true too).
func sameScalar(a, b any) bool {
	switch av := a.(type) {
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
	}
	return false
}

func fullKeyed(p objpath.Path, live, after []any, key string, out *[]Change) {
	if c, ok := orderChange(p, live, after, key); ok {
		*out = append(*out, c)
	}
	for i, item := range live {
		j := indexByKey(after, key, item.(map[string]any)[key])
		if j < 0 {
			*out = append(*out, Change{Path: p.Index(i), Type: Extra, Live: item})
			continue
		}
		full(p.Index(i), item, after[j], out)
	}
	for j, item := range after {
		if indexByKey(live, key, item.(map[string]any)[key]) < 0 {
			*out = append(*out, Change{Path: p.Index(j), Type: Missing, Desired: item})
		}
	}
}

// listKeys are the fields that identify items of associative lists, tried in
// order (a schema-free approximation of the OpenAPI list-map keys).
var listKeys = []string{"name", "containerPort", "mountPath", "devicePath", "ip", "topologyKey"}

// listKey returns the field identifying the items of both lists, or "".
func listKey(lists ...[]any) string {
	for _, k := range listKeys {
		ok, n := true, 0
		for _, l := range lists {
			seen := map[any]bool{}
			for _, item := range l {
				m, isMap := item.(map[string]any)
				if !isMap {
					ok = false
					break
				}
				v, has := m[k]
				if !has {
					ok = false
					break
				}
				// Only strings and numbers identify items; check before
				// using v as a map key (a map or list value would panic).
				if _, isString := v.(string); !isString {
					if _, isNum := number(v); !isNum {
						ok = false
						break
					}
				}
				if seen[v] {
					ok = false
					break
				}
				seen[v] = true
				n++
			}
		}
		if ok && n > 0 {
			return k
		}
	}
	return ""
}

// orderChange compares the order of the items live and other both have
// (other is Git's list, or the dry-run's, which keeps Git's order of the
// items Git applies): a Reordered change when it differs. Items only one
// list has do not count: server-side apply places another manager's items
// around Git's, and appends Git's new ones.
func orderChange(p objpath.Path, live, other []any, key string) (Change, bool) {
	if sameOrder(live, other, key) {
		return Change{}, false
	}
	liveKeys := sharedKeys(live, other, key)
	otherKeys := sharedKeys(other, live, key)
	for i := range liveKeys {
		if !Equal(liveKeys[i], otherKeys[i]) {
			return Change{Path: p, Type: Reordered, Live: liveKeys, Desired: otherKeys, Key: key}, true
		}
	}
	return Change{}, false
}

// sameOrder reports whether the items live and other both have are in the
// same order in each, without allocating.
func sameOrder(live, other []any, key string) bool {
	i, j := 0, 0
	for {
		for i < len(live) && indexByKey(other, key, live[i].(map[string]any)[key]) < 0 {
			i++
		}
		for j < len(other) && indexByKey(live, key, other[j].(map[string]any)[key]) < 0 {
			j++
		}
		if i == len(live) || j == len(other) {
			return i == len(live) && j == len(other)
		}
		if !Equal(live[i].(map[string]any)[key], other[j].(map[string]any)[key]) {
			return false
		}
		i++
		j++
	}
}

// sharedKeys returns the identifying values of the items of l that other
// has too, in l's order.
func sharedKeys(l, other []any, key string) []any {
	out := make([]any, 0, len(l))
	for _, item := range l {
		v := item.(map[string]any)[key]
		if indexByKey(other, key, v) >= 0 {
			out = append(out, v)
		}
	}
	return out
}

// Reorder returns a copy of the associative list l in which the items
// identified by the values of order (a Reordered change's Desired) are in
// that order, in the positions those items held; other items keep their
// place. l is returned as it is when its items have no identifying field.
func Reorder(l []any, order []any) []any {
	key := listKey(l)
	if key == "" {
		return l
	}
	var slots []int
	for i, item := range l {
		v := item.(map[string]any)[key]
		for _, o := range order {
			if Equal(o, v) {
				slots = append(slots, i)
				break
			}
		}
	}
	if len(slots) != len(order) {
		return l
	}
	out := append([]any(nil), l...)
	for n, o := range order {
		out[slots[n]] = l[indexByKey(l, key, o)]
	}
	return out
}

func indexByKey(l []any, key string, v any) int {
	for i, item := range l {
		if m, ok := item.(map[string]any); ok && Equal(m[key], v) {
			return i
		}
	}
	return -1
}

// Subset compares the fields Git sets with the live object: every field of
// desired must hold the same value in live. Fields only live has (server
// defaults, fields of other managers) are not reported here. Paths are
// those of the live object where it has the field.
func Subset(desired, live map[string]any) []Change {
	var out []Change
	subset(make(objpath.Path, 0, 16), desired, live, &out)
	SortChanges(out)
	return out
}

// subset appends to out what differs between d and l at p. p's backing
// array is shared with the calls below it (a field's path is p with its key
// appended, in place): every change gets a copy of its path. Map keys are
// visited in any order; Subset sorts the changes.
func subset(p objpath.Path, d, l any, out *[]Change) {
	switch dv := d.(type) {
	case nil:
		return // null in a manifest means "not set"
	case map[string]any:
		lm, ok := l.(map[string]any)
		if !ok {
			if len(dv) == 0 && l == nil {
				return
			}
			*out = append(*out, Change{Path: clonePath(p), Type: changeType(l), Live: l, Desired: d})
			return
		}
		for k, x := range dv {
			y, has := lm[k]
			if !has {
				if x == nil || isEmpty(x) {
					continue
				}
				*out = append(*out, Change{Path: p.Key(k), Type: Missing, Desired: x})
				continue
			}
			subset(append(p, k), x, y, out)
		}
	case []any:
		ll, ok := l.([]any)
		if !ok {
			if len(dv) == 0 && l == nil {
				return
			}
			*out = append(*out, Change{Path: clonePath(p), Type: changeType(l), Live: l, Desired: d})
			return
		}
		if key := listKey(dv); key != "" && listKey(ll) == key {
			if c, ok := orderChange(p, ll, dv, key); ok {
				c.Path = clonePath(p)
				*out = append(*out, c)
			}
			next := len(ll) // where the next missing item would be appended
			for _, item := range dv {
				j := indexByKey(ll, key, item.(map[string]any)[key])
				if j < 0 {
					*out = append(*out, Change{Path: p.Index(next), Type: Missing, Desired: item})
					next++
					continue
				}
				subset(append(p, j), item, ll[j], out)
			}
			return
		}
		if isSetList(p) {
			// Items only live has belong to other managers, as in a map.
			next := len(ll)
			for _, item := range dv {
				if findValue(ll, item) < 0 {
					*out = append(*out, Change{Path: p.Index(next), Type: Missing, Desired: item})
					next++
				}
			}
			return
		}
		if len(dv) != len(ll) {
			*out = append(*out, Change{Path: clonePath(p), Type: Modified, Live: l, Desired: d})
			return
		}
		// Positional: a field differing inside an item makes the whole list
		// differ (atomic lists are replaced as a whole on apply).
		var inner []Change
		for i := range dv {
			subset(append(p, i), dv[i], ll[i], &inner)
		}
		if len(inner) > 0 {
			*out = append(*out, Change{Path: clonePath(p), Type: Modified, Live: l, Desired: d})
		}
	default:
		if !scalarEqual(p, d, l) {
			*out = append(*out, Change{Path: clonePath(p), Type: changeType(l), Live: l, Desired: d})
		}
	}
}

// setLists are the lists of scalars merged as sets (x-kubernetes-list-type:
// set) rather than replaced whole: other managers add items to them.
var setLists = map[string]bool{"metadata.finalizers": true}

// isSetList reports whether p is one of setLists (without rendering p for
// every list compared).
func isSetList(p objpath.Path) bool {
	return len(p) == 2 && p[0] == "metadata" && p[1] == "finalizers" && setLists["metadata.finalizers"]
}

// clonePath returns a copy of p that no later append changes.
func clonePath(p objpath.Path) objpath.Path {
	return append(objpath.Path(nil), p...)
}

func changeType(live any) ChangeType {
	if live == nil {
		return Missing
	}
	return Modified
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// quantityParents are map keys whose values are resource quantities, where
// "1000m" and "1" (or 1 and "1") mean the same.
var quantityParents = map[string]bool{
	"limits": true, "requests": true, "hard": true, "capacity": true, "allocatable": true,
	"default": true, "defaultRequest": true, "max": true, "min": true, "maxLimitRequestRatio": true,
	"sizeLimit": true, "storage": true, "used": true,
}

// payload are the top-level fields holding opaque text (ConfigMap and Secret
// data), where "1" and "1000m" differ even under a key named like a quantity.
var payload = map[any]bool{"data": true, "binaryData": true, "stringData": true}

func scalarEqual(p objpath.Path, a, b any) bool {
	if Equal(a, b) {
		return true
	}
	if len(p) < 2 || payload[p[0]] {
		return false
	}
	parent, _ := p[len(p)-2].(string)
	last, _ := p[len(p)-1].(string)
	if !quantityParents[parent] && last != "sizeLimit" && last != "storage" {
		return false
	}
	qa, okA := quantity(a)
	qb, okB := quantity(b)
	return okA && okB && qa.Cmp(qb) == 0
}

func quantity(v any) (resource.Quantity, bool) {
	switch t := v.(type) {
	case string:
		q, err := resource.ParseQuantity(t)
		return q, err == nil
	default:
		if f, ok := number(v); ok {
			q, err := resource.ParseQuantity(formatFloat(f))
			return q, err == nil
		}
	}
	return resource.Quantity{}, false
}

// Present reports whether desired sets the field found at livePath in live,
// matching list items by their identifying field rather than position.
func Present(desired, live map[string]any, livePath objpath.Path) bool {
	_, ok := desiredAt(desired, live, livePath)
	return ok
}

// desiredAt returns desired's value for the field found at livePath in live,
// matching list items by their identifying field rather than position.
func desiredAt(desired, live map[string]any, livePath objpath.Path) (any, bool) {
	var d, l any = desired, live
	for _, e := range livePath {
		switch k := e.(type) {
		case string:
			dm, ok := d.(map[string]any)
			if !ok {
				return nil, false
			}
			lm, _ := l.(map[string]any)
			if d, ok = dm[k]; !ok || d == nil {
				return nil, false
			}
			l = lm[k]
		case int:
			dl, ok := d.([]any)
			if !ok {
				return nil, false
			}
			ll, _ := l.([]any)
			if k >= len(ll) {
				return nil, false
			}
			item := ll[k]
			j := -1
			if key := listKey(dl, ll); key != "" {
				j = indexByKey(dl, key, item.(map[string]any)[key])
			} else if _, isMap := item.(map[string]any); !isMap {
				j = findValue(dl, item) // set-like lists of scalars (finalizers)
			} else if len(dl) == len(ll) {
				j = k
			}
			if j < 0 {
				return nil, false
			}
			d, l = dl[j], item
		}
	}
	return d, true
}

// PathIn returns the path in other of the field found at livePath in live,
// matching list items by their identifying field rather than position (the
// dry-run's result may hold them in another order); false when other does
// not have it.
func PathIn(live, other map[string]any, livePath objpath.Path) (objpath.Path, bool) {
	var l, o any = live, other
	out := make(objpath.Path, 0, len(livePath))
	for _, e := range livePath {
		switch k := e.(type) {
		case string:
			lm, _ := l.(map[string]any)
			om, ok := o.(map[string]any)
			if !ok {
				return nil, false
			}
			if o, ok = om[k]; !ok {
				return nil, false
			}
			l = lm[k]
			out = append(out, k)
		case int:
			ll, _ := l.([]any)
			ol, ok := o.([]any)
			if !ok || k >= len(ll) {
				return nil, false
			}
			item := ll[k]
			j := -1
			if key := listKey(ll, ol); key != "" {
				j = indexByKey(ol, key, item.(map[string]any)[key])
			} else if _, isMap := item.(map[string]any); !isMap {
				j = findValue(ol, item)
			} else if len(ol) == len(ll) {
				j = k
			}
			if j < 0 {
				return nil, false
			}
			l, o = item, ol[j]
			out = append(out, j)
		}
	}
	return out, true
}

// AtomicLists compares, position by position, the lists that managedFields
// shows are replaced as a whole (owned as one field: RBAC subjects and
// rules, args, tolerations…) wherever Git sets them. Subset matches list
// items by a name-like key, which would miss an item another manager added
// to such a list. Items compare as subsets, so server defaults inside them
// are not drift.
func AtomicLists(desired, live map[string]any, own *Ownership) []Change {
	seen := map[string]bool{}
	var out []Change
	for _, e := range own.entries {
		for _, op := range e.paths {
			if !op.whole {
				continue
			}
			lv, ok := objpath.Get(live, op.path)
			ll, isList := lv.([]any)
			if !ok || !isList {
				continue
			}
			k := pathKey(op.path)
			if seen[k] {
				continue
			}
			seen[k] = true
			dv, ok := desiredAt(desired, live, op.path)
			dl, isList := dv.([]any)
			if !ok || !isList {
				continue
			}
			differs := len(dl) != len(ll)
			for i := 0; !differs && i < len(dl); i++ {
				var inner []Change
				subset(op.path.Index(i), dl[i], ll[i], &inner)
				differs = len(inner) > 0
			}
			if differs {
				out = append(out, Change{Path: op.path, Type: Modified, Live: lv, Desired: dv})
			}
		}
	}
	SortChanges(out)
	return out
}

// SortChanges orders changes by path.
func SortChanges(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool { return objpath.Compare(cs[i].Path, cs[j].Path) < 0 })
}

// Foreign returns the fields of live that desired does not set and that are
// owned as a whole by managers for which include returns true — the fields
// server-side apply keeps for other managers, which `kubectl diff` cannot
// show. A field nested under another reported field is not repeated, and a
// list item such a manager created (it owns the item's ".") is reported as
// one change, not field by field.
func Foreign(desired, live map[string]any, own *Ownership, include func(Owner) bool) []Change {
	leaves := own.ownedLeaves(include, pathKey)
	for k, f := range own.createdItems(include) {
		if _, ok := leaves[k]; !ok {
			leaves[k] = f
		}
	}
	// Most owned fields are Git's: drop them before sorting what is left.
	type candidate struct {
		f    OwnedField
		live any
	}
	var cands []candidate
	for _, f := range leaves {
		v, ok := objpath.Get(live, f.Path)
		if !ok || Present(desired, live, f.Path) {
			continue
		}
		cands = append(cands, candidate{f, v})
	}
	sort.Slice(cands, func(i, j int) bool { return objpath.Compare(cands[i].f.Path, cands[j].f.Path) < 0 })
	var out []Change
	for _, c := range cands {
		f := c.f
		if len(out) > 0 && f.Path.HasPrefix(out[len(out)-1].Path) {
			continue
		}
		owners := append([]Owner(nil), f.Owners...)
		sortOwners(owners)
		note := "added by another manager"
		if owners[0].Class == ClassAgent {
			note = "not in Git any more (the GitOps agent applied it before)"
		}
		out = append(out, Change{Path: f.Path, Type: Extra, Live: c.live, Owners: owners, Note: note})
	}
	return out
}
