package promoter

import (
	"context"
	"fmt"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
)

// gates checks, for every step, that the version runs healthy in the source
// environment (and has soaked), the required checks passed on the source
// commit, and the source environment does not drift.
func (e *Engine) gates(ctx context.Context, steps []promotion.Step, to *promotion.Environment, opts Options) ([]Gate, error) {
	var gates []Gate
	driftChecked := map[string]bool{}
	for _, s := range steps {
		from, _ := e.Pipeline.Env(s.From)
		from, err := e.liveEnv(ctx, from)
		if err != nil {
			return gates, err
		}
		app := mustApp(e.Pipeline, s.App)
		commit, err := e.sourceCommit(ctx, from, app)
		if err != nil {
			return gates, err
		}
		g, res, err := e.healthGate(ctx, from, app, s.New, commit)
		if err != nil {
			return gates, err
		}
		gates = append(gates, g)
		if to.Soak > 0 {
			sg := Gate{App: s.App, Env: from.Name, Name: "soak", Passed: res.Soaked(to.Soak, e.now())}
			if sg.Passed {
				sg.Detail = fmt.Sprintf("healthy since %s (soak %s)", res.Since.UTC().Format(time.RFC3339), to.Soak)
			} else if res.Healthy && !res.Since.IsZero() {
				sg.Detail = fmt.Sprintf("healthy for %s only, %s needs %s", e.now().Sub(res.Since).Round(time.Second), to.Name, to.Soak)
			} else {
				sg.Detail = fmt.Sprintf("not known to be healthy for %s", to.Soak)
			}
			gates = append(gates, sg)
		}
		if len(to.RequiredChecks) > 0 {
			cg, err := e.checksGate(ctx, s.App, from, commit, to.RequiredChecks)
			if err != nil {
				return gates, err
			}
			gates = append(gates, cg)
		}
		if e.Drift != nil && !driftChecked[from.Name] {
			driftChecked[from.Name] = true
			dg := Gate{App: s.App, Env: from.Name, Name: "drift", Passed: true, Detail: "in sync with Git"}
			head, err := e.Repo.RevParse(ctx, e.ref(from))
			if err != nil {
				return gates, err
			}
			summary, err := e.Drift(ctx, from, head)
			if err != nil {
				return gates, fmt.Errorf("checking drift in %s: %w", from.Name, err)
			}
			if summary != "" {
				dg.Detail = summary
				dg.Passed = opts.AllowDrift
				if opts.AllowDrift {
					dg.Detail += " (allowed by --allow-drift)"
				}
			}
			gates = append(gates, dg)
		}
	}
	return gates, nil
}

// liveEnv returns env with its namespace filled from DefaultNamespace when
// it sets none: a copy, the pipeline is not changed.
func (e *Engine) liveEnv(ctx context.Context, env *promotion.Environment) (*promotion.Environment, error) {
	if env.Namespace != "" || e.DefaultNamespace == nil {
		return env, nil
	}
	ns, err := e.DefaultNamespace(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("finding the namespace of %s: %w", env.Name, err)
	}
	c := *env
	c.Namespace = ns
	return &c, nil
}
