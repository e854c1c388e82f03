package forge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeGitHub implements the documented GitHub REST contract (API version
// 2022-11-28) for one repository, acme/web: pulls, issue labels, combined
// commit status and check runs. It serves at most two items per page so
// that clients must follow the Link header.
type fakeGitHub struct {
	t     *testing.T
	token string

	mu        sync.Mutex
	next      int
	pulls     []*ghFakePull
	statuses  map[string][]map[string]any // sha → statuses
	checkRuns map[string][]map[string]any // sha → check runs
	calls     []string
}

type ghFakePull struct {
	Number     int
	Head, Base string
	Title      string
	Body       string
	Labels     []string
}

func newFakeGitHub(t *testing.T) (*fakeGitHub, Repo) {
	f := &fakeGitHub{t: t, token: "ghp_fakeToken123", next: 42, statuses: map[string][]map[string]any{}, checkRuns: map[string][]map[string]any{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, Repo{Kind: GitHub, APIBase: srv.URL, WebBase: "https://github.com", Owner: "acme", Name: "web"}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// page serves items[(page-1)*size:...] with a Link header when more remain.
func page[T any](w http.ResponseWriter, r *http.Request, sizeParam string, items []T) []T {
	size, _ := strconv.Atoi(r.URL.Query().Get(sizeParam))
	if size <= 0 || size > 2 {
		size = 2
	}
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if p < 1 {
		p = 1
	}
	lo, hi := min((p-1)*size, len(items)), min(p*size, len(items))
	if hi < len(items) {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p+1))
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?%s>; rel="next"`, r.Host, r.URL.Path, q.Encode()))
		w.Header().Set("X-Next-Page", strconv.Itoa(p+1))
	}
	return items[lo:hi]
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if got := r.Header.Get("Authorization"); got != "Bearer "+f.token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
		return
	}
	if got := r.Header.Get("Accept"); got != "application/vnd.github+json" {
		f.t.Errorf("%s %s: Accept = %q", r.Method, r.URL.Path, got)
	}
	if got := r.Header.Get("X-GitHub-Api-Version"); got != "2022-11-28" {
		f.t.Errorf("%s %s: X-GitHub-Api-Version = %q", r.Method, r.URL.Path, got)
	}
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("%s %s: Content-Type = %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	const repo = "/repos/acme/web"
	path, ok := strings.CutPrefix(r.URL.Path, repo)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	switch {
	case r.Method == http.MethodPost && path == "/pulls":
		f.createPull(w, r)
	case r.Method == http.MethodGet && path == "/pulls":
		q := r.URL.Query()
		if q.Get("state") != "open" {
			f.t.Errorf("list pulls: state = %q, want open", q.Get("state"))
		}
		var out []map[string]any
		for _, p := range f.pulls {
			if (q.Get("head") == "" || q.Get("head") == "acme:"+p.Head) && (q.Get("base") == "" || q.Get("base") == p.Base) {
				out = append(out, f.pullJSON(p))
			}
		}
		writeJSON(w, http.StatusOK, page(w, r, "per_page", out))
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/issues/") && strings.HasSuffix(path, "/labels"):
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/issues/"), "/labels"))
		var in struct {
			Labels []string `json:"labels"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Labels) == 0 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Invalid request.\n\nNo labels given."})
			return
		}
		for _, p := range f.pulls {
			if p.Number == n {
				p.Labels = append(p.Labels, in.Labels...)
				var out []map[string]any
				for _, l := range p.Labels {
					out = append(out, map[string]any{"name": l, "color": "ededed"})
				}
				writeJSON(w, http.StatusOK, out)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/commits/") && strings.HasSuffix(path, "/status"):
		sha := strings.TrimSuffix(strings.TrimPrefix(path, "/commits/"), "/status")
		ss, ok := f.statuses[sha]
		if !ok {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "No commit found for SHA: " + sha})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"state": "pending", "sha": sha, "total_count": len(ss), "statuses": page(w, r, "per_page", ss)})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/commits/") && strings.HasSuffix(path, "/check-runs"):
		sha := strings.TrimSuffix(strings.TrimPrefix(path, "/commits/"), "/check-runs")
		runs := f.checkRuns[sha]
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": page(w, r, "per_page", runs)})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
}

