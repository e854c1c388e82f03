package forge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PROptions describe a pull (merge) request from a branch of the repository
// into another branch of the same repository.
type PROptions struct {
	Head   string // source branch, e.g. promote/prod/web-1.2.3
	Base   string // target branch, e.g. main
	Title  string
	Body   string
	Labels []string // created on the forge when missing; applied only when the request is opened
}

// PullRequest is an open pull (merge) request.
type PullRequest struct {
	Number int    // GitHub/Gitea number, GitLab iid
	URL    string // web page
	// Existing is true when an open request for the same head and base was
	// found instead of opening a new one.
	Existing bool
}

// Normalised commit states, the values of CommitStatuses' map.
const (
	StateSuccess = "success"
	StatePending = "pending"
	StateFailure = "failure"
	StateError   = "error"
)

// Client talks to one repository on a forge.
type Client interface {
	// OpenPullRequest opens a pull request from opts.Head into opts.Base,
	// or returns the open one that already exists for them (Existing true).
	// When labelling a newly opened request fails, the request is returned
	// along with the error.
	OpenPullRequest(ctx context.Context, opts PROptions) (PullRequest, error)
	// CommitStatuses returns the state of each status context (GitHub
	// also: each check run's name) reported on the commit sha, normalised
	// to StateSuccess, StatePending, StateFailure or StateError. When a
	// name is reported more than once the worst state wins.
	CommitStatuses(ctx context.Context, sha string) (map[string]string, error)
}

// New returns a client for repo using token (may be empty for anonymous
// reads). httpClient nil means a client with a 30 s timeout. Redirects to
// another host are refused, so the token never leaves the forge.
func New(repo Repo, token string, httpClient *http.Client) Client {
	hc := &http.Client{Timeout: 30 * time.Second}
	if httpClient != nil {
		c := *httpClient
		hc = &c
	}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && req.URL.Host != via[0].URL.Host {
			return fmt.Errorf("refusing redirect to another host (%s)", req.URL.Host)
		}
		// The token header goes along: never over plain HTTP after HTTPS.
		if len(via) > 0 && via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refusing redirect from https to %s", req.URL.Scheme)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	a := &api{repo: repo, token: token, hc: hc}
	switch repo.Kind {
	case GitHub:
		return &githubClient{a}
	case GitLab:
		return &gitlabClient{a}
	default:
		return &giteaClient{a}
	}
}

// APIError is a forge's non-2xx answer. Callers find it with errors.As, e.g.
// to tell a bad token (401) from a missing repository (404).
type APIError struct {
	StatusCode int
	Message    string // from the forge's JSON error body, if any
}

