package drift

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// gitEnv makes git independent of the user's configuration.
var gitEnv = []string{
	"GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
	"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
	"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
}

// setGitEnv sets gitEnv in the test's environment, for the git the code under
// test runs.
func setGitEnv(t *testing.T) {
	t.Helper()
	for _, kv := range gitEnv {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// fleetFiles is the repository: an Argo CD directory source (apps/web,
// recursive), a Flux path without a kustomization (flux/apps) and a
// kustomization (kustomized). Objects declare no namespace: the operators
// set it.
var fleetFiles = map[string]string{
	"apps/web/web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`,
	"apps/web/config.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {mode: production, level: info}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gone}
data: {a: b}
`,
	"apps/web/sub/svc.yaml": `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`,
	"flux/apps/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: flux-config}
data: {mode: production, level: info}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: flux-gone}
data: {a: b}
`,
	"kustomized/kustomization.yaml": "namespace: git-shop\nresources: [cm.yaml]\n",
	"kustomized/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: k-config}
data: {mode: production}
`,
}

// fleetRepo is a bare repository with two commits: v1 (the files above)
// and main, which adds a key to flux-config.
type fleetRepo struct {
	base, bare, work string
	v1, main         string
}

func newFleetRepo(t *testing.T) fleetRepo {
	t.Helper()
	base := t.TempDir()
	r := fleetRepo{base: base, bare: filepath.Join(base, "fleet.git"), work: filepath.Join(base, "work")}
	gitRun(t, base, "init", "--quiet", r.work)
	gitRun(t, base, "init", "--quiet", "--bare", r.bare)
	for name, content := range fleetFiles {
		p := filepath.Join(r.work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun(t, r.work, "add", "-A")
	gitRun(t, r.work, "commit", "--quiet", "-m", "fleet")
	gitRun(t, r.work, "tag", "v1")
	r.v1 = gitRun(t, r.work, "rev-parse", "HEAD")
	cm := strings.Replace(fleetFiles["flux/apps/cm.yaml"], "data: {mode: production, level: info}", "data: {mode: production, level: info, extra: new}", 1)
	if err := os.WriteFile(filepath.Join(r.work, "flux/apps/cm.yaml"), []byte(cm), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, r.work, "commit", "--quiet", "-am", "extra")
	r.main = gitRun(t, r.work, "rev-parse", "HEAD")
	gitRun(t, r.work, "push", "--quiet", r.bare, "main", "--tags")
	gitRun(t, r.work, "checkout", "--quiet", "v1") // the worktree is what the cluster got
	return r
}

// serveGitDaemon serves base with `git daemon` on a free 127.0.0.1 port.
func serveGitDaemon(t *testing.T, base string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("git", "daemon", "--export-all", "--reuseaddr", "--base-path="+base, fmt.Sprintf("--port=%d", port), "--listen=127.0.0.1", base)
	cmd.Env = append(os.Environ(), gitEnv...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			break
		}
		if i == 200 {
			t.Fatalf("git daemon does not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "git://" + addr
}

// serveGitHTTP serves base over HTTP with git http-backend behind
// net/http/cgi.
func serveGitHTTP(t *testing.T, base string) string {
	t.Helper()
	execPath := gitRun(t, base, "--exec-path")
	h := &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env:  append([]string{"GIT_PROJECT_ROOT=" + base, "GIT_HTTP_EXPORT_ALL=1"}, gitEnv...),
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// tracked returns the YAML documents of a fleet file with a namespace and
// the given metadata, as an operator applies them.
func tracked(t *testing.T, file, ns string, labels, annotations func(obj *unstructured.Unstructured) map[string]string) string {
	t.Helper()
	var out []string
	for _, doc := range strings.Split(fleetFiles[file], "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(ns)
		if labels != nil {
			u.SetLabels(labels(u))
		}
		if annotations != nil {
			u.SetAnnotations(annotations(u))
		}
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	return strings.Join(out, "---\n")
}

// sourcesReport is the -o json schema with sources.
type sourcesReport struct {
	Kind    string         `json:"kind"`
	Summary map[string]int `json:"summary"`
	Sources []struct {
		Name     string  `json:"name"`
		Type     string  `json:"type"`
		Status   string  `json:"status"`
		Reason   string  `json:"reason"`
		RepoURL  string  `json:"repoURL"`
		Revision string  `json:"revision"`
		Commit   string  `json:"commit"`
		Path     string  `json:"path"`
		Report   *report `json:"report"`
		Operator *struct {
			Sync, Health, Ready string
		} `json:"operator"`
	} `json:"sources"`
}

func parseSources(t *testing.T, r runResult) sourcesReport {
	t.Helper()
	var s sourcesReport
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("not a JSON sources report: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return s
}

// driftBySource returns, per source name, its drifted lines (see drifted),
// or "status: reason" when it was not compared.
func driftBySource(s sourcesReport) map[string]string {
	out := map[string]string{}
	for _, src := range s.Sources {
		if src.Report == nil {
			out[src.Name] = src.Status + ": " + src.Reason
			continue
		}
		out[src.Name] = strings.Join(drifted(*src.Report), "\n")
	}
	return out
}

// assertNoCheckouts checks that no temporary clone is left in dir.
func assertNoCheckouts(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "kubectl-gitops-src-*"))
	if len(left) > 0 {
		t.Errorf("temporary clones left behind: %v", left)
	}
}

// TestSourcesAcceptance: a bare repository served by the test (file://,
// git daemon and git http-backend), an Argo CD Application and a Flux
// Kustomization + GitRepository pointing at it (the real CRDs, status
// filled by the test as the operators would), objects applied with their
// tracking metadata. drift finds the same drift as the file-based mode,
// applies the operators' own ignore rules, and finds extraneous objects by
// tracking id and by inventory; `drift status` shows both.
func TestSourcesAcceptance(t *testing.T) {
	cp := controlplane.ForTest(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // every clone goes here: none may stay
	setGitEnv(t)
	repo := newFleetRepo(t)
	daemon := serveGitDaemon(t, repo.base)
	httpURL := serveGitHTTP(t, repo.base)
	const origURL = "https://git.example.com/org/fleet.git" // what Argo CD knows; unreachable from here
	override := "--repo-override=" + origURL + "=file://" + repo.bare

	for _, ns := range []string{"gitops-t", "argo-shop", "flux-shop", "git-shop"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	// What Argo CD applied (annotation tracking, application outside Argo
	// CD's namespace: instance "gitops-t_web").
	argoID := func(u *unstructured.Unstructured) map[string]string {
		gvk := u.GroupVersionKind()
		return map[string]string{"argocd.argoproj.io/tracking-id": "gitops-t_web:" + gvk.Group + "/" + gvk.Kind + ":argo-shop/" + u.GetName()}
	}
	for _, f := range []string{"apps/web/web.yaml", "apps/web/config.yaml", "apps/web/sub/svc.yaml"} {
		kubectl(t, cp, tracked(t, f, "argo-shop", nil, argoID), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	}
	// What Flux applied.
	fluxLabels := func(*unstructured.Unstructured) map[string]string {
		return map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "gitops-t"}
	}
	kubectl(t, cp, tracked(t, "flux/apps/cm.yaml", "flux-shop", fluxLabels, nil), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	// What someone applied from the kustomization.
	kubectl(t, cp, "", "apply", "--server-side", "-k", filepath.Join(repo.work, "kustomized"))

	// The operators' objects, their status as the operators write it.
	kubectl(t, cp, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: gitops-t}
spec:
  project: default
  source: {repoURL: `+origURL+`, targetRevision: v1, path: apps/web, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: argo-shop}
  ignoreDifferences: [{group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}]
status:
  sync: {status: Synced, revision: "`+repo.v1+`"}
  health: {status: Healthy}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: cmp, namespace: gitops-t}
spec:
  project: default
  source: {repoURL: "https://git.example.com/cmp.git", path: ., targetRevision: main, plugin: {name: tanka}}
  destination: {server: "https://kubernetes.default.svc", namespace: argo-shop}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: gitops-t}
spec: {interval: 1m, url: "`+httpURL+`/fleet.git", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: gitops-t}
spec:
  interval: 10m
  prune: true
  path: ./flux/apps
  targetNamespace: flux-shop
  sourceRef: {kind: GitRepository, name: fleet}
  ignore: [{paths: [/data/level], target: {kind: ConfigMap, name: flux-config}}]
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: paused, namespace: gitops-t, annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}}
spec: {interval: 10m, prune: true, path: ./flux/apps, sourceRef: {kind: GitRepository, name: fleet}}
`, "apply", "-f", "-")
	kubectl(t, cp, "", "patch", "-n", "gitops-t", "kustomization/apps", "--subresource=status", "--type=merge", "-p",
		`{"status":{"lastAppliedRevision":"main@sha1:`+repo.v1+`",
		  "conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"Applied revision: main@sha1:`+repo.v1+`","lastTransitionTime":"2026-01-01T00:00:00Z"}],
		  "inventory":{"entries":[{"id":"flux-shop_flux-config__ConfigMap","v":"v1"},{"id":"flux-shop_flux-gone__ConfigMap","v":"v1"},{"id":"gitops-t_flux-old__ConfigMap","v":"v1"}]}}}`)

	sources := []string{"--argocd-app", "gitops-t/web", "--flux-kustomization", "apps", "--flux-namespace", "gitops-t", override}
	argo, flux := "argocd/gitops-t/web", "flux/gitops-t/apps"

	t.Run("in sync at the applied revision", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(sources, "--applied-revision", "--mode", mode, "-o", "json")...)
			s := parseSources(t, r)
			if r.code != 0 {
				t.Errorf("%s: exit %d, drift %v\nstderr: %s", mode, r.code, driftBySource(s), r.stderr)
			}
			for _, src := range s.Sources {
				if src.Commit != repo.v1 || src.Status != "compared" {
					t.Errorf("%s: %s: commit %s status %s, want %s compared", mode, src.Name, src.Commit, src.Status, repo.v1)
				}
			}
		}
		assertNoCheckouts(t, tmp)
	})

	// People change things.
	kubectl(t, cp, "", "scale", "-n", "argo-shop", "deployment/web", "--replicas=5") // ignored by the Application
	kubectl(t, cp, "", "patch", "-n", "argo-shop", "configmap/app-config", "-p", `{"data":{"level":"debug"}}`)
	kubectl(t, cp, "", "delete", "-n", "argo-shop", "configmap/gone")
	kubectl(t, cp, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stray, namespace: argo-shop, annotations: {argocd.argoproj.io/tracking-id: 'gitops-t_web:/ConfigMap:argo-shop/stray'}}\n", "create", "-f", "-")
	kubectl(t, cp, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: generated, namespace: argo-shop, annotations: {argocd.argoproj.io/tracking-id: 'gitops-t_web:/ConfigMap:argo-shop/generated', argocd.argoproj.io/compare-options: IgnoreExtraneous}}\n", "create", "-f", "-")
	kubectl(t, cp, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other-app, namespace: argo-shop, annotations: {argocd.argoproj.io/tracking-id: 'other:/ConfigMap:argo-shop/other-app'}}\n", "create", "-f", "-")
	kubectl(t, cp, "", "patch", "-n", "flux-shop", "configmap/flux-config", "-p", `{"data":{"level":"debug","mode":"dev"}}`) // level: ignored by spec.ignore
	kubectl(t, cp, "", "delete", "-n", "flux-shop", "configmap/flux-gone")
	// An object Flux applied before Git dropped it, in a namespace Git no
	// longer has: only the inventory still knows it. (Its labels still
	// name the Kustomization: without them kustomize-controller would not
	// delete it, see TestPruneOperatorRules.)
	kubectl(t, cp, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flux-old, namespace: gitops-t, labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: gitops-t}}\ndata: {x: \"1\"}\n", "create", "-f", "-")
	kubectl(t, cp, "", "patch", "-n", "git-shop", "configmap/k-config", "-p", `{"data":{"mode":"dev"}}`)

	wantArgo := strings.Join([]string{
		"ConfigMap/app-config modified data.level kubectl-patch(Update)",
		"ConfigMap/gone missing",
		"ConfigMap/stray extraneous",
	}, "\n")
	wantFluxApplied := strings.Join([]string{
		"ConfigMap/flux-config modified data.mode kubectl-patch(Update)",
		"ConfigMap/flux-gone missing",
		"ConfigMap/flux-old extraneous",
	}, "\n")
	wantFluxMain := strings.Join([]string{
		"ConfigMap/flux-config missing data.extra",
		"ConfigMap/flux-config modified data.mode kubectl-patch(Update)",
		"ConfigMap/flux-gone missing",
		"ConfigMap/flux-old extraneous",
	}, "\n")

	t.Run("Argo CD and Flux sources", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			for _, applied := range []bool{false, true} {
				args := append(append([]string{}, sources...), "--mode", mode, "-o", "json")
				wantFlux := wantFluxMain
				if applied {
					args, wantFlux = append(args, "--applied-revision"), wantFluxApplied
				}
				r := runDrift(t, cp, args...)
				if r.code != cli.ExitFindings {
					t.Errorf("%v: exit %d, want 1\nstderr: %s", args, r.code, r.stderr)
				}
				s := parseSources(t, r)
				got := driftBySource(s)
				if got[argo] != wantArgo {
					t.Errorf("%v: %s:\n  got  %s\n  want %s", args, argo, strings.ReplaceAll(got[argo], "\n", "\n       "), strings.ReplaceAll(wantArgo, "\n", "\n       "))
				}
				if got[flux] != wantFlux {
					t.Errorf("%v: %s:\n  got  %s\n  want %s", args, flux, strings.ReplaceAll(got[flux], "\n", "\n       "), strings.ReplaceAll(wantFlux, "\n", "\n       "))
				}
				if s.Kind != SourcesReportKind || len(s.Sources) != 2 || s.Sources[0].Name != argo || s.Sources[1].Name != flux {
					t.Errorf("sources %+v", s.Sources)
				}
				wantCommit := repo.main
				if applied {
					wantCommit = repo.v1
				}
				if s.Sources[1].Commit != wantCommit || s.Sources[0].Commit != repo.v1 || s.Sources[0].RepoURL != origURL || s.Sources[0].Path != "apps/web" {
					t.Errorf("origins: %+v", s.Sources)
				}
			}
		}
		assertNoCheckouts(t, tmp)
	})

	t.Run("the operator's ignore rule is what hides the replicas", func(t *testing.T) {
		r := runDrift(t, cp, "-f", filepath.Join(repo.work, "apps/web"), "-R", "-n", "argo-shop", "-o", "json")
		if !strings.Contains(strings.Join(drifted(parseReport(t, r.stdout)), "\n"), "Deployment/web modified spec.replicas kubectl(Update,scale)") {
			t.Errorf("file mode does not show the scaled replicas:\n%s", r.stdout)
		}
	})

	t.Run("--repo over git daemon drifts as -k does", func(t *testing.T) {
		byK := drifted(parseReport(t, runDrift(t, cp, "-k", filepath.Join(repo.work, "kustomized"), "-o", "json").stdout))
		r := runDrift(t, cp, "--repo", daemon+"/fleet.git", "--revision", "v1", "--path", "kustomized", "-o", "json")
		if r.code != cli.ExitFindings {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		s := parseSources(t, r)
		want := "git/" + daemon + "/fleet.git@v1/kustomized"
		if len(s.Sources) != 1 || s.Sources[0].Name != want || s.Sources[0].Commit != repo.v1 || s.Sources[0].Report == nil {
			t.Fatalf("sources: %+v (want %s)", s.Sources, want)
		}
		got := drifted(*s.Sources[0].Report)
		if strings.Join(got, "\n") != strings.Join(byK, "\n") || len(got) != 1 {
			t.Errorf("--repo: %v\n-k:     %v", got, byK)
		}
		assertNoCheckouts(t, tmp)
	})

	t.Run("--repo over file:// reads a directory recursively", func(t *testing.T) {
		r := runDrift(t, cp, "--repo", "file://"+repo.bare, "--revision", repo.v1, "--path", "apps/web", "-n", "argo-shop", "-o", "json")
		byF := drifted(parseReport(t, runDrift(t, cp, "-f", filepath.Join(repo.work, "apps/web"), "-R", "-n", "argo-shop", "-o", "json").stdout))
		s := parseSources(t, r)
		if len(s.Sources) != 1 || s.Sources[0].Report == nil {
			t.Fatalf("sources: %+v\n%s", s.Sources, r.stderr)
		}
		if got := drifted(*s.Sources[0].Report); strings.Join(got, "\n") != strings.Join(byF, "\n") {
			t.Errorf("--repo: %v\n-f -R:  %v", got, byF)
		}
	})

	t.Run("all sources, skipped and unsupported ones", func(t *testing.T) {
		r := runDrift(t, cp, "--all-argocd-apps", "--all-flux", "-n", "gitops-t", override, "-o", "json")
		if r.code != cli.ExitFindings {
			t.Errorf("exit %d, want 1 (skipped sources are no error)\n%s", r.code, r.stderr)
		}
		got := driftBySource(parseSources(t, r))
		if !strings.HasPrefix(got["argocd/gitops-t/cmp"], "skipped: not supported: config management plugins (spec.source.plugin)") ||
			got["flux/gitops-t/paused"] != "skipped: kustomize.toolkit.fluxcd.io/reconcile: disabled" || got[argo] != wantArgo || got[flux] != wantFluxMain {
			t.Errorf("sources: %v", got)
		}
		if !strings.Contains(r.stderr, "note: argocd/gitops-t/cmp: skipped: not supported") {
			t.Errorf("no note on stderr:\n%s", r.stderr)
		}
		// Asked for by name, an unsupported Application is an error.
		r = runDrift(t, cp, "--argocd-app", "gitops-t/cmp", "--argocd-app", "gitops-t/nope", "-o", "json")
		if r.code != cli.ExitError || !strings.Contains(r.stderr, "error: argocd/gitops-t/cmp: not supported") || !strings.Contains(r.stderr, `"nope" not found`) {
			t.Errorf("exit %d:\n%s", r.code, r.stderr)
		}
		assertNoCheckouts(t, tmp)
	})

	t.Run("every output format has one report per source", func(t *testing.T) {
		lit := regexp.QuoteMeta
		for format, want := range map[string][]string{
			"diff":     {lit("# source " + argo + ": " + origURL + "@v1 ("), lit("# source " + flux + ": " + httpURL + "/fleet.git@main ("), lit("+++ git/v1.ConfigMap.argo-shop.app-config")},
			"summary":  {lit("# source " + argo), `ConfigMap\s+argo-shop\s+stray\s+extraneous`, lit("# source " + flux), `ConfigMap\s+gitops-t\s+flux-old\s+extraneous`},
			"markdown": {lit("| " + argo + " | compared: "), lit("#### " + flux)},
			"yaml":     {lit("kind: DriftReportList"), lit("name: " + argo)},
			// Names only, for xargs: no "# source" line on stdout.
			"name": {`(?m)^configmap/stray$`, `(?m)^configmap/flux-old$`, `\A([a-z0-9.-]+/[a-z0-9.-]+\n)+\z`},
		} {
			r := runDrift(t, cp, append(sources, "-o", format)...)
			for _, w := range want {
				if !regexp.MustCompile(w).MatchString(r.stdout) {
					t.Errorf("-o %s lacks %q:\n%s", format, w, r.stdout)
				}
			}
		}
	})

	t.Run("drift status", func(t *testing.T) {
		r := runDrift(t, cp, "status", "-n", "gitops-t", override)
		if r.code != cli.ExitFindings {
			t.Errorf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		for _, w := range [][]string{
			{"SOURCE", "SYNC", "HEALTH", "READY", "DRIFT", "MODIFIED", "MISSING", "EXTRANEOUS", "WHO", "NOTE"},
			{"argocd/gitops-t/web", "Synced", "Healthy", "-", "drifted", "1", "1", "1", "kubectl-patch", "-"},
			{"flux/gitops-t/apps", "-", "-", "True", "drifted", "1", "1", "1", "kubectl-patch", "-"},
			{"argocd/gitops-t/cmp", "-", "-", "-", "skipped", "-", "-", "-", "-", `not supported: config management plugins \(spec.source.plugin\)`},
			{"flux/gitops-t/paused", "-", "-", "-", "skipped", "-", "-", "-", "-", "kustomize.toolkit.fluxcd.io/reconcile: disabled"},
		} {
			if re := `(?m)^` + strings.Join(w, `\s+`) + `$`; !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("status lacks\n%s\nin\n%s", strings.Join(w, "  "), r.stdout)
			}
		}
		// -o name: what kubectl get -o name prints for the same objects.
		r = runDrift(t, cp, "status", "-n", "gitops-t", override, "-o", "name")
		kc := kubectl(t, cp, "", "get", "-n", "gitops-t", "applications.argoproj.io,kustomizations.kustomize.toolkit.fluxcd.io", "-o", "name")
		if got, want := sorted(strings.Fields(r.stdout)), sorted(strings.Fields(kc)); r.code != cli.ExitFindings || len(got) != 4 || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("status -o name: exit %d, %q; kubectl get -o name: %q", r.code, got, want)
		}
		r = runDrift(t, cp, "status", "-n", "gitops-t", override, "-o", "json")
		var st JSONStatus
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		if st.Kind != StatusKind || len(st.Sources) != 4 {
			t.Fatalf("status: %+v", st)
		}
		web := st.Sources[1]
		if web.Name != argo || web.Drift != "drifted" || web.Operator.Sync != "Synced" || web.Summary["extraneous"] != 1 ||
			len(web.Managers) != 1 || web.Managers[0].Manager != "kubectl-patch" || web.Managers[0].Class != "human" || web.Commit != repo.v1 {
			t.Errorf("web: %+v", web)
		}
		assertNoCheckouts(t, tmp)
	})
}
