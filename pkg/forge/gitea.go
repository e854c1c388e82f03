package forge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// giteaClient speaks the Gitea (and Forgejo) REST API v1.
type giteaClient struct{ *api }

// giteaPageSize is Gitea's default MAX_RESPONSE_ITEMS.
const giteaPageSize = 50

func (c *giteaClient) repoPath() string {
	return "/repos/" + url.PathEscape(c.repo.Owner) + "/" + url.PathEscape(c.repo.Name)
}

type giteaPull struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	Head    struct {
		Ref string `json:"ref"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

// OpenPullRequest: POST /repos/{owner}/{repo}/pulls; Gitea answers 409 when
// an unmerged one exists for head and base, which is then found among the
// open pulls (GET /repos/{owner}/{repo}/pulls?state=open). Labels are
// looked up by name (GET .../labels), created when missing (POST
// .../labels) and added by id (POST .../issues/{index}/labels).
func (c *giteaClient) OpenPullRequest(ctx context.Context, opts PROptions) (PullRequest, error) {
	op := prOp(c.repo, opts)
	if err := checkPR(opts); err != nil {
		return PullRequest{}, fmt.Errorf("%s: %w", op, err)
	}
	var pr giteaPull
	_, err := c.do(ctx, http.MethodPost, c.repoPath()+"/pulls", nil, map[string]any{
		"head":  opts.Head,
		"base":  opts.Base,
		"title": opts.Title,
		"body":  opts.Body,
	}, &pr)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusConflict {
		existing, ok, lerr := c.findOpen(ctx, opts)
		if lerr != nil {
			return PullRequest{}, fmt.Errorf("%s: %w (looking for an open one: %w)", op, err, lerr)
		}
		if ok {
			return existing, nil
		}
	}
	if err != nil {
		return PullRequest{}, fmt.Errorf("%s: %w", op, err)
	}
	out := PullRequest{Number: pr.Number, URL: pr.HTMLURL}
	if len(opts.Labels) > 0 {
		if err := c.label(ctx, pr.Number, opts.Labels); err != nil {
			return out, fmt.Errorf("gitea: labelling pull request %s#%d: %w", c.repo.FullName(), pr.Number, err)
		}
	}
	return out, nil
}

func (c *giteaClient) findOpen(ctx context.Context, opts PROptions) (PullRequest, bool, error) {
	var found *PullRequest
	err := c.pages(ctx, c.repoPath()+"/pulls", url.Values{"state": {"open"}}, "limit", giteaPageSize, func(page []byte) (int, error) {
		var pulls []giteaPull
		if err := json.Unmarshal(page, &pulls); err != nil {
			return 0, err
		}
		for _, p := range pulls {
			if found == nil && p.Head.Ref == opts.Head && p.Base.Ref == opts.Base {
				found = &PullRequest{Number: p.Number, URL: p.HTMLURL, Existing: true}
			}
		}
		if found != nil {
			return 0, nil
		}
		return len(pulls), nil
	})
	if err != nil || found == nil {
		return PullRequest{}, false, err
	}
	return *found, true, nil
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