func (e *APIError) Error() string {
	s := strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// api is the HTTP plumbing shared by the three clients.
type api struct {
	repo  Repo
	token string
	hc    *http.Client
}

// maxPages bounds pagination (a runaway server cannot loop us forever).
const maxPages = 50

// do sends a JSON request to path (relative to the API root, already
// escaped) and decodes a 2xx JSON answer into out (when non-nil).
func (a *api) do(ctx context.Context, method, path string, query url.Values, in, out any) (http.Header, error) {
	u := a.repo.APIBase + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "kubectl-gitops")
	switch a.repo.Kind {
	case GitHub:
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		if a.token != "" {
			req.Header.Set("Authorization", "Bearer "+a.token)
		}
	case GitLab:
		req.Header.Set("Accept", "application/json")
		if a.token != "" {
			req.Header.Set("PRIVATE-TOKEN", a.token)
		}
	default:
		req.Header.Set("Accept", "application/json")
		if a.token != "" {
			req.Header.Set("Authorization", "token "+a.token)
		}
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, a.redact(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s response: %w", method, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, &APIError{StatusCode: resp.StatusCode, Message: a.redactString(errorMessage(data))}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.Header, fmt.Errorf("decoding %s %s response: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

// pages calls get for page 1, 2, ... while the answer's Link header has a
// rel="next" (all three forges send one) and get reports a full page.
func (a *api) pages(ctx context.Context, path string, query url.Values, sizeParam string, size int, get func(page []byte) (int, error)) error {
	for page := 1; page <= maxPages; page++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set(sizeParam, strconv.Itoa(size))
		q.Set("page", strconv.Itoa(page))
		var raw json.RawMessage
		h, err := a.do(ctx, http.MethodGet, path, q, nil, &raw)
		if err != nil {
			return err
		}
		n, err := get(raw)
		if err != nil {
			return fmt.Errorf("decoding GET %s response: %w", path, err)
		}
		if n == 0 || !hasNext(h) {
			return nil
		}
	}
	return fmt.Errorf("GET %s: more than %d pages", path, maxPages)
}

var linkNext = regexp.MustCompile(`(?i)rel="?next"?`)

func hasNext(h http.Header) bool {
	for _, l := range h.Values("Link") {
		for _, part := range strings.Split(l, ",") {
			if linkNext.MatchString(part) {
				return true
			}
		}
	}
	return false
}

// redact removes the token from an error's text (a transport error quotes
// the URL, which never carries it, but be sure).
func (a *api) redact(err error) error {
	if a.token == "" || !strings.Contains(err.Error(), a.token) {
		return err
	}
	return errors.New(a.redactString(err.Error()))
}

func (a *api) redactString(s string) string {
	if a.token == "" {
		return s
	}
	return strings.ReplaceAll(s, a.token, "***")
}

// errorMessage pulls a human message out of a forge's error body:
// GitHub {"message","errors":[{"message"|"code","field"}]}, GitLab
// {"message": string|[]string|{field:[]string}} or {"error"}, Gitea
// {"message","errors":[]string}. Non-JSON bodies give their first line.
func errorMessage(body []byte) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		s := strings.TrimSpace(string(body))
		if s == "" || strings.HasPrefix(s, "<") {
			return ""
		}
		s, _, _ = strings.Cut(s, "\n")
		return truncate(s)
	}
	var parts []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		for _, p := range parts {
			if p == s {
				return
			}
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	add(flatten(m["message"]))
	add(flatten(m["error"]))
	add(flatten(m["error_description"]))
	if errs, ok := m["errors"].([]any); ok {
		for _, e := range errs {
			switch e := e.(type) {
			case map[string]any:
				if msg := flatten(e["message"]); msg != "" {
					add(msg)
					continue
				}
				add(strings.TrimSpace(fmt.Sprint(flatten(e["resource"]), " ", flatten(e["field"]), " ", flatten(e["code"]))))
			default:
				add(flatten(e))
			}
		}
	}
	return truncate(strings.Join(parts, ": "))
}

func flatten(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []any:
		var ss []string
		for _, e := range v {
			if s := flatten(e); s != "" {
				ss = append(ss, s)
			}
		}
		return strings.Join(ss, "; ")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var ss []string
		for _, k := range keys {
			ss = append(ss, k+" "+flatten(v[k]))
		}
		return strings.Join(ss, "; ")
	default:
		return fmt.Sprint(v)
	}
}

func truncate(s string) string {
	const max = 500
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// rank orders normalised states from best to worst.
var rank = map[string]int{StateSuccess: 0, StatePending: 1, StateFailure: 2, StateError: 3}

// record stores state for name, keeping the worse of two reports.
func record(m map[string]string, name, state string) {
	if old, ok := m[name]; ok && rank[old] >= rank[state] {
		return
	}
	m[name] = state
}

func checkPR(opts PROptions) error {
	switch {
	case opts.Head == "":
		return errors.New("no head branch")
	case opts.Base == "":
		return errors.New("no base branch")
	case opts.Head == opts.Base:
		return fmt.Errorf("head and base are the same branch %q", opts.Head)
	case opts.Title == "":
		return errors.New("no title")
	}
	return nil
}

func prOp(repo Repo, opts PROptions) string {
	what := "pull request"
	if repo.Kind == GitLab {
		what = "merge request"
	}
	return fmt.Sprintf("%s: opening %s %s %s → %s", repo.Kind, what, repo.FullName(), opts.Head, opts.Base)
}

func statusOp(repo Repo, sha string) string {
	return fmt.Sprintf("%s: reading commit statuses of %s at %s", repo.Kind, repo.FullName(), sha)
}
