package forge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// pull is the pull request as GitHub and Gitea (whose API follows
// GitHub's) return it.
type pull struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	Head    struct {
		Ref string `json:"ref"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

// pullsAPI is what differs between GitHub's and Gitea's pull requests.
type pullsAPI struct {
	*api
	forge string // "github", "gitea": the prefix of errors
	// exists is the status answering a POST for head and base that already
	// have an open pull request (GitHub 422, Gitea 409).
	exists int
	// query narrows the lookup of the open pull request; sizeParam and
	// size are the page-size parameter.
	query     func(opts PROptions) url.Values
	sizeParam string
	size      int
	// label adds labels to a new pull request.
	label func(ctx context.Context, number int, names []string) error
}

func (a *pullsAPI) repoPath() string { return ownerRepoPath(a.repo) }

// ownerRepoPath is the API path of a repository on GitHub and Gitea.
func ownerRepoPath(r Repo) string {
	return "/repos/" + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Name)
}

// open creates the pull request (POST /repos/{owner}/{repo}/pulls) or,
// when one is already open for head and base, returns it; labels are added
// to a new one only.
func (a *pullsAPI) open(ctx context.Context, opts PROptions) (PullRequest, error) {
	op := prOp(a.repo, opts)
	if err := checkPR(opts); err != nil {
		return PullRequest{}, fmt.Errorf("%s: %w", op, err)
	}
	var pr pull
	_, err := a.do(ctx, http.MethodPost, a.repoPath()+"/pulls", nil, map[string]any{
		"title": opts.Title,
		"head":  opts.Head,
		"base":  opts.Base,
		"body":  opts.Body,
	}, &pr)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == a.exists {
		existing, ok, lerr := a.findOpen(ctx, opts)
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
		if err := a.label(ctx, pr.Number, opts.Labels); err != nil {
			return out, fmt.Errorf("%s: labelling pull request %s#%d: %w", a.forge, a.repo.FullName(), pr.Number, err)
		}
	}
	return out, nil
}

// findOpen looks the open pull request from head into base up.
func (a *pullsAPI) findOpen(ctx context.Context, opts PROptions) (PullRequest, bool, error) {
	var found *PullRequest
	err := a.pages(ctx, a.repoPath()+"/pulls", a.query(opts), a.sizeParam, a.size, func(page []byte) (int, error) {
		var pulls []pull
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
