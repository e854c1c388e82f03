package forge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// giteaClient speaks the Gitea (and Forgejo) REST API v1.
type giteaClient struct{ *api }

// giteaPageSize is Gitea's default MAX_RESPONSE_ITEMS.
const giteaPageSize = 50

func (c *giteaClient) pulls() *pullsAPI {
	return &pullsAPI{api: c.api, forge: "gitea", exists: http.StatusConflict,
		query:     func(PROptions) url.Values { return url.Values{"state": {"open"}} },
		sizeParam: "limit", size: giteaPageSize,
		label: c.label,
	}
}

func (c *giteaClient) repoPath() string { return ownerRepoPath(c.repo) }

// OpenPullRequest: POST /repos/{owner}/{repo}/pulls; Gitea answers 409 when
// an unmerged one exists for head and base, which is then found among the
// open pulls (GET /repos/{owner}/{repo}/pulls?state=open). Labels are
// looked up by name (GET .../labels), created when missing (POST
// .../labels) and added by id (POST .../issues/{index}/labels).
func (c *giteaClient) OpenPullRequest(ctx context.Context, opts PROptions) (PullRequest, error) {
	return c.pulls().open(ctx, opts)
}

// labelColor is given to labels this package creates.
const labelColor = "#ededed"

func (c *giteaClient) label(ctx context.Context, number int, names []string) error {
	ids := map[string]int64{}
	err := c.pages(ctx, c.repoPath()+"/labels", nil, "limit", giteaPageSize, func(page []byte) (int, error) {
		var labels []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal(page, &labels); err != nil {
			return 0, err
		}
		for _, l := range labels {
			ids[l.Name] = l.ID
		}
		return len(labels), nil
	})
	if err != nil {
		return fmt.Errorf("listing labels: %w", err)
	}
	var add []int64
	for _, name := range names {
		id, ok := ids[name]
		if !ok {
			var created struct {
				ID int64 `json:"id"`
			}
			if _, err := c.do(ctx, http.MethodPost, c.repoPath()+"/labels", nil,
				map[string]any{"name": name, "color": labelColor}, &created); err != nil {
				return fmt.Errorf("creating label %q: %w", name, err)
			}
			id = created.ID
			ids[name] = id
		}
		add = append(add, id)
	}
	path := c.repoPath() + "/issues/" + strconv.Itoa(number) + "/labels"
	_, err = c.do(ctx, http.MethodPost, path, nil, map[string]any{"labels": add}, nil)
	return err
}

// CommitStatuses: GET /repos/{owner}/{repo}/commits/{ref}/status, the
// latest status of each context.
func (c *giteaClient) CommitStatuses(ctx context.Context, sha string) (map[string]string, error) {
	out := map[string]string{}
	path := c.repoPath() + "/commits/" + url.PathEscape(sha) + "/status"
	err := c.pages(ctx, path, nil, "limit", giteaPageSize, func(page []byte) (int, error) {
		var combined struct {
			Statuses []struct {
				Context string `json:"context"`
				Status  string `json:"status"`
				State   string `json:"state"` // older Forgejo/Gitea spellings
			} `json:"statuses"`
		}
		if err := json.Unmarshal(page, &combined); err != nil {
			return 0, err
		}
		for _, s := range combined.Statuses {
			st := s.Status
			if st == "" {
				st = s.State
			}
			record(out, s.Context, giteaState(st))
		}
		return len(combined.Statuses), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", statusOp(c.repo, sha), err)
	}
	return out, nil
}

// giteaState maps a Gitea commit status: skipped passes, warning fails (as
// Gitea's own combined state counts it).
func giteaState(s string) string {
	switch s {
	case "success", "skipped":
		return StateSuccess
	case "pending":
		return StatePending
	case "failure", "warning":
		return StateFailure
	}
	return StateError
}
