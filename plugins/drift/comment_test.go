package drift

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// TestCommentOnPR runs drift against the real control plane with a drifted
// canary Secret and --comment-on-pr against a real Gitea: the first run adds
// the Markdown report as a comment, the second updates it (one comment on
// the pull request), the comment never holds the Secret's values, and the
// exit code stays drift's. A failure to comment exits 2 with the report
// still printed; a forge the token may not go to is refused before the
// comparison.
func TestCommentOnPR(t *testing.T) {
	cp := controlplane.ForTest(t)
	srv := gitea.Start(t)
	ns := "pr-comment"
	kubectl(t, cp, "", "create", "namespace", ns)
	secret := func(v string) string {
		return `apiVersion: v1
kind: Secret
metadata: {name: db, namespace: ` + ns + `}
data: {password: ` + base64.StdEncoding.EncodeToString([]byte(v)) + `}
`
	}
	old := canary + "-old"
	kubectl(t, cp, secret(old), "apply", "-f", "-")
	dir := writeFiles(t, map[string]string{"db.yaml": secret(canary)})

	cloneURL, _ := srv.CreateRepo(t, "fleet")
	work := t.TempDir()
	gitea.Git(t, work, "-c", "init.defaultBranch=main", "init", "-q")
	if err := os.WriteFile(filepath.Join(work, "db.yaml"), []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitea.Git(t, work, "add", ".")
	gitea.Git(t, work, "commit", "-q", "-m", "initial")
	gitea.Git(t, work, "push", "-q", cloneURL, "HEAD:refs/heads/main")
	gitea.Git(t, work, "checkout", "-q", "-b", "change")
	if err := os.WriteFile(filepath.Join(work, "db.yaml"), []byte("x: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitea.Git(t, work, "commit", "-q", "-am", "change")
	gitea.Git(t, work, "push", "-q", cloneURL, "HEAD:refs/heads/change")
	var pr struct {
		Number int `json:"number"`
	}
	srv.API(t, http.MethodPost, "/repos/"+gitea.Admin+"/fleet/pulls", map[string]any{"head": "change", "base": "main", "title": "change"}, &pr)
	n := strconv.Itoa(pr.Number)
	t.Setenv("GITEA_TOKEN", srv.Token)
	t.Setenv(forge.TrustHostsEnv, "")

	forbidden := []string{canary, old, base64.StdEncoding.EncodeToString([]byte(canary)), base64.StdEncoding.EncodeToString([]byte(old)), srv.Token, srv.Password}
	args := []string{"-f", dir, "-o", "json", "--comment-on-pr", n, "--forge-remote", cloneURL, "--forge-type", "gitea"}
	for run := 1; run <= 2; run++ {
		r := runDrift(t, cp, args...)
		if r.code != cli.ExitFindings {
			t.Fatalf("run %d: exit %d, want %d (drift's):\n%s", run, r.code, cli.ExitFindings, r.stderr)
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
	if len(comments) != 1 {
		t.Fatalf("%d comments on the pull request after two runs, want 1", len(comments))
	}
	body := comments[0].Body
	if !strings.HasPrefix(body, "<!-- kubectl-gitops:drift:") || !strings.Contains(body, "| Secret | "+ns+" | db | modified |") {
		t.Fatalf("comment is not the marked Markdown report:\n%s", body)
	}
	for _, f := range forbidden {
		if strings.Contains(body, f) {
			t.Errorf("comment on the forge holds %q:\n%s", f, body)
		}
	}

	t.Run("sources keep their own comment", func(t *testing.T) {
		gitea.Git(t, dir, "-c", "init.defaultBranch=main", "init", "-q")
		gitea.Git(t, dir, "add", ".")
		gitea.Git(t, dir, "commit", "-q", "-m", "db")
		r := runDrift(t, cp, "--repo", "file://"+dir, "-o", "summary", "--comment-on-pr", n, "--forge-remote", cloneURL, "--forge-type", "gitea", "--comment-key", "fleet-prod")
		if r.code != cli.ExitFindings || !strings.Contains(r.stderr, "comment added") {
			t.Fatalf("exit %d, want 1 and a new comment:\n%s", r.code, r.stderr)
		}
		srv.API(t, http.MethodGet, "/repos/"+gitea.Admin+"/fleet/issues/"+n+"/comments", nil, &comments)
		if len(comments) != 2 || !strings.HasPrefix(comments[1].Body, "<!-- kubectl-gitops:drift:fleet-prod -->\n") || !strings.Contains(comments[1].Body, "db") {
			t.Fatalf("comments: %+v, want the first and one for --comment-key fleet-prod", comments)
		}
		for _, f := range forbidden {
			if strings.Contains(comments[1].Body, f) {
				t.Errorf("sources comment holds %q", f)
			}
		}
	})
	t.Run("comment failure exits 2", func(t *testing.T) {
		t.Setenv("GITEA_TOKEN", "wrong-token-canary")
		r := runDrift(t, cp, args...)
		if r.code != cli.ExitError || !strings.Contains(r.stderr, "commenting on pull request "+n) || !strings.Contains(r.stdout, `"modified"`) {
			t.Fatalf("exit %d, want 2 with the report printed and the comment error:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "wrong-token-canary") {
			t.Fatal("the token is in the error")
		}
	})
	t.Run("untrusted forge host", func(t *testing.T) {
		r := runDrift(t, cp, append(args, "--forge-url", "http://127.0.0.2:1/api/v1")...)
		if r.code != cli.ExitError || !strings.Contains(r.stderr, "not the remote's host") || r.stdout != "" {
			t.Fatalf("exit %d, want 2 before comparing, token target refused:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("refused combinations", func(t *testing.T) {
		for _, tt := range []struct {
			extra []string
			want  string
		}{
			{[]string{"--show-secrets"}, "--show-secrets cannot be combined with --comment-on-pr"},
			{[]string{"--list-ignore-rules"}, "--comment-on-pr works with a drift report only"},
			{[]string{"--fix", "--yes"}, "--comment-on-pr works with a drift report only"},
			{[]string{"--comment-key", "x --><img>"}, "--comment-key"},
		} {
			r := runDrift(t, cp, append(args, tt.extra...)...)
			if r.code != cli.ExitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%v: exit %d, want 2 and %q:\n%s", tt.extra, r.code, tt.want, r.stderr)
			}
		}
	})
}
