package objdiff

import (
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"maps"
	"slices"
)

// NoteLastApplied explains an Extra change found through the last-applied
// configuration.
const NoteLastApplied = "not in Git any more (in the last-applied configuration)"

// Removed returns the fields of live that the last applied configuration
// set and desired no longer sets: what a client-side apply of desired would
// delete (the three-way merge of `kubectl apply`, `kubectl diff` and Argo
// CD's default diff). Such fields are owned by an Update entry, which a
// server-side apply neither removes nor lets Foreign see as the agent's.
//
// A map entry or keyed list item desired does not set is reported whole;
// lists replaced as a whole (no identifying field) are left to Subset when
// desired sets them. Paths are those of live; the changes carry no owners.
func Removed(lastApplied, desired, live map[string]any) []Change {
	var out []Change
	removed(objpath.Path{}, lastApplied, live, desired, live, &out)
	SortChanges(out)
	return out
}

func removed(p objpath.Path, la, l any, desired, live map[string]any, out *[]Change) {
	switch lav := la.(type) {
	case map[string]any:
		lm, ok := l.(map[string]any)
		if !ok {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(lav)) {
			x := lav[k]
			y, has := lm[k]
			if !has || x == nil {
				continue
			}
			removedAt(p.Key(k), x, y, desired, live, out)
		}
	case []any:
		ll, ok := l.([]any)
		if !ok {
			return
		}
		if key := listKey(lav, ll); key != "" {
			for _, item := range lav {
				if j := indexByKey(ll, key, item.(map[string]any)[key]); j >= 0 {
					removedAt(p.Index(j), item, ll[j], desired, live, out)
				}
			}
			return
		}
		// Lists of scalars merged as sets (finalizers): items by value.
		if isSetList(p) {
			for _, item := range lav {
				if j := findValue(ll, item); j >= 0 {
					removedAt(p.Index(j), item, ll[j], desired, live, out)
				}
			}
		}
	}
}

// removedAt reports the live field at p when desired does not set it, and
// otherwise looks inside it.
func removedAt(p objpath.Path, la, l any, desired, live map[string]any, out *[]Change) {
	if !Present(desired, live, p) {
		*out = append(*out, Change{Path: p, Type: Extra, Live: l, Note: NoteLastApplied})
		return
	}
	removed(p, la, l, desired, live, out)
}
