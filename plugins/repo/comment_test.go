package repo

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolint"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/prcomment"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

const commentCanary = "canary-s3cr3t-7f3a"

// openPR creates a Gitea repository with a pull request and returns its
// clone URL and the pull request's number.
func openPR(t *testing.T, srv *gitea.Server) (string, int) {
	t.Helper()
	cloneURL, _ := srv.CreateRepo(t, "fleet")
	work := t.TempDir()
	gitea.Git(t, work, "-c", "init.defaultBranch=main", "init", "-q")
	write := func(v string) {
		if err := os.WriteFile(filepath.Join(work, "a.yaml"), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("x: 1\n")
	gitea.Git(t, work, "add", ".")
	gitea.Git(t, work, "commit", "-q", "-m", "initial")
	gitea.Git(t, work, "push", "-q", cloneURL, "HEAD:refs/heads/main")
	gitea.Git(t, work, "checkout", "-q", "-b", "change")
	write("x: 2\n")
	gitea.Git(t, work, "commit", "-q", "-am", "change")
	gitea.Git(t, work, "push", "-q", cloneURL, "HEAD:refs/heads/change")
	var pr struct {
		Number int `json:"number"`
	}
	srv.API(t, http.MethodPost, "/repos/"+gitea.Admin+"/fleet/pulls", map[string]any{"head": "change", "base": "main", "title": "change"}, &pr)
	return cloneURL, pr.Number
}

// TestLintCommentOnPR runs `repo lint -o markdown --comment-on-pr` against
// a real Gitea on a repository holding a plaintext canary Secret: the first
// run adds the findings as a comment, the second updates it, drift's
// comment on the same pull request is left alone (each verb has its own
// marker), the Secret's value and the token appear nowhere, and the exit
// code stays lint's. A failure to comment exits 2 with the findings printed.
func TestLintCommentOnPR(t *testing.T) {
	srv := gitea.Start(t)
	cloneURL, number := openPR(t, srv)
	n := strconv.Itoa(number)
	t.Setenv("GITEA_TOKEN", srv.Token)
	t.Setenv(forge.TrustHostsEnv, "")

	// drift's comment with the same key, posted by the same forge client
	// drift uses: lint's own marker keeps it apart.
	fr, err := forge.ParseRemote(cloneURL, forge.Config{Kind: forge.Gitea})
	if err != nil {
		t.Fatal(err)
	}
	const driftBody = "### kubectl gitops drift\n\nNo drift: the cluster matches Git.\n"
	if _, err := forge.NewCommenter(fr, srv.Token, nil).UpsertComment(context.Background(), number, prcomment.Marker("drift", "fleet"), driftBody); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: " + commentCanary + "}\n"
	if err := os.WriteFile(filepath.Join(dir, "secret.yaml"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	forbidden := []string{commentCanary, base64.StdEncoding.EncodeToString([]byte(commentCanary)), srv.Token, srv.Password}
	args := []string{"lint", dir, "-o", "markdown", "--comment-on-pr", n, "--forge-remote", cloneURL, "--forge-type", "gitea", "--comment-key", "fleet"}
	for run := 1; run <= 2; run++ {
		r := runRepo(t, "", args...)
		if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "| error | secret.yaml") {
			t.Fatalf("run %d: want exit 1 and the Markdown findings:\n%s", run, r)
		}
		want := map[int]string{1: "comment added", 2: "comment updated"}[run]
		if !strings.Contains(r.stderr, want) {
			t.Errorf("run %d: stderr lacks %q:\n%s", run, want, r.stderr)
		}
		for _, f := range forbidden {
			if strings.Contains(r.stdout+r.stderr, f) {
				t.Errorf("run %d: %q leaked on stdout/stderr", run, f)
			}
		}
	}
	var comments []struct {
		Body string `json:"body"`
	}
	srv.API(t, http.MethodGet, "/repos/"+gitea.Admin+"/fleet/issues/"+n+"/comments", nil, &comments)
	if len(comments) != 2 {
		t.Fatalf("%d comments on the pull request, want drift's and lint's: %+v", len(comments), comments)
	}
	if comments[0].Body != forge.MarkerLine(prcomment.Marker("drift", "fleet"))+"\n"+driftBody {
		t.Errorf("drift's comment was changed:\n%s", comments[0].Body)
	}
	lint := comments[1].Body
	if !strings.HasPrefix(lint, "<!-- kubectl-gitops:repo-lint:fleet -->\n") || !strings.Contains(lint, "### kubectl gitops repo lint") ||
		!strings.Contains(lint, "| error | secret.yaml") {
		t.Fatalf("the lint comment is not the marked Markdown findings:\n%s", lint)
	}
	for _, c := range comments {
		for _, f := range forbidden {
			if strings.Contains(c.Body, f) {
				t.Errorf("a comment on the forge holds %q:\n%s", f, c.Body)
			}
		}
	}

	t.Run("comment failure exits 2", func(t *testing.T) {
		t.Setenv("GITEA_TOKEN", "wrong-token-canary")
		r := runRepo(t, "", args...)
		if r.code != cli.ExitError || !strings.Contains(r.stderr, "commenting on pull request "+n) || !strings.Contains(r.stdout, "| error | secret.yaml") {
			t.Fatalf("want exit 2 with the findings printed and the comment error:\n%s", r)
		}
		if strings.Contains(r.stderr, "wrong-token-canary") {
			t.Fatal("the token is in the error")
		}
	})
	t.Run("bad comment flags", func(t *testing.T) {
		for _, tt := range []struct {
			extra []string
			want  string
		}{
			{[]string{"--comment-key", "x --><img>"}, "--comment-key"},
			{[]string{"--forge-url", "http://127.0.0.2:1/api/v1"}, "not the remote's host"},
		} {
			r := runRepo(t, "", append(args, tt.extra...)...)
			if r.code != cli.ExitError || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
				t.Errorf("%v: want exit 2 before linting and %q:\n%s", tt.extra, tt.want, r)
			}
		}
	})
}

// TestLintMarkdownEscapes checks that a finding's message, which comes from
// the repository's files, cannot break the comment's table or add HTML.
func TestLintMarkdownEscapes(t *testing.T) {
	var b strings.Builder
	rep := &repolint.Report{Findings: []repolint.Finding{{File: "a|b.yaml", Line: 3, Rule: "r", Severity: repolint.SeverityError,
		Message: "x | y <img src=x onerror=alert(1)>\n| forged | row |"}}}
	if err := writeLintMarkdown(&b, rep, "1 error(s)"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<img") || strings.Contains(out, "\n| forged") || strings.Count(out, "\n| error |") != 1 {
		t.Fatalf("unescaped Markdown:\n%s", out)
	}
	if !strings.Contains(out, `| error | a\|b.yaml:3 | r | x \| y &lt;img`) {
		t.Fatalf("the finding row is not the escaped message:\n%s", out)
	}
}
