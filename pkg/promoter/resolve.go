package promoter

import (
	"context"
	"errors"
	"fmt"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/health"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/versionedit"
)

// ErrUnresolved is a semver range in the source that Options.ResolveRange
// could not turn into the version the source runs.
var ErrUnresolved = errors.New("cannot resolve the range")

// resolveRanges replaces, in current, each semver range the source of req
// holds for a requested application (every one when req names none) with
// the chart version the source environment runs (resolveRange). Only the
// source's ranges are resolved: a range in the target is still refused by
// planning.
func (e *Engine) resolveRanges(ctx context.Context, current promotion.Versions, req promotion.Request) error {
	to, ok := e.Pipeline.Env(req.To)
	if !ok {
		return nil // planning reports it
	}
	from, ok := e.Pipeline.Source(to.Name)
	if req.From != "" {
		from, ok = e.Pipeline.Env(req.From)
	}
	if !ok {
		return nil
	}
	names := req.Apps
	if len(names) == 0 {
		names = e.Pipeline.AppNames()
	}
	for _, name := range names {
		app, ok := e.Pipeline.App(name)
		rng := current.Get(from.Name, name)
		if !ok || !versionedit.IsRange(rng) {
			continue
		}
		v, object, err := e.resolveRange(ctx, from, app, rng)
		if err != nil {
			return err
		}
		e.logf("resolved %s's range %s in %s to %s, the chart version %s runs", name, rng, from.Name, v, object)
		current[from.Name][name] = v
	}
	return nil
}

// resolveRange is the version a range resolved to in env: the chart version
// of the application's Flux HelmRelease (status.history[0].chartVersion, as
// the health gate reads it), accepted only when the release is healthy
// (Ready for its current generation, its latest release deployed) and the
// version lies in the range, so that it is what Git's range produced there
// and not a leftover of an earlier spec.
func (e *Engine) resolveRange(ctx context.Context, env *promotion.Environment, app *promotion.Application, rng string) (version, object string, err error) {
	fail := func(format string, args ...any) (string, string, error) {
		return "", "", fmt.Errorf("resolving %s's range %q in %s: %w: %s", app.Name, rng, env.Name, ErrUnresolved, fmt.Sprintf(format, args...))
	}
	h := app.Health.Expand(env)
	if h.FluxHelmRelease == nil {
		return fail("only a Flux HelmRelease records the chart version a range resolved to; set health.fluxHelmRelease for %s in %s, or give the version with --version", app.Name, e.Pipeline.File)
	}
	if e.Cluster == nil {
		return fail("no cluster configured")
	}
	target, _ := healthTarget(h)
	r, err := e.Cluster(ctx, env)
	if err != nil {
		return "", "", fmt.Errorf("connecting to the cluster of %s: %w", env.Name, err)
	}
	res, err := health.Evaluate(ctx, r, target, health.Expect{}, e.now())
	if err != nil {
		return "", "", fmt.Errorf("resolving %s's range %q in %s: %w", app.Name, rng, env.Name, err)
	}
	switch {
	case !res.Healthy:
		return fail("%s", res.Reason)
	case !versionedit.InRange(res.LiveVersion, rng):
		return fail("%s runs chart version %s, outside the range: it has not reconciled the range in Git yet", res.Object, res.LiveVersion)
	}
	if err := promotion.ValidVersion(res.LiveVersion); err != nil {
		return fail("%s: %v", res.Object, err)
	}
	return res.LiveVersion, res.Object, nil
}