func (f *fakeGitHub) createPull(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Problems parsing JSON"})
		return
	}
	for k := range in {
		switch k {
		case "title", "head", "base", "body", "head_repo", "maintainer_can_modify", "draft", "issue":
		default:
			f.t.Errorf("create pull: unknown field %q", k)
		}
	}
	str := func(k string) string { s, _ := in[k].(string); return s }
	head, base := str("head"), str("base")
	if head == "" || base == "" || str("title") == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
			"errors": []any{map[string]any{"resource": "PullRequest", "field": "head", "code": "missing_field"}}})
		return
	}
	if head == "no-commits" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
			"errors":            []any{map[string]any{"resource": "PullRequest", "code": "custom", "message": "No commits between " + base + " and " + head}},
			"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"})
		return
	}
	for _, p := range f.pulls {
		if p.Head == head && p.Base == base {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
				"errors":            []any{map[string]any{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for acme:" + head + "."}},
				"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"})
			return
		}
	}
	p := &ghFakePull{Number: f.next, Head: head, Base: base, Title: str("title"), Body: str("body")}
	f.next++
	f.pulls = append(f.pulls, p)
	writeJSON(w, http.StatusCreated, f.pullJSON(p))
}

func (f *fakeGitHub) pullJSON(p *ghFakePull) map[string]any {
	return map[string]any{
		"id":       1000 + p.Number,
		"number":   p.Number,
		"state":    "open",
		"title":    p.Title,
		"html_url": fmt.Sprintf("https://github.com/acme/web/pull/%d", p.Number),
		"url":      fmt.Sprintf("https://api.github.com/repos/acme/web/pulls/%d", p.Number),
		"head":     map[string]any{"ref": p.Head, "label": "acme:" + p.Head, "sha": "0123"},
		"base":     map[string]any{"ref": p.Base, "label": "acme:" + p.Base, "sha": "4567"},
	}
}

