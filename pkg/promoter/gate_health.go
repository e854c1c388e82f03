package promoter

import (
	"context"
	"fmt"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/health"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/versionedit"
)

// healthGate evaluates app's health target in env, expecting version and a
// deployment of commit (for Argo CD and Flux targets).
func (e *Engine) healthGate(ctx context.Context, env *promotion.Environment, app *promotion.Application, version, commit string) (Gate, health.Result, error) {
	g := Gate{App: app.Name, Env: env.Name, Name: "health"}
	h := app.Health.Expand(env)
	target, ok := healthTarget(h)
	if !ok {
		return g, health.Result{}, fmt.Errorf("gating %s from %s: %w: add health: to the application in %s, or pass --skip-gates", app.Name, env.Name, ErrNoHealth, e.Pipeline.File)
	}
	if e.Cluster == nil {
		return g, health.Result{}, fmt.Errorf("gating %s from %s: no cluster configured", app.Name, env.Name)
	}
	r, err := e.Cluster(ctx, env)
	if err != nil {
		return g, health.Result{}, fmt.Errorf("connecting to the cluster of %s: %w", env.Name, err)
	}
	expect := health.Expect{Version: version, Revision: commit, Contains: func(ctx context.Context, applied, want string) (bool, error) {
		return e.Repo.IsAncestor(ctx, want, applied)
	}}
	if target.Kind == health.Workload {
		expect.Revision = ""
		if img := kustomizeImage(app); img != "" {
			expect.Image = img
		}
	}
	// A chart version promoted through a HelmRelease, an OCIRepository tag
	// or a HelmChart is what the release records in history[0].chartVersion
	// (an OCIRepository digest is not: it keeps the revision check).
	if v := app.Versions[0]; target.Kind == health.FluxHelmRelease && (v.HelmReleaseChart || v.HelmChart || v.OCIRepository && !versionedit.IsDigest(version)) {
		expect.ChartVersion = true
		expect.Revision = ""
	}
	// An OCIRepository's tag or digest promoted to a Kustomization that
	// reads the artifact: its applied revision is "<tag>@sha256:<hex>",
	// compared with the version, not with a Git commit.
	if v := app.Versions[0]; target.Kind == health.FluxKustomization && v.OCIRepository {
		expect.Artifact = true
	}
	res, err := health.Evaluate(ctx, r, target, expect, e.now())
	if err != nil {
		return g, res, fmt.Errorf("gating %s from %s: %w", app.Name, env.Name, err)
	}
	g.Passed = res.Deployed && res.Healthy
	switch {
	case g.Passed:
		g.Detail = fmt.Sprintf("%s runs %s, healthy", res.Object, version)
		if !res.Since.IsZero() {
			g.Detail += " since " + res.Since.UTC().Format(time.RFC3339)
		}
	case !res.Deployed:
		g.Detail = fmt.Sprintf("%s is not running %s: %s", res.Object, version, res.Reason)
	default:
		g.Detail = fmt.Sprintf("%s runs %s but is not healthy: %s", res.Object, version, res.Reason)
	}
	return g, res, nil
}

func kustomizeImage(app *promotion.Application) string {
	for _, l := range app.Versions {
		if l.KustomizeImage != "" {
			return l.KustomizeImage
		}
	}
	return ""
}

func healthTarget(h promotion.Health) (health.Target, bool) {
	switch {
	case h.Workload != nil:
		return health.Target{Kind: health.Workload, WorkloadKind: h.Workload.Kind, Namespace: h.Workload.Namespace, Name: h.Workload.Name}, true
	case h.ArgoCD != nil:
		return health.Target{Kind: health.ArgoCDApplication, Namespace: h.ArgoCD.Namespace, Name: h.ArgoCD.Name}, true
	case h.FluxKustomization != nil:
		return health.Target{Kind: health.FluxKustomization, Namespace: h.FluxKustomization.Namespace, Name: h.FluxKustomization.Name}, true
	case h.FluxHelmRelease != nil:
		return health.Target{Kind: health.FluxHelmRelease, Namespace: h.FluxHelmRelease.Namespace, Name: h.FluxHelmRelease.Name}, true
	}
	return health.Target{}, false
}
