package forge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeGitLab implements the documented GitLab REST v4 contract for one
// project, acme/platform/web (addressed by its URL-encoded path): merge
// requests and commit statuses. It serves at most two items per page.
type fakeGitLab struct {
	t     *testing.T
	token string

	mu       sync.Mutex
	next     int
	mrs      []*glFakeMR
	statuses map[string][]map[string]any // sha → statuses
}

type glFakeMR struct {
	IID                        int
	SourceBranch, TargetBranch string
	Title, Description         string
	Labels                     string
}

const glProject = "/api/v4/projects/acme%2Fplatform%2Fweb"

func newFakeGitLab(t *testing.T) (*fakeGitLab, Repo) {
	f := &fakeGitLab{t: t, token: "glpat-fakeToken123", next: 3, statuses: map[string][]map[string]any{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, Repo{Kind: GitLab, APIBase: srv.URL + "/api/v4", WebBase: srv.URL, Owner: "acme", Name: "platform/web"}
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("PRIVATE-TOKEN") != f.token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	}
	if r.Header.Get("Authorization") != "" {
		f.t.Errorf("%s %s: unexpected Authorization header", r.Method, r.URL.Path)
	}
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), glProject)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Project Not Found"})
		return
	}
	switch {
	case r.Method == http.MethodPost && path == "/merge_requests":
		if r.Header.Get("Content-Type") != "application/json" {
			f.t.Errorf("create MR: Content-Type = %q", r.Header.Get("Content-Type"))
		}
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body is invalid"})
			return
		}
		for k := range in {
			switch k {
			case "source_branch", "target_branch", "title", "description", "labels", "remove_source_branch", "squash", "assignee_id", "target_project_id":
			default:
				f.t.Errorf("create MR: unknown field %q", k)
			}
		}
		str := func(k string) string { s, _ := in[k].(string); return s }
		if str("source_branch") == "" || str("target_branch") == "" || str("title") == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "source_branch, target_branch, title are missing"})
			return
		}
		if str("target_branch") == "gone" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": map[string]any{"target_branch": []any{"does not exist"}}})
			return
		}
		for _, m := range f.mrs {
			if m.SourceBranch == str("source_branch") {
				writeJSON(w, http.StatusConflict, map[string]any{"message": []any{fmt.Sprintf("Another open merge request already exists for this source branch: !%d", m.IID)}})
				return
			}
		}
		m := &glFakeMR{IID: f.next, SourceBranch: str("source_branch"), TargetBranch: str("target_branch"), Title: str("title"), Description: str("description"), Labels: str("labels")}
		f.next++
		f.mrs = append(f.mrs, m)
		writeJSON(w, http.StatusCreated, f.mrJSON(m))
	case r.Method == http.MethodGet && path == "/merge_requests":
		q := r.URL.Query()
		if q.Get("state") != "opened" {
			f.t.Errorf("list MRs: state = %q, want opened", q.Get("state"))
		}
		var out []map[string]any
		for _, m := range f.mrs {
			if (q.Get("source_branch") == "" || q.Get("source_branch") == m.SourceBranch) &&
				(q.Get("target_branch") == "" || q.Get("target_branch") == m.TargetBranch) {
				out = append(out, f.mrJSON(m))
			}
		}
		writeJSON(w, http.StatusOK, page(w, r, "per_page", out))
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/repository/commits/") && strings.HasSuffix(path, "/statuses"):
		sha := strings.TrimSuffix(strings.TrimPrefix(path, "/repository/commits/"), "/statuses")
		ss, ok := f.statuses[sha]
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Commit Not Found"})
			return
		}
		writeJSON(w, http.StatusOK, page(w, r, "per_page", ss))
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "404 Not Found"})
	}
}

func (f *fakeGitLab) mrJSON(m *glFakeMR) map[string]any {
	var labels []string
	if m.Labels != "" {
		labels = strings.Split(m.Labels, ",")
	}
	return map[string]any{
		"id": 1000 + m.IID, "iid": m.IID, "project_id": 9, "state": "opened", "title": m.Title,
		"description": m.Description, "source_branch": m.SourceBranch, "target_branch": m.TargetBranch,
		"labels": labels, "web_url": fmt.Sprintf("https://gitlab.com/acme/platform/web/-/merge_requests/%d", m.IID),
	}
}

