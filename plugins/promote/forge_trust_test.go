package promote

import (
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// gitHTTPRemote serves a new bare repository over HTTP (git http-backend
// behind net/http/cgi, pushes allowed) and returns its URL on 127.0.0.1.
func gitHTTPRemote(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	bare := filepath.Join(root, "acme", "shop.git")
	git(t, root, "init", "-q", "--bare", "-b", "main", bare)
	git(t, bare, "config", "http.receivepack", "true")
	h := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(git(t, root, "--exec-path")), "git-http-backend"),
		Env:  append([]string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}, gitea.GitEnv()...),
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/acme/shop.git"
}

// tokenListener is a forge that records every request's credentials.
type tokenListener struct {
	URL  string // http://127.0.0.1:port
	mu   sync.Mutex
	seen []string // method path Authorization
}

func newTokenListener(t *testing.T) *tokenListener {
	l := &tokenListener{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.seen = append(l.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		l.mu.Unlock()
		http.Error(w, `{"message":"no"}`, http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	l.URL = srv.URL
	return l
}

func (l *tokenListener) requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// TestHostilePipelineForgeRefused: a pipeline file comes from a repository,
// so its forge section may not send a variable of the user's environment
// anywhere: a tokenEnv that is not a forge token, a forge.url on another
// host than the remote's, or plain http to a non-loopback host are refused
// at file:line before anything is pushed, and the listener named by the
// file receives no request. The user can confirm another host with
// --trust-forge-host; only then does the token go there.
func TestHostilePipelineForgeRefused(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	t.Setenv("GITEA_TOKEN", canary)
	t.Setenv("AWS_SECRET_ACCESS_KEY", canary)
	t.Setenv(trustForgeHostsEnv, "")
	listener := newTokenListener(t)
	// The listener is on 127.0.0.1 like the remote; named localhost it is
	// another host than the remote's.
	other := strings.Replace(listener.URL, "127.0.0.1", "localhost", 1)
	tests := []struct {
		name  string
		forge string // the forge section, after "branch: main" (line 5)
		args  []string
		want  string
	}{{
		name:  "any variable to any host",
		forge: "forge:\n  type: gitea\n  url: " + listener.URL + "\n  tokenEnv: AWS_SECRET_ACCESS_KEY\n",
		want:  `.gitops/pipeline.yaml:9:13: forge.tokenEnv: "AWS_…" is not a forge token variable`,
	}, {
		name:  "a token variable of something else",
		forge: "forge:\n  type: gitea\n  url: " + listener.URL + "\n  tokenEnv: AWS_SESSION_TOKEN\n",
		want:  `.gitops/pipeline.yaml:9:13: forge.tokenEnv: "AWS_…" is not a forge token variable`,
	}, {
		name:  "another host",
		forge: "forge:\n  type: gitea\n  url: " + other + "\n",
		want:  ".gitops/pipeline.yaml:8:8: forge.url: the forge API host localhost is not the remote's host 127.0.0.1",
	}, {
		name:  "plain http to another machine",
		forge: "forge:\n  type: gitea\n  url: http://forge.attacker.invalid:8080\n",
		args:  []string{"--trust-forge-host", "forge.attacker.invalid"},
		want:  ".gitops/pipeline.yaml:8:8: forge.url: the forge API on forge.attacker.invalid is plain http",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote := gitHTTPRemote(t)
			dir := exampleRepo(t, remote, func(dir string) {
				editPipeline(t, dir, func(s string) string { return strings.Replace(s, "branch: main\n", "branch: main\n"+tt.forge, 1) })
			})
			before := git(t, dir, "ls-remote", "origin")
			for _, args := range [][]string{
				{"web", "--to", "prod", "--from", "dev", "--skip-gates"},
				{"status", "--no-live"},
			} {
				r := promote(t, "", dir, append(args, tt.args...)...)
				if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("%v: want exit 2 and %q: %s", args, tt.want, r)
				}
				if strings.Contains(r.stdout+r.stderr, canary) {
					t.Errorf("%v: the canary is printed: %s", args, r)
				}
			}
			if after := git(t, dir, "ls-remote", "origin"); after != before {
				t.Errorf("the remote changed:\nbefore %s\nafter %s", before, after)
			}
			if got := listener.requests(); len(got) != 0 {
				t.Fatalf("the pipeline's forge received %v", got)
			}
		})
	}

	// Confirmed by the user (flag or environment): the token goes there.
	for _, confirm := range []struct {
		name string
		args []string
		env  string
	}{{"flag", []string{"--trust-forge-host", "localhost"}, ""}, {"environment", nil, "example.com, localhost"}} {
		t.Run("confirmed by "+confirm.name, func(t *testing.T) {
			t.Setenv(trustForgeHostsEnv, confirm.env)
			remote := gitHTTPRemote(t)
			dir := exampleRepo(t, remote, func(dir string) {
				editPipeline(t, dir, func(s string) string {
					return strings.Replace(s, "branch: main\n", fmt.Sprintf("branch: main\nforge:\n  type: gitea\n  url: %s\n", other), 1)
				})
			})
			n := len(listener.requests())
			r := promote(t, "", dir, append([]string{"web", "--to", "prod", "--from", "dev", "--skip-gates"}, confirm.args...)...)
			got := listener.requests()[n:]
			if len(got) == 0 || !strings.HasSuffix(got[0], " token "+canary) {
				t.Fatalf("the confirmed forge got %v: %s", got, r)
			}
			if strings.Contains(r.stdout+r.stderr, canary) {
				t.Errorf("the canary is printed: %s", r)
			}
		})
	}
}
