package promote

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// editPipeline rewrites the example's pipeline file before its first commit.
func editPipeline(t *testing.T, dir string, edit func(string) string) {
	t.Helper()
	p := filepath.Join(dir, ".gitops", "pipeline.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(edit(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestExitCodes: runs that have nothing wrong with them exit 0, on the
// example repository against a bare remote; each once exited 2 (or
// panicked).
func TestExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(string) string
		setup  func(t *testing.T, dir string)
		args   []string
		stdout string
		stderr string
	}{{
		// CI bringing a build into the first environment: no source, no gate
		// (it used to panic on the missing source).
		name:   "version into the first environment",
		args:   []string{"web", "--to", "dev", "--version", "1.6.0"},
		stdout: "Pushed ",
	}, {
		// Rolling back to the version already there is nothing to do.
		name:   "rollback to the current version",
		args:   []string{"rollback", "web", "--env", "staging", "--to", "1.4.2"},
		stderr: "nothing to roll back: web is already at 1.4.2 in staging",
	}, {
		// history reads only: with no branch in the pipeline it no longer
		// runs the promotion preflight (clean checkout, right branch).
		name: "history with no branch in the pipeline and a dirty checkout",
		edit: func(s string) string { return strings.Replace(s, "branch: main\n", "", 1) },
		setup: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "notes.txt"), "wip")
			git(t, dir, "checkout", "-q", "-b", "feature")
		},
		args:   []string{"history"},
		stdout: "No promotions found.",
	}, {
		// A second run for the same version reuses the pull-request branch
		// the first pushed (it used to fail: target branch already exists).
		name: "pull-request promotion run twice",
		setup: func(t *testing.T, dir string) {
			if r := promote(t, "", dir, "web", "--to", "prod", "--from", "dev", "--skip-gates"); r.code != 0 {
				t.Fatalf("first run: %s", r)
			}
		},
		args:   []string{"web", "--to", "prod", "--from", "dev", "--skip-gates"},
		stdout: "promote/prod/web-1.5.0 (",
		stderr: "promote/prod/web-1.5.0 already carries this promotion",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bare := filepath.Join(t.TempDir(), "remote.git")
			git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
			dir := exampleRepo(t, bare, func(dir string) {
				if tt.edit != nil {
					editPipeline(t, dir, tt.edit)
				}
			})
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			r := promote(t, "", dir, tt.args...)
			if r.code != 0 || !strings.Contains(r.stdout, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("want exit 0, stdout with %q, stderr with %q: %s", tt.stdout, tt.stderr, r)
			}
		})
	}
}

// TestNamespaceFromContext: an environment without namespace takes its
// context's (here -n), as docs/promotion.md says, for its workload gate;
// the gate used to fail with "namespace and name are required".
func TestNamespaceFromContext(t *testing.T) {
	cp := controlplane.ForTest(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	const ns = "nsctx-dev" // not shared with the other tests' dev
	dir := exampleRepo(t, bare, func(dir string) {
		editPipeline(t, dir, func(s string) string {
			s = strings.Replace(s, "    namespace: shop-dev\n", "", 1)
			// {namespace} needs a namespace in every environment.
			return strings.Replace(s, `namespace: "{namespace}"`, "namespace: flux-system", 1)
		})
		for _, f := range []string{"kustomization.yaml", "namespace.yaml"} {
			p := filepath.Join(dir, "envs", "dev", f)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, strings.ReplaceAll(string(data), "shop-dev", ns))
		}
	})
	deploy(t, cp, dir, "dev")
	rollout(t, cp, ns, "web", 2, time.Now().Add(-time.Hour))

	r := promote(t, cp.Kubeconfig, dir, "web", "--to", "staging", "-n", ns)
	if r.code != 0 {
		t.Fatalf("promote web --to staging -n %s: %s", ns, r)
	}
	if tr := trailers(t, dir, "origin/main"); !strings.Contains(tr, "Verified-Health: Deployment "+ns+"/web runs 1.5.0, healthy") {
		t.Fatalf("commit:\n%s", tr)
	}
}