func TestGitLabOpenPullRequest(t *testing.T) {
	t.Parallel()
	f, repo := newFakeGitLab(t)
	f.mrs = append(f.mrs, &glFakeMR{IID: 1, SourceBranch: "feature", TargetBranch: "main"})
	c := New(repo, f.token, nil)
	ctx := context.Background()
	opts := PROptions{Head: "promote/prod/web-1.2.3", Base: "main", Title: "promote(prod): web 1.2.2 → 1.2.3", Body: "Promoted-App: web", Labels: []string{"promotion", "env::prod"}}

	pr, err := c.OpenPullRequest(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := PullRequest{Number: 3, URL: "https://gitlab.com/acme/platform/web/-/merge_requests/3"}
	if diff := cmp.Diff(want, pr); diff != "" {
		t.Errorf("first OpenPullRequest (-want +got):\n%s", diff)
	}
	wantMR := glFakeMR{IID: 3, SourceBranch: opts.Head, TargetBranch: "main", Title: opts.Title, Description: opts.Body, Labels: "promotion,env::prod"}
	if diff := cmp.Diff(wantMR, *f.mrs[1]); diff != "" {
		t.Errorf("merge request on the forge (-want +got):\n%s", diff)
	}

	pr, err = c.OpenPullRequest(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	want.Existing = true
	if diff := cmp.Diff(want, pr); diff != "" {
		t.Errorf("second OpenPullRequest (-want +got):\n%s", diff)
	}

	// 409 for the same source branch into another target: no open one
	// matches head and base, so the forge's answer is the error.
	_, err = c.OpenPullRequest(ctx, PROptions{Head: opts.Head, Base: "release", Title: "t"})
	wantMsg := "gitlab: opening merge request acme/platform/web promote/prod/web-1.2.3 → release: 409 Conflict: Another open merge request already exists for this source branch: !3"
	if err == nil || err.Error() != wantMsg {
		t.Errorf("error =\n %v\nwant\n %s", err, wantMsg)
	}
}

func TestGitLabErrors(t *testing.T) {
	t.Parallel()
	f, repo := newFakeGitLab(t)
	ctx := context.Background()

	_, err := New(repo, f.token, nil).OpenPullRequest(ctx, PROptions{Head: "x", Base: "gone", Title: "t"})
	wantMsg := "gitlab: opening merge request acme/platform/web x → gone: 422 Unprocessable Entity: target_branch does not exist"
	if err == nil || err.Error() != wantMsg {
		t.Errorf("error =\n %v\nwant\n %s", err, wantMsg)
	}

	_, err = New(repo, "glpat-wrongToken999", nil).OpenPullRequest(ctx, PROptions{Head: "x", Base: "main", Title: "t"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad token: error = %v, want a 401 APIError", err)
	}
	if err != nil && strings.Contains(err.Error(), "glpat-wrongToken999") {
		t.Errorf("error leaks the token: %v", err)
	}

	other := repo
	other.Name = "web" // acme/web: not the fake's project
	_, err = New(other, f.token, nil).CommitStatuses(ctx, "abc")
	wantMsg = "gitlab: reading commit statuses of acme/web at abc: 404 Not Found: 404 Project Not Found"
	if err == nil || err.Error() != wantMsg {
		t.Errorf("error =\n %v\nwant\n %s", err, wantMsg)
	}
}

func TestGitLabCommitStatuses(t *testing.T) {
	t.Parallel()
	f, repo := newFakeGitLab(t)
	sha := "18f3e63d05582537db6d183d9d557be09e1f90c8"
	st := func(id int, name, status string) map[string]any {
		return map[string]any{"id": id, "sha": sha, "ref": "main", "name": name, "status": status, "allow_failure": false, "target_url": nil}
	}
	f.statuses[sha] = []map[string]any{
		st(1, "ci/test", "failed"), // retried below: the newest wins
		st(2, "ci/lint", "running"),
		st(3, "deploy", "canceled"),
		st(4, "docs", "skipped"),
		st(5, "approve", "manual"),
		st(6, "ci/test", "success"),
		st(7, "build", "created"),
		st(8, "e2e", "failed"),
		st(9, "odd", "exploded"),
	}
	got, err := New(repo, f.token, nil).CommitStatuses(context.Background(), sha)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ci/test": "success", "ci/lint": "pending", "deploy": "error", "docs": "success", "approve": "pending",
		"build": "pending", "e2e": "failure", "odd": "error",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CommitStatuses (-want +got):\n%s", diff)
	}
}
