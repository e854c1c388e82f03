package promote

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promoter"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
)

// driftCluster is what the drift gate needs of an environment's cluster:
// the drift engine in local mode reads live objects and the server's
// OpenAPI schemas (to refuse what the server would refuse to apply), and
// sends no write request, so it needs no Applier.
type driftCluster interface {
	cluster.Reader
	cluster.SchemaReader
}

// driftGate returns the drift gate: the drift engine in local mode (reads
// only) on the environment's directory at the commit, read as drift --repo
// --path reads it (pkg/desired), with the repository's ignore rules,
// against the cluster clusterFor opens for the environment.
func driftGate(e *promoter.Engine, clusterFor func(ctx context.Context, env *promotion.Environment) (driftCluster, error)) func(ctx context.Context, env *promotion.Environment, commit string) (string, error) {
	return func(ctx context.Context, env *promotion.Environment, commit string) (string, error) {
		tmp, err := os.MkdirTemp("", "kubectl-gitops-promote-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		if err := e.Repo.Export(ctx, commit, tmp); err != nil {
			return "", err
		}
		set, err := desired.Directory(ctx, tmp, env.Path)
		if err != nil {
			return "", fmt.Errorf("reading %s at %s: %w", env.Path, short(commit), err)
		}
		objs := desired.FromSet(set, nil, nil)
		rules, err := desired.LoadIgnore(tmp, "", true)
		if err != nil {
			return "", err
		}
		cl, err := clusterFor(ctx, env)
		if err != nil {
			return "", fmt.Errorf("connecting to the cluster of %s: %w", env.Name, err)
		}
		engine := &compare.Engine{Reader: cl}
		rep, err := engine.Run(ctx, objs, compare.Options{Mode: compare.ModeLocal, Namespace: env.Namespace, Ignore: rules, Concurrency: 16})
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
