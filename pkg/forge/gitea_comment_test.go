package forge_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// TestGiteaUpsertCommentReal keeps one comment per pull request on a real
// Gitea: the first call adds it, the second edits it.
func TestGiteaUpsertCommentReal(t *testing.T) {
	srv := gitea.Start(t)
	ctx := context.Background()
	cloneURL, _ := srv.CreateRepo(t, "fleet")
	work := t.TempDir()
	gitea.Git(t, work, "-c", "init.defaultBranch=main", "init", "-q")
	if err := os.WriteFile(filepath.Join(work, "a.yaml"), []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitea.Git(t, work, "add", ".")
	gitea.Git(t, work, "commit", "-q", "-m", "initial")
	gitea.Git(t, work, "push", "-q", cloneURL, "HEAD:refs/heads/main")
	gitea.Git(t, work, "checkout", "-q", "-b", "change")
	if err := os.WriteFile(filepath.Join(work, "a.yaml"), []byte("a: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitea.Git(t, work, "commit", "-q", "-am", "change")
	gitea.Git(t, work, "push", "-q", cloneURL, "HEAD:refs/heads/change")
	repo, err := forge.ParseRemote(cloneURL, forge.Config{Kind: forge.Gitea})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := forge.New(repo, srv.Token, nil).OpenPullRequest(ctx, forge.PROptions{Head: "change", Base: "main", Title: "change"})
	if err != nil {
		t.Fatal(err)
	}
	c := forge.NewCommenter(repo, srv.Token, nil)
	const marker = "kubectl-gitops:drift:files"
	first, err := c.UpsertComment(ctx, pr.Number, marker, "run 1\n")
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.UpsertComment(ctx, pr.Number, marker, "run 2\n")
	if err != nil {
		t.Fatal(err)
	}
	if first.Updated || !second.Updated || second.ID != first.ID || !strings.Contains(second.URL, "/pulls/"+strconv.Itoa(pr.Number)) {
		t.Fatalf("first %+v, second %+v: want one comment added then edited", first, second)
	}
	var comments []struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
	}
	srv.API(t, http.MethodGet, "/repos/"+gitea.Admin+"/fleet/issues/"+strconv.Itoa(pr.Number)+"/comments", nil, &comments)
	if len(comments) != 1 || comments[0].Body != forge.MarkerLine(marker)+"\nrun 2\n" {
		t.Fatalf("comments on the pull request: %+v, want one with run 2", comments)
	}
}
