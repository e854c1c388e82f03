package forge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// gitlabClient speaks the GitLab REST API v4.
type gitlabClient struct{ *api }

// projectPath is /projects/:id with the id the URL-encoded full path.
func (c *gitlabClient) projectPath() string {
	return "/projects/" + url.PathEscape(c.repo.FullName())
}

type gitlabMR struct {
	IID          int    `json:"iid"`
	WebURL       string `json:"web_url"`
	SourceBranch string `json:"source_branch"`
	TargetBranch string `json:"target_branch"`
}

// OpenPullRequest: POST /projects/:id/merge_requests (labels as a
// comma-separated list, created when missing); GitLab answers 409 when an
// open merge request exists for the source branch, which is then looked up
// with GET /projects/:id/merge_requests?state=opened&source_branch=&target_branch=.
func (c *gitlabClient) OpenPullRequest(ctx context.Context, opts PROptions) (PullRequest, error) {
	op := prOp(c.repo, opts)
	if err := checkPR(opts); err != nil {
		return PullRequest{}, fmt.Errorf("%s: %w", op, err)
	}
	body := map[string]any{
		"source_branch": opts.Head,
		"target_branch": opts.Base,
		"title":         opts.Title,
		"description":   opts.Body,
	}
	if len(opts.Labels) > 0 {
		body["labels"] = strings.Join(opts.Labels, ",")
	}
	var mr gitlabMR
	_, err := c.do(ctx, http.MethodPost, c.projectPath()+"/merge_requests", nil, body, &mr)
	existing, ok, err := existingOnConflict(err, http.StatusConflict, func() (PullRequest, bool, error) {
		return c.findOpen(ctx, opts)
	})
	if err != nil {
		return PullRequest{}, fmt.Errorf("%s: %w", op, err)
	}
	if ok {
		return existing, nil
	}
	return PullRequest{Number: mr.IID, URL: mr.WebURL}, nil
}

func (c *gitlabClient) findOpen(ctx context.Context, opts PROptions) (PullRequest, bool, error) {
	q := url.Values{"state": {"opened"}, "source_branch": {opts.Head}, "target_branch": {opts.Base}}
	return findOpenPage(ctx, c.api, c.projectPath()+"/merge_requests", q, "per_page", 100, func(m gitlabMR) (PullRequest, bool) {
		return PullRequest{Number: m.IID, URL: m.WebURL, Existing: true}, m.SourceBranch == opts.Head && m.TargetBranch == opts.Base
	})
}

// CommitStatuses: GET /projects/:id/repository/commits/:sha/statuses (the
// latest status of each name; external statuses and CI jobs alike). When a
// name still appears more than once, the newest (highest id) wins.
func (c *gitlabClient) CommitStatuses(ctx context.Context, sha string) (map[string]string, error) {
	type status struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	latest := map[string]status{}
	path := c.projectPath() + "/repository/commits/" + url.PathEscape(sha) + "/statuses"
	err := c.pages(ctx, path, nil, "per_page", 100, func(page []byte) (int, error) {
		var ss []status
		if err := json.Unmarshal(page, &ss); err != nil {
			return 0, err
		}
		for _, s := range ss {
			if old, ok := latest[s.Name]; !ok || s.ID > old.ID {
				latest[s.Name] = s
			}
		}
		return len(ss), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", statusOp(c.repo, sha), err)
	}
	out := make(map[string]string, len(latest))
	for name, s := range latest {
		out[name] = gitlabState(s.Status)
	}
	return out, nil
}

// gitlabState maps a GitLab commit status / job status: success and skipped
// pass, failed fails, canceled is an error, the waiting and running states
// (created, pending, running, manual, scheduled, ...) are pending.
func gitlabState(s string) string {
	switch s {
	case "success", "skipped":
		return StateSuccess
	case "failed":
		return StateFailure
	case "canceled", "canceling":
		return StateError
	case "created", "waiting_for_resource", "preparing", "waiting_for_callback",
		"pending", "running", "manual", "scheduled":
		return StatePending
	}
	return StateError
}
