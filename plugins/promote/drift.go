package promote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promoter"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
)

// driftIgnoreFile is the drift plugin's default ignore file, honoured here
// too.
const driftIgnoreFile = ".gitops/drift-ignore.yaml"

// drift returns the drift gate: the drift engine in local mode (reads only)
// on the environment's directory at the commit, against its cluster.
func (c *common) drift(e *promoter.Engine) func(ctx context.Context, env *promotion.Environment, commit string) (string, error) {
	return func(ctx context.Context, env *promotion.Environment, commit string) (string, error) {
		tmp, err := os.MkdirTemp("", "kubectl-gitops-promote-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		if err := e.Repo.Export(ctx, commit, tmp); err != nil {
			return "", err
		}
		dir := filepath.Join(tmp, filepath.FromSlash(env.Path))
		opts := manifest.Options{Filenames: []string{dir}, Recursive: true}
		if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
			opts = manifest.Options{Kustomize: dir}
		}
		set, err := manifest.Load(ctx, opts)
		if err != nil {
			return "", fmt.Errorf("reading %s at %s: %w", env.Path, short(commit), err)
		}
		desired := make([]compare.Desired, 0, len(set.Objects))
		for _, obj := range set.Objects {
			desired = append(desired, compare.Desired{Object: obj.Obj, Source: strings.TrimPrefix(obj.Source.String(), tmp+string(filepath.Separator))})
		}
		rules := ignore.Builtin()
		if extra, err := ignore.LoadFile(filepath.Join(tmp, driftIgnoreFile)); err == nil {
			rules = rules.Merge(extra)
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		r, err := e.Cluster(ctx, env)
		if err != nil {
			return "", fmt.Errorf("connecting to the cluster of %s: %w", env.Name, err)
		}
		reader, ok := r.(*cluster.Client)
		if !ok {
			return "", fmt.Errorf("drift check needs a cluster client")
		}
		engine := &compare.Engine{Reader: reader, Applier: reader}
		rep, err := engine.Run(ctx, desired, compare.Options{Mode: compare.ModeLocal, Namespace: env.Namespace, Ignore: rules, Concurrency: 16})
		if err != nil {
			return "", err
		}
		var drifted []string
		errs := 0
		for i := range rep.Objects {
			o := &rep.Objects[i]
			if o.Status == compare.StatusError {
				errs++
				drifted = append(drifted, fmt.Sprintf("%s %s: error: %s", o.Kind, name(o), o.Reason))
				continue
			}
			if o.Drifted() {
				drifted = append(drifted, fmt.Sprintf("%s %s %s", o.Kind, name(o), o.Status))
			}
		}
		if len(drifted) == 0 {
			return "", nil
		}
		shown := drifted
		if len(shown) > 3 {
			shown = append(shown[:3:3], fmt.Sprintf("and %d more", len(drifted)-3))
		}
		return fmt.Sprintf("%d %s drift from Git (kubectl gitops drift -k %s): %s", len(drifted), plural(len(drifted), "object", "objects"), env.Path, strings.Join(shown, "; ")), nil
	}
}

func name(o *compare.ObjectReport) string {
	if o.Namespace == "" {
		return o.Name
	}
	return o.Namespace + "/" + o.Name
}
