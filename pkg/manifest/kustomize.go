package manifest

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// loadKustomize builds dir as `kubectl -k dir` does: krusty's default
// options (builtin plugins only, loads restricted to the kustomization
// root) with kubectl's legacy resource order, then the YAML output read as
// kubectl reads it. Sources name dir, with no line (the line in generated
// output would mean nothing to a user).
func loadKustomize(ctx context.Context, dir string) (*Set, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("building kustomization %s: %w", dir, err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy // as kubectl's KustomizeVisitor
	resources, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("building kustomization %s: %w", dir, err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("building kustomization %s: %w", dir, err)
	}
	l := &loader{}
	l.parse(dir, out)
	if len(l.errs) > 0 {
		return nil, fmt.Errorf("building kustomization %s: reading its output: %w", dir, errors.Join(l.errs...))
	}
	for i := range l.set.Objects {
		l.set.Objects[i].Source = kustomizeSource(l.set.Objects[i].Source)
	}
	for i := range l.set.Skipped {
		l.set.Skipped[i].Source = kustomizeSource(l.set.Skipped[i].Source)
	}
	return &l.set, nil
}

func kustomizeSource(s Source) Source {
	s.Line = 0
	s.Kustomize = true
	return s
}
