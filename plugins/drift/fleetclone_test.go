package drift

import (
	"encoding/json"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// countingGitServer serves base over HTTP with git http-backend, counting
// the connections of git clients that read from it: every `git fetch`
// (and `git ls-remote`) starts with one GET of info/refs for
// git-upload-pack, then POSTs as many requests as the protocol needs.
type countingGitServer struct {
	URL     string
	fetches atomic.Int64
}

func serveCountingGit(t *testing.T, base string) *countingGitServer {
	t.Helper()
	execPath := gitRun(t, base, "--exec-path")
	backend := &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env:  append([]string{"GIT_PROJECT_ROOT=" + base, "GIT_HTTP_EXPORT_ALL=1"}, gitEnv...),
	}
	s := &countingGitServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs") && r.URL.Query().Get("service") == "git-upload-pack" {
			s.fetches.Add(1)
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// fleetFluxObjects is the fleet's Flux source in namespace ns: a
// GitRepository of repoURL and a Kustomization of its ./flux/apps.
func fleetFluxObjects(ns, repoURL string) string {
	return `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: ` + ns + `}
spec: {interval: 1m, url: "` + repoURL + `", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: ` + ns + `}
spec:
  interval: 10m
  prune: true
  path: ./flux/apps
  targetNamespace: ` + ns + `
  sourceRef: {kind: GitRepository, name: fleet}
`
}

// TestFleetFetchesOncePerRun: three real control planes, each with a Flux
// GitRepository + Kustomization following main of one repository, and
// --repo naming the same repository and revision. A fleet run over the
// three fetches the repository once, as a run against one of them does,
// not once per cluster; every cell is compared (none an error) and no
// clone is left behind. (A URL with credentials is another key: sources
// share a fetch only when they would fetch with the same credentials.)
func TestFleetFetchesOncePerRun(t *testing.T) {
	one := controlplane.ForTest(t)
	cps := map[string]*controlplane.ControlPlane{"one": one}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var startErr error
	for _, name := range []string{"two", "three"} {
		wg.Go(func() {
			cp, err := controlplane.Start(t.Context(), controlplane.Options{CRDs: true})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				startErr = err
				return
			}
			cps[name] = cp
		})
	}
	wg.Wait()
	for _, cp := range cps {
		if cp != one {
			t.Cleanup(func() { _ = cp.Stop() })
		}
	}
	if startErr != nil {
		t.Fatalf("starting the fleet's control planes: %v", startErr)
	}
	kubeconfig := mergeKubeconfigs(t, cps)

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // every clone goes here: none may stay
	setGitEnv(t)
	repo := newFleetRepo(t)
	git := serveCountingGit(t, repo.base)
	repoURL := git.URL + "/fleet.git"

	for _, cp := range cps {
		kubectl(t, cp, "", "create", "namespace", "fleet-t")
		kubectl(t, cp, fleetFluxObjects("fleet-t", repoURL), "apply", "-f", "-")
	}

	args := []string{"--repo", repoURL, "--revision", "main", "--path", "kustomized",
		"--flux-kustomization", "fleet-t/apps", "-o", "json"}
	type cell struct {
		Source, Cluster, State, Error string
	}
	run := func(contexts string) (int64, []cell) {
		t.Helper()
		before := git.fetches.Load()
		r := runDriftKubeconfig(t, kubeconfig, append(args, "--contexts", contexts)...)
		fetches := git.fetches.Load() - before
		if r.code == cli.ExitError {
			t.Errorf("--contexts %s: exit %d\n%s%s", contexts, r.code, r.stdout, r.stderr)
		}
		var rep struct {
			Kind  string `json:"kind"`
			Cells []cell `json:"cells"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Kind != FleetReportKind {
			t.Fatalf("--contexts %s: not a fleet report (%v):\n%s", contexts, err, r.stdout)
		}
		for _, c := range rep.Cells {
			if c.State == "error" || c.State == "skipped" {
				t.Errorf("--contexts %s: cell %+v was not compared", contexts, c)
			}
		}
		assertNoCheckouts(t, tmp)
		return fetches, rep.Cells
	}

	single, cells := run("one")
	if len(cells) != 2 {
		t.Fatalf("one cluster: %d cells, want 2 (--repo and the Kustomization): %+v", len(cells), cells)
	}
	if single != 1 {
		t.Errorf("one cluster: the repository was fetched %d times, want 1 (--repo and the GitRepository follow the same branch)", single)
	}
	fleet, cells := run("one,two,three")
	if len(cells) != 6 {
		t.Fatalf("three clusters: %d cells, want 6: %+v", len(cells), cells)
	}
	if fleet != single {
		t.Errorf("three clusters: the repository was fetched %d times, want %d, as for one cluster", fleet, single)
	}
}

// TestFleetFetchesArgoSourcesOncePerRun: two real control planes, each
// with an Argo CD Application whose source is main of one repository (and
// a Flux GitRepository + Kustomization following the same branch). A fleet
// run over both with --argocd-app fetches the repository once, as a run
// against one cluster does, not once per cluster; so does a run with the
// Argo CD and the Flux sources together (issue 17.4). The fetches are
// counted by the git server.
func TestFleetFetchesArgoSourcesOncePerRun(t *testing.T) {
	one := controlplane.ForTest(t)
	two, err := controlplane.Start(t.Context(), controlplane.Options{CRDs: true})
	if err != nil {
		t.Fatalf("starting the second control plane: %v", err)
	}
	t.Cleanup(func() { _ = two.Stop() })
	cps := map[string]*controlplane.ControlPlane{"one": one, "two": two}
	kubeconfig := mergeKubeconfigs(t, cps)

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // every clone goes here: none may stay
	setGitEnv(t)
	repo := newFleetRepo(t)
	git := serveCountingGit(t, repo.base)
	repoURL := git.URL + "/fleet.git"

	for _, cp := range cps {
		kubectl(t, cp, "", "create", "namespace", "fleet-argo")
		kubectl(t, cp, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: fleet-argo}
spec:
  project: default
  source: {repoURL: "`+repoURL+`", targetRevision: main, path: apps/web, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: fleet-argo}
---
`+fleetFluxObjects("fleet-argo", repoURL), "apply", "-f", "-")
	}

	type cell struct {
		Source, Cluster, State, Error string
	}
	run := func(contexts string, sources ...string) (int64, []cell) {
		t.Helper()
		before := git.fetches.Load()
		r := runDriftKubeconfig(t, kubeconfig, append(sources, "-o", "json", "--contexts", contexts)...)
		fetches := git.fetches.Load() - before
		if r.code == cli.ExitError {
			t.Errorf("%v --contexts %s: exit %d\n%s%s", sources, contexts, r.code, r.stdout, r.stderr)
		}
		var rep struct {
			Kind  string `json:"kind"`
			Cells []cell `json:"cells"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Kind != FleetReportKind {
			t.Fatalf("%v --contexts %s: not a fleet report (%v):\n%s", sources, contexts, err, r.stdout)
		}
		for _, c := range rep.Cells {
			if c.State == "error" || c.State == "skipped" {
				t.Errorf("%v --contexts %s: cell %+v was not compared", sources, contexts, c)
			}
		}
		assertNoCheckouts(t, tmp)
		return fetches, rep.Cells
	}

	argo := []string{"--argocd-app", "fleet-argo/web"}
	single, cells := run("one", argo...)
	if len(cells) != 1 {
		t.Fatalf("one cluster: %d cells, want 1 (the Application): %+v", len(cells), cells)
	}
	if single != 1 {
		t.Errorf("one cluster: the Application's repository was fetched %d times, want 1", single)
	}
	fleet, cells := run("one,two", argo...)
	if len(cells) != 2 {
		t.Fatalf("two clusters: %d cells, want 2: %+v", len(cells), cells)
	}
	if fleet != 1 {
		t.Errorf("two clusters: the Applications' repository was fetched %d times, want 1, as for one cluster", fleet)
	}
	both, cells := run("one,two", append(argo, "--flux-kustomization", "fleet-argo/apps")...)
	if len(cells) != 4 {
		t.Fatalf("two clusters, Application and Kustomization: %d cells, want 4: %+v", len(cells), cells)
	}
	if both != 1 {
		t.Errorf("two clusters: the repository of the Applications and GitRepositories (both at main) was fetched %d times, want 1", both)
	}
}
