package promoter

import (
	"context"
	"fmt"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
)

func (e *Engine) openPullRequest(ctx context.Context, out *Outcome, base string) error {
	if e.Forge == nil {
		return nil
	}
	client, repo, err := e.Forge(ctx)
	if err != nil {
		// The branch is pushed: the promotion is done, the pull request is
		// the user's to open.
		e.logf("warning: no pull request opened: %v", err)
		return nil
	}
	if client == nil {
		if repo.WebBase != "" {
			out.CompareURL = forge.CompareURL(repo, base, out.Branch)
		}
		return nil
	}
	body := out.Promotion.Message()
	if _, rest, ok := strings.Cut(body, "\n\n"); ok {
		body = rest
	}
	var gates []string
	for _, g := range out.Gates {
		gates = append(gates, fmt.Sprintf("- %s %s in %s: %s", g.Name, g.App, g.Env, g.Detail))
	}
	if len(gates) > 0 {
		body = "Gates:\n" + strings.Join(gates, "\n") + "\n\n" + body
	}
	pr, err := client.OpenPullRequest(ctx, forge.PROptions{Head: out.Branch, Base: base, Title: out.Promotion.Subject(), Body: body, Labels: []string{"promotion"}})
	if err != nil && pr.URL == "" {
		out.CompareURL = forge.CompareURL(repo, base, out.Branch)
		return fmt.Errorf("pushed %s; opening the pull request: %w", out.Branch, err)
	}
	out.PullRequest = &pr
	if err != nil {
		e.logf("warning: %v", err)
	}
	return nil
}