func TestGitHubOpenPullRequest(t *testing.T) {
	t.Parallel()
	f, repo := newFakeGitHub(t)
	// An unrelated open pull the lookup must not pick.
	f.pulls = append(f.pulls, &ghFakePull{Number: 7, Head: "feature", Base: "main"})
	c := New(repo, f.token, nil)
	ctx := context.Background()
	opts := PROptions{Head: "promote/prod/web-1.2.3", Base: "main", Title: "promote(prod): web 1.2.2 → 1.2.3", Body: "Promoted-App: web", Labels: []string{"promotion", "env/prod"}}

	pr, err := c.OpenPullRequest(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := PullRequest{Number: 42, URL: "https://github.com/acme/web/pull/42"}
	if diff := cmp.Diff(want, pr); diff != "" {
		t.Errorf("first OpenPullRequest (-want +got):\n%s", diff)
	}
	got := *f.pulls[1]
	wantPull := ghFakePull{Number: 42, Head: opts.Head, Base: "main", Title: opts.Title, Body: opts.Body, Labels: opts.Labels}
	if diff := cmp.Diff(wantPull, got); diff != "" {
		t.Errorf("pull on the forge (-want +got):\n%s", diff)
	}

	pr, err = c.OpenPullRequest(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	want.Existing = true
	if diff := cmp.Diff(want, pr); diff != "" {
		t.Errorf("second OpenPullRequest (-want +got):\n%s", diff)
	}
	if len(f.pulls) != 2 {
		t.Errorf("forge has %d pulls, want 2", len(f.pulls))
	}
}

func TestGitHubErrors(t *testing.T) {
	t.Parallel()
	f, repo := newFakeGitHub(t)
	ctx := context.Background()

	_, err := New(repo, f.token, nil).OpenPullRequest(ctx, PROptions{Head: "no-commits", Base: "main", Title: "t"})
	wantMsg := "github: opening pull request acme/web no-commits → main: 422 Unprocessable Entity: Validation Failed: No commits between main and no-commits"
	if err == nil || err.Error() != wantMsg {
		t.Errorf("error =\n %v\nwant\n %s", err, wantMsg)
	}

	_, err = New(repo, "ghp_wrongToken999", nil).CommitStatuses(ctx, "abc")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Message != "Bad credentials" {
		t.Errorf("bad token: error = %v, want a 401 APIError with the forge's message", err)
	}
	if err != nil && strings.Contains(err.Error(), "ghp_wrongToken999") {
		t.Errorf("error leaks the token: %v", err)
	}

	_, err = New(repo, f.token, nil).CommitStatuses(ctx, "unknown")
	wantMsg = "github: reading commit statuses of acme/web at unknown: 422 Unprocessable Entity: No commit found for SHA: unknown"
	if err == nil || err.Error() != wantMsg {
		t.Errorf("error =\n %v\nwant\n %s", err, wantMsg)
	}

	before := len(f.calls)
	for _, opts := range []PROptions{{Base: "main", Title: "t"}, {Head: "x", Title: "t"}, {Head: "main", Base: "main", Title: "t"}, {Head: "x", Base: "main"}} {
		if _, err := New(repo, f.token, nil).OpenPullRequest(ctx, opts); err == nil {
			t.Errorf("OpenPullRequest(%+v) succeeded, want an error", opts)
		}
	}
	if len(f.calls) != before {
		t.Errorf("invalid options reached the forge: %v", f.calls[before:])
	}
}

func TestGitHubCommitStatuses(t *testing.T) {
	t.Parallel()
	f, repo := newFakeGitHub(t)
	sha := "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	st := func(ctx, state string) map[string]any {
		return map[string]any{"context": ctx, "state": state, "description": "", "target_url": "https://ci.example.com"}
	}
	f.statuses[sha] = []map[string]any{
		st("ci/test", "success"), st("ci/lint", "pending"), st("deploy", "error"), st("legacy", "failure"), st("docs", "success"),
	}
	conclusion := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	run := func(name, status, c string) map[string]any {
		return map[string]any{"id": 4, "name": name, "status": status, "conclusion": conclusion(c), "head_sha": sha}
	}
	f.checkRuns[sha] = []map[string]any{
		run("build", "completed", "success"),
		run("e2e", "in_progress", ""),
		run("queued-job", "queued", ""),
		run("flaky", "completed", "cancelled"),
		run("optional", "completed", "skipped"),
		run("info", "completed", "neutral"),
		run("slow", "completed", "timed_out"),
		run("ci/test", "completed", "failure"), // same name as a status: the worse wins
	}
	got, err := New(repo, f.token, nil).CommitStatuses(context.Background(), sha)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ci/test": "failure", "ci/lint": "pending", "deploy": "error", "legacy": "failure", "docs": "success",
		"build": "success", "e2e": "pending", "queued-job": "pending", "flaky": "error", "optional": "success",
		"info": "success", "slow": "failure",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CommitStatuses (-want +got):\n%s", diff)
	}
}

func TestGitHubRefusesCrossHostRedirect(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") != "")
		writeJSON(w, http.StatusOK, map[string]any{"statuses": []any{}})
	}))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	repo := Repo{Kind: GitHub, APIBase: srv.URL, Owner: "acme", Name: "web"}
	_, err := New(repo, "ghp_tok", nil).CommitStatuses(context.Background(), "abc")
	if err == nil || !strings.Contains(err.Error(), "refusing redirect to another host") {
		t.Errorf("error = %v, want a refused redirect", err)
	}
	if leaked.Load() {
		t.Error("the token reached another host")
	}
}

func TestRefusesRedirectToPlainHTTP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	repo := Repo{Kind: GitLab, APIBase: srv.URL, Owner: "acme", Name: "web"}
	_, err := New(repo, "glpat-tok", srv.Client()).CommitStatuses(context.Background(), "abc")
	if err == nil || !strings.Contains(err.Error(), "refusing redirect from https to http") || strings.Contains(err.Error(), "glpat-tok") {
		t.Errorf("error = %v, want a refused redirect", err)
	}
}
