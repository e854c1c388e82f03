package promoter

import (
	"context"
	"fmt"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
)

func (e *Engine) checksGate(ctx context.Context, app string, from *promotion.Environment, commit string, required []string) (Gate, error) {
	g := Gate{App: app, Env: from.Name, Name: "checks"}
	if e.Forge == nil {
		return g, fmt.Errorf("checking required checks on %s: no forge configured", short(commit))
	}
	client, _, err := e.Forge(ctx)
	if err != nil {
		return g, fmt.Errorf("checking required checks on %s: %w", short(commit), err)
	}
	if client == nil {
		g.Detail = "required checks cannot be read without a forge token"
		return g, nil
	}
	states, err := client.CommitStatuses(ctx, commit)
	if err != nil {
		return g, fmt.Errorf("reading the checks of %s: %w", short(commit), err)
	}
	var bad []string
	for _, name := range required {
		st, ok := states[name]
		if !ok {
			st = "missing"
		}
		if st != forge.StateSuccess {
			bad = append(bad, name+"="+st)
		}
	}
	g.Passed = len(bad) == 0
	if g.Passed {
		g.Detail = fmt.Sprintf("%s passed on %s", strings.Join(required, ", "), short(commit))
	} else {
		g.Detail = fmt.Sprintf("required checks not passed on %s: %s", short(commit), strings.Join(bad, ", "))
	}
	return g, nil
}
