package compare

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

// matchRules returns the ignore rules for an object, matched on its live
// version when there is one (labels and annotations as they are), else on Git's.
func matchRules(set *ignore.Set, desired, live *unstructured.Unstructured) []*ignore.Rule {
	if set == nil {
		return nil
	}
	if live != nil {
		return set.Match(live)
	}
	return set.Match(desired)
}

// applyIgnore drops the changes the rules ignore: fields at the rules' paths
// (only where an OwnedBy manager owns them, when the rule says so), and
// fields owned by a rule's managedFieldsManagers.
func applyIgnore(ctx context.Context, rules []*ignore.Rule, changes []objdiff.Change, live map[string]any, own *objdiff.Ownership) ([]objdiff.Change, error) {
	if len(rules) == 0 {
		return changes, nil
	}
	type ignored struct {
		path    objpath.Path
		ownedBy []string
	}
	var paths []ignored
	var managers []string
	for _, r := range rules {
		ps, err := r.Paths(ctx, live)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			paths = append(paths, ignored{p, r.OwnedBy})
		}
		managers = append(managers, r.ManagedFieldsManagers...)
	}
	out := changes[:0:0]
next:
	for _, c := range changes {
		for _, ig := range paths {
			if !c.Path.HasPrefix(ig.path) {
				continue
			}
			if len(ig.ownedBy) == 0 || ownedByAny(own.Owners(c.Path), ig.ownedBy) {
				continue next
			}
		}
		if len(managers) > 0 && ownedByAny(c.Owners, managers) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

func ownedByAny(owners []objdiff.Owner, managers []string) bool {
	for _, o := range owners {
		if slices.Contains(managers, o.Manager) {
			return true
		}
	}
	return false
}

// stripIgnored removes the unconditionally ignored paths from the objects
// rendered for a diff.
func stripIgnored(ctx context.Context, rules []*ignore.Rule, objs ...map[string]any) error {
	var unconditional []*ignore.Rule
	for _, r := range rules {
		if len(r.OwnedBy) == 0 {
			unconditional = append(unconditional, r)
		}
	}
	for _, o := range objs {
		if o == nil {
			continue
		}
		if _, err := ignore.Strip(ctx, o, unconditional); err != nil {
			return err
		}
	}
	return nil
}
