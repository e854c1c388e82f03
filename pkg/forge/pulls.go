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
	existing, ok, err := existingOnConflict(err, a.exists, func() (PullRequest, bool, error) {
		return a.findOpen(ctx, opts)
	})
	if err != nil {
		return PullRequest{}, fmt.Errorf("%s: %w", op, err)
	}
	if ok {
		return existing, nil
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
	return findOpenPage(ctx, a.api, a.repoPath()+"/pulls", a.query(opts), a.sizeParam, a.size, func(p pull) (PullRequest, bool) {
		return PullRequest{Number: p.Number, URL: p.HTMLURL, Existing: true}, p.Head.Ref == opts.Head && p.Base.Ref == opts.Base
	})
}

// existingOnConflict handles the error of creating a pull request: when it
// is the forge's answer (status exists) for head and base that already have
// an open one, find looks that one up and ok reports it was found; else err
// is returned as it is (with the failure of the lookup, if any, added).
func existingOnConflict(err error, exists int, find func() (PullRequest, bool, error)) (existing PullRequest, ok bool, _ error) {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != exists {
		return PullRequest{}, false, err
	}
	existing, ok, lerr := find()
	if lerr != nil {
		return PullRequest{}, false, fmt.Errorf("%w (looking for an open one: %w)", err, lerr)
	}
	if ok {
		return existing, true, nil
	}
	return PullRequest{}, false, err
}

// findOpenPage pages through a list of T at path and returns the first
// entry match accepts.
func findOpenPage[T any](ctx context.Context, a *api, path string, query url.Values, sizeParam string, size int, match func(T) (PullRequest, bool)) (PullRequest, bool, error) {
	var found *PullRequest
	err := a.pages(ctx, path, query, sizeParam, size, func(page []byte) (int, error) {
		var items []T
		if err := json.Unmarshal(page, &items); err != nil {
			return 0, err
		}
		for _, it := range items {
			if pr, ok := match(it); ok {
				found = &pr
				return 0, nil
			}
		}
		return len(items), nil
	})
	if err != nil || found == nil {
		return PullRequest{}, false, err
	}
	return *found, true, nil
}