// TestRequestTimeout: every request to an environment's cluster carries a
// timeout — --request-timeout, else 15s — also for an environment with a
// context of its own, whose requests used to ignore --request-timeout and
// wait up to client-go's 32s per discovery request (or without end).
func TestRequestTimeout(t *testing.T) {
	var mu sync.Mutex
	var timeouts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		timeouts = append(timeouts, r.URL.Query().Get("timeout"))
		mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, kubeconfig, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: far
  cluster: {server: %q}
contexts:
- name: far
  context: {cluster: far, user: far}
- name: here
  context: {cluster: far, user: far}
current-context: here
users:
- name: far
  user: {token: not-a-secret}
`, srv.URL))
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	dir := exampleRepo(t, bare, func(dir string) {
		// dev has a context of its own; staging and prod use the current one.
		editPipeline(t, dir, func(s string) string {
			return strings.Replace(s, "    namespace: shop-dev\n", "    namespace: shop-dev\n    context: far\n", 1)
		})
	})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"default", nil, "15s"},
		{"--request-timeout", []string{"--request-timeout", "3s"}, "3s"},
		// 0 is no limit, as in kubectl: client-go's own 32s for discovery.
		{"--request-timeout=0", []string{"--request-timeout=0"}, "32s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			timeouts = nil
			mu.Unlock()
			r := promote(t, kubeconfig, dir, append([]string{"status"}, tt.args...)...)
			if r.code != 0 || !strings.Contains(r.stdout, "error") {
				t.Fatalf("status: %s", r)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(timeouts) == 0 {
				t.Fatal("no request reached the cluster")
			}
			for _, got := range timeouts {
				if got != tt.want {
					t.Fatalf("request timeouts %v, want all %s", timeouts, tt.want)
				}
			}
		})
	}
}

// TestHelpUsage: the usage line does not present --from and --version as
// alternatives (they combine) and shows that APP may be left out.
func TestHelpUsage(t *testing.T) {
	r := promote(t, "", t.TempDir(), "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "promote [APP...] --to ENV [--from ENV] [--version V]") {
		t.Fatalf("usage: %s", r)
	}
}

// TestPipelineErrors: every mistake of the pipeline file is printed, each
// on its line (the plugin used to print the first only), exit 2; a URL
// with credentials where a remote name belongs is not echoed with them.
func TestPipelineErrors(t *testing.T) {
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	dir := exampleRepo(t, bare, func(dir string) {
		editPipeline(t, dir, func(s string) string {
			s = strings.Replace(s, "remote: origin\n", "remote: https://bob:hunter2@example.com/shop.git\n", 1)
			return strings.Replace(s, "policy: pull-request\n", "policy: manual\n", 1)
		})
	})
	r := promote(t, "", dir, "status", "--no-live")
	if r.code != 2 {
		t.Fatalf("want exit 2: %s", r)
	}
	for _, want := range []string{"pipeline.yaml:4:9: remote: ", "pipeline.yaml:18:13: environments[2].policy: must be auto or pull-request"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r)
		}
	}
	if strings.Contains(r.stderr, "hunter2") {
		t.Errorf("credentials printed: %s", r)
	}
}

// TestPullRequestAgainOnGitea: on a real forge, a second run for the same
// version finds the open pull request instead of failing on the pushed
// branch (docs/promotion.md); no run prints the forge token or the password
// in the remote URL, also when the forge or the remote fails.
func TestPullRequestAgainOnGitea(t *testing.T) {
	forge := gitea.Start(t)
	cloneURL, _ := forge.CreateRepo(t, "shop-again")
	t.Setenv("GITEA_TOKEN", forge.Token)
	dir := exampleRepo(t, cloneURL, func(dir string) {
		editPipeline(t, dir, func(s string) string {
			return strings.Replace(s, "branch: main\n", fmt.Sprintf("branch: main\nforge:\n  type: gitea\n  url: %s\n", forge.URL), 1)
		})
	})
	var runs []result
	run := func(args ...string) result {
		r := promote(t, "", dir, args...)
		runs = append(runs, r)
		return r
	}
	defer func() {
		for _, r := range runs {
			for _, secret := range []string{forge.Token, forge.Password, "not-the-token"} {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Errorf("a secret was printed: %s", r)
				}
			}
		}
	}()

	if r := run("web", "--to", "prod", "--from", "dev", "--skip-gates"); r.code != 0 || !strings.Contains(r.stdout, "Opened pull request #1: ") {
		t.Fatalf("first run: %s", r)
	}
	if r := run("web", "--to", "prod", "--from", "dev", "--skip-gates"); r.code != 0 || !strings.Contains(r.stdout, "Pull request #1 is already open: ") {
		t.Fatalf("second run: %s", r)
	}
	var pulls []struct{ Number int }
	forge.API(t, "GET", "/repos/"+gitea.Admin+"/shop-again/pulls?state=open", nil, &pulls)
	if len(pulls) != 1 {
		t.Fatalf("%d open pull requests, want 1", len(pulls))
	}

	// A token the forge refuses: the branch is pushed, the error says so.
	t.Setenv("GITEA_TOKEN", "not-the-token")
	if r := run("worker", "--to", "prod", "--from", "dev", "--skip-gates"); r.code != 2 || !strings.Contains(r.stderr, "opening the pull request") {
		t.Fatalf("refused token: %s", r)
	}
	// A remote that does not answer, its URL carrying the password.
	git(t, dir, "remote", "set-url", "origin", strings.Replace(cloneURL, strings.TrimPrefix(forge.URL, "http://"), "127.0.0.1:1", 1))
	if r := run("api", "--to", "prod", "--from", "dev", "--skip-gates"); r.code != 2 || !strings.Contains(r.stderr, "http://127.0.0.1:1/") {
		t.Fatalf("unreachable remote: %s", r)
	}
}

// TestUnreachableClusterNamesEnvironment: when the source environment's
// cluster refuses the connection, the error names the environment and the
// gate (it used to be kubectl's bare "The connection to the server … was
// refused"), exit 2.
func TestUnreachableClusterNamesEnvironment(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there any more
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, kubeconfig, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- {name: gone, cluster: {server: %q}}
contexts:
- {name: gone, context: {cluster: gone, user: gone}}
current-context: gone
users:
- {name: gone, user: {token: not-a-secret}}
`, addr))
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	dir := exampleRepo(t, bare, nil)
	r := promote(t, kubeconfig, dir, "web", "--to", "staging")
	if r.code != 2 || !strings.Contains(r.stderr, "gating web from dev") || !strings.Contains(r.stderr, "connection refused") {
		t.Fatalf("want exit 2 naming the gate and the refused connection: %s", r)
	}
}
