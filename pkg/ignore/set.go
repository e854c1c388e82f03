package ignore

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

// Set is an ordered collection of rules. A nil *Set holds no rules.
type Set struct {
	rules []*Rule
}

// NewSet returns a set of the given rules, in order.
func NewSet(rules ...*Rule) *Set {
	return &Set{rules: slices.Clone(rules)}
}

// Merge returns a new set holding s's rules, then o's. Either may be nil.
func (s *Set) Merge(o *Set) *Set {
	return &Set{rules: slices.Concat(s.Rules(), o.Rules())}
}

// Rules returns the rules in order (a new slice of the same rules).
func (s *Set) Rules() []*Rule {
	if s == nil {
		return nil
	}
	return slices.Clone(s.rules)
}

// Match returns the rules that apply to obj, in order: those with a target
// selecting obj by group, version, kind, name, namespace, labels,
// annotations and, for builtins, content.
func (s *Set) Match(obj *unstructured.Unstructured) []*Rule {
	if s == nil || obj == nil {
		return nil
	}
	var out []*Rule
	for _, r := range s.rules {
		if r.Matches(obj) {
			out = append(out, r)
		}
	}
	return out
}

// Strip deletes from obj every concrete path (see Rule.Paths) of the given
// rules that have no OwnedBy condition, and returns the deleted paths,
// sorted. The paths are those of obj before the deletion: all of them are
// resolved first, so the rules do not see each other's effect, and a list
// item is deleted after the items above it, so its index stays valid. A
// path inside another deleted path is not reported separately. On error obj
// is left unchanged.
func Strip(ctx context.Context, obj map[string]any, rules []*Rule) ([]objpath.Path, error) {
	in := &jqInput{obj: obj}
	var paths []objpath.Path
	for _, r := range rules {
		if len(r.OwnedBy) > 0 {
			continue
		}
		ps, err := r.paths(ctx, obj, in)
		if err != nil {
			return nil, err
		}
		paths = append(paths, ps...)
	}
	paths = sortUnique(paths)
	// Drop paths inside an earlier (shorter, sorted before) deleted path.
	kept := paths[:0]
	for _, p := range paths {
		if len(kept) > 0 && p.HasPrefix(kept[len(kept)-1]) {
			continue
		}
		kept = append(kept, p)
	}
	// Delete from the end: later list items before earlier ones.
	for i := len(kept) - 1; i >= 0; i-- {
		objpath.Delete(obj, kept[i])
	}
	if len(kept) == 0 {
		return nil, nil
	}
	return kept, nil
}
