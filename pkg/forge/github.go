package forge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// githubClient speaks the GitHub REST API (version 2022-11-28).
type githubClient struct{ *api }

func (c *githubClient) pulls() *pullsAPI {
	return &pullsAPI{api: c.api, forge: "github", exists: http.StatusUnprocessableEntity,
		query: func(opts PROptions) url.Values {
			return url.Values{"state": {"open"}, "head": {c.repo.Owner + ":" + opts.Head}, "base": {opts.Base}}
		},
		sizeParam: "per_page", size: 100,
		label: func(ctx context.Context, number int, names []string) error {
			path := c.repoPath() + "/issues/" + strconv.Itoa(number) + "/labels"
			_, err := c.do(ctx, http.MethodPost, path, nil, map[string]any{"labels": names}, nil)
			return err
		},
	}
}

func (c *githubClient) repoPath() string { return ownerRepoPath(c.repo) }

// OpenPullRequest: POST /repos/{owner}/{repo}/pulls; GitHub answers 422
// when one is already open for head and base, which is then looked up with
// GET /repos/{owner}/{repo}/pulls?state=open&head=owner:branch&base=.
// Labels go through POST /repos/{owner}/{repo}/issues/{number}/labels
// (which creates missing labels).
func (c *githubClient) OpenPullRequest(ctx context.Context, opts PROptions) (PullRequest, error) {
	return c.pulls().open(ctx, opts)
}

// CommitStatuses merges the combined status (GET
// /repos/{owner}/{repo}/commits/{ref}/status: the latest status of each
// context) with the check runs (GET .../commits/{ref}/check-runs, latest
// run of each name).
func (c *githubClient) CommitStatuses(ctx context.Context, sha string) (map[string]string, error) {
	op := statusOp(c.repo, sha)
	out := map[string]string{}
	base := c.repoPath() + "/commits/" + url.PathEscape(sha)
	err := c.pages(ctx, base+"/status", nil, "per_page", 100, func(page []byte) (int, error) {
		var combined struct {
			Statuses []struct {
				Context string `json:"context"`
				State   string `json:"state"`
			} `json:"statuses"`
		}
		if err := json.Unmarshal(page, &combined); err != nil {
			return 0, err
		}
		for _, s := range combined.Statuses {
			record(out, s.Context, githubState(s.State))
		}
		return len(combined.Statuses), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	err = c.pages(ctx, base+"/check-runs", nil, "per_page", 100, func(page []byte) (int, error) {
		var runs struct {
			CheckRuns []struct {
				Name       string  `json:"name"`
				Status     string  `json:"status"`
				Conclusion *string `json:"conclusion"`
			} `json:"check_runs"`
		}
		if err := json.Unmarshal(page, &runs); err != nil {
			return 0, err
		}
		for _, r := range runs.CheckRuns {
			conclusion := ""
			if r.Conclusion != nil {
				conclusion = *r.Conclusion
			}
			record(out, r.Name, githubCheckState(r.Status, conclusion))
		}
		return len(runs.CheckRuns), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: check runs: %w", op, err)
	}
	return out, nil
}

// githubState maps a commit status state (error, failure, pending, success).
func githubState(s string) string {
	switch s {
	case "success":
		return StateSuccess
	case "pending":
		return StatePending
	case "failure":
		return StateFailure
	}
	return StateError
}

// githubCheckState maps a check run: not completed is pending; success,
// neutral and skipped pass (as GitHub's required checks treat them);
// cancelled and stale are errors; anything else fails.
func githubCheckState(status, conclusion string) string {
	if status != "completed" {
		return StatePending
	}
	switch conclusion {
	case "success", "neutral", "skipped":
		return StateSuccess
	case "cancelled", "stale":
		return StateError
	case "":
		return StatePending
	}
	return StateFailure
}
