package forge_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// TestGiteaReal runs the Gitea client against a real Gitea server: a
// repository pushed with real git over HTTP, a pull request opened twice,
// commit statuses reported through the API.
func TestGiteaReal(t *testing.T) {
	srv := gitea.Start(t)
	ctx := context.Background()
	cloneURL, webURL := srv.CreateRepo(t, "envs")

	work := t.TempDir()
	gitea.Git(t, work, "-c", "init.defaultBranch=main", "init", "-q")
	if err := os.WriteFile(filepath.Join(work, "kustomization.yaml"), []byte("images:\n- name: web\n  newTag: 1.2.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitea.Git(t, work, "add", ".")
	gitea.Git(t, work, "commit", "-q", "-m", "initial")
	gitea.Git(t, work, "push", "-q", cloneURL, "HEAD:refs/heads/main")
	head := "promote/prod/web-1.2.3"
	gitea.Git(t, work, "checkout", "-q", "-b", head)
	if err := os.WriteFile(filepath.Join(work, "kustomization.yaml"), []byte("images:\n- name: web\n  newTag: 1.2.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitea.Git(t, work, "commit", "-q", "-am", "promote(prod): web 1.2.2 → 1.2.3")
	gitea.Git(t, work, "push", "-q", cloneURL, "HEAD:refs/heads/"+head)
	sha := gitea.Git(t, work, "rev-parse", "HEAD")

	repo, err := forge.ParseRemote(cloneURL, forge.Config{Kind: forge.Gitea})
	if err != nil {
		t.Fatal(err)
	}
	wantRepo := forge.Repo{Kind: forge.Gitea, APIBase: srv.APIURL, WebBase: srv.URL, Owner: gitea.Admin, Name: "envs"}
	if diff := cmp.Diff(wantRepo, repo); diff != "" {
		t.Fatalf("ParseRemote (-want +got):\n%s", diff)
	}
	c := forge.New(repo, srv.Token, nil)

	t.Run("open pull request", func(t *testing.T) {
		opts := forge.PROptions{Head: head, Base: "main", Title: "promote(prod): web 1.2.2 → 1.2.3", Body: "Promoted-App: web", Labels: []string{"promotion"}}
		pr, err := c.OpenPullRequest(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if pr.Existing || pr.Number <= 0 || pr.URL != webURL+"/pulls/"+strconv.Itoa(pr.Number) {
			t.Fatalf("first OpenPullRequest = %+v, want a new pull at %s/pulls/<n>", pr, webURL)
		}
		var got struct {
			State string `json:"state"`
			Title string `json:"title"`
			Body  string `json:"body"`
			Head  struct {
				Ref string `json:"ref"`
				Sha string `json:"sha"`
			} `json:"head"`
			Base struct {
				Ref string `json:"ref"`
			} `json:"base"`
			Labels []struct {
				Name string `json:"name"`
			} `json:"labels"`
		}
		srv.API(t, http.MethodGet, "/repos/"+gitea.Admin+"/envs/pulls/"+strconv.Itoa(pr.Number), nil, &got)
		if got.State != "open" || got.Title != opts.Title || got.Body != opts.Body || got.Head.Ref != head ||
			got.Head.Sha != sha || got.Base.Ref != "main" || len(got.Labels) != 1 || got.Labels[0].Name != "promotion" {
			t.Errorf("pull on Gitea = %+v", got)
		}

		again, err := c.OpenPullRequest(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if want := (forge.PullRequest{Number: pr.Number, URL: pr.URL, Existing: true}); again != want {
			t.Errorf("second OpenPullRequest = %+v, want %+v", again, want)
		}
		var open []struct{}
		srv.API(t, http.MethodGet, "/repos/"+gitea.Admin+"/envs/pulls?state=open", nil, &open)
		if len(open) != 1 {
			t.Errorf("Gitea has %d open pulls, want 1", len(open))
		}
	})

	t.Run("compare URL", func(t *testing.T) {
		u := forge.CompareURL(repo, "main", head)
		if want := webURL + "/compare/main..." + head; u != want {
			t.Errorf("CompareURL = %s, want %s", u, want)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", u, resp.Status)
		}
	})

	t.Run("commit statuses", func(t *testing.T) {
		got, err := c.CommitStatuses(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("CommitStatuses before any report = %v, want none", got)
		}
		srv.SetCommitStatus(t, "envs", sha, "ci/test", "pending")
		srv.SetCommitStatus(t, "envs", sha, "ci/test", "success") // the latest wins
		srv.SetCommitStatus(t, "envs", sha, "ci/lint", "pending")
		srv.SetCommitStatus(t, "envs", sha, "ci/e2e", "warning")
		got, err = c.CommitStatuses(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"ci/test": forge.StateSuccess, "ci/lint": forge.StatePending, "ci/e2e": forge.StateFailure}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CommitStatuses (-want +got):\n%s", diff)
		}
	})

	t.Run("errors", func(t *testing.T) {
		const bad = "0123456789abcdef0123456789abcdef01234567"
		_, err := forge.New(repo, bad, nil).OpenPullRequest(ctx, forge.PROptions{Head: head, Base: "main", Title: "t"})
		var apiErr *forge.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad token: error = %v, want a 401 APIError", err)
		}
		if err != nil && strings.Contains(err.Error(), bad) {
			t.Errorf("error leaks the token: %v", err)
		}
		_, err = c.OpenPullRequest(ctx, forge.PROptions{Head: "no-such-branch", Base: "main", Title: "t"})
		if !errors.As(err, &apiErr) || !strings.HasPrefix(err.Error(), "gitea: opening pull request gitops/envs no-such-branch → main: 404 Not Found") {
			t.Errorf("missing head branch: error = %v", err)
		}
		if err != nil && strings.Contains(err.Error(), srv.Token) {
			t.Errorf("error leaks the token: %v", err)
		}
		t.Logf("missing head branch: %v", err)
	})
}
