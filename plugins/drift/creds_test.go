package drift

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/registry"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/chartrepo"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// credsCanary is the secret the credential tests hide in URLs and Secrets.
const credsCanary = "canary-s3cr3t-7f3a"

// TestSourceURLCredentialsNeverShown: an OCIRepository's URL is cluster
// data; one with a password in its user information, or a token in its
// query, is shown through gitrepo.RedactURL in every -o of drift and of
// drift status: in the source header, the JSON origin and the error that
// says the URL cannot be used.
func TestSourceURLCredentialsNeverShown(t *testing.T) {
	cp := controlplane.ForTest(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	const ns = "creds-url"
	kubectl(t, cp, "", "create", "namespace", ns)
	var objs strings.Builder
	for name, url := range map[string]string{
		"userinfo": "oci://flux:" + credsCanary + "@registry.example.com/fleet/app",
		"query":    "oci://registry.example.com/fleet/app?token=" + credsCanary,
	} {
		objs.WriteString(`apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  interval: 5m
  url: ` + url + `
  ref: {tag: '1.0.0'}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  interval: 10m
  prune: true
  path: ./deploy
  sourceRef: {kind: OCIRepository, name: ` + name + `}
---
`)
	}
	// An Argo CD chart from a registry (Argo CD takes host/path without a
	// scheme as OCI), the password in the user information.
	objs.WriteString(`apiVersion: v1
kind: Namespace
metadata: {name: argocd}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: creds-url-chart, namespace: argocd}
spec:
  project: default
  destination: {server: "https://kubernetes.default.svc", namespace: ` + ns + `}
  source:
    repoURL: flux:` + credsCanary + `@registry.example.com/charts
    chart: app
    targetRevision: 1.0.0
`)
	kubectl(t, cp, objs.String(), "apply", "-f", "-")
	sources := []string{"--flux-kustomization", ns + "/userinfo", "--flux-kustomization", ns + "/query", "--argocd-app", "argocd/creds-url-chart"}
	for _, o := range outputs {
		r := runDriftOnce(cp, append(sources, "-o", o)...)
		if r.code != 2 {
			t.Errorf("-o %s: exit %d, want 2 (the sources cannot be fetched)\n%s%s", o, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, credsCanary) {
			t.Errorf("-o %s: the credential is shown:\n%s%s", o, r.stdout, r.stderr)
		}
		if o == "json" && !strings.Contains(r.stdout, "oci://registry.example.com/fleet/app?token=***") {
			t.Errorf("-o json does not name the redacted URL:\n%s", r.stdout)
		}
	}
	for _, o := range statusOutputs {
		r := runDriftOnce(cp, "status", "-n", ns, "-o", o)
		if strings.Contains(r.stdout+r.stderr, credsCanary) {
			t.Errorf("status -o %s: the credential is shown:\n%s%s", o, r.stdout, r.stderr)
		}
	}
}

// serveGitHTTPAuth serves base with the real git http-backend behind HTTP
// basic auth for flux:<credsCanary>.
func serveGitHTTPAuth(t *testing.T, base string) string {
	t.Helper()
	backend := &cgi.Handler{Path: filepath.Join(gitRun(t, base, "--exec-path"), "git-http-backend"),
		Env: append([]string{"GIT_PROJECT_ROOT=" + base, "GIT_HTTP_EXPORT_ALL=1"}, gitEnv...)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "flux" || p != credsCanary {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestFluxGitRepositorySecretRef: a GitRepository behind basic auth (the
// real git http-backend) is cloned with the credentials of its
// spec.secretRef, as source-controller clones it. The password appears in
// no output of any -o, in no argument of git (a wrapper on PATH records
// them), in no file left or written (the checkout, the user's credential
// store); a mirror given with --repo-override gets none of it, and its
// Secret is not read; a Secret drift cannot read is a warning.
func TestFluxGitRepositorySecretRef(t *testing.T) {
	cp := controlplane.ForTest(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	setGitEnv(t)
	repo := newFleetRepo(t)
	url := serveGitHTTPAuth(t, repo.base) + "/fleet.git"

	// git records its arguments; the user's credential helper would
	// store what git is given.
	bin, logs := t.TempDir(), t.TempDir()
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	argv := filepath.Join(logs, "argv")
	wrapper := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + argv + "\n" +
		// The checkout's configuration, as git leaves it after each run.
		"\"" + realGit + "\" \"$@\"; rc=$?\n[ -f .git/config ] && cat .git/config >> " + filepath.Join(logs, "config") + "\nexit $rc\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	store := filepath.Join(logs, "credentials")
	global := filepath.Join(logs, "gitconfig")
	if err := os.WriteFile(global, []byte("[credential]\n\thelper = store --file="+store+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", global)

	const ns = "creds-git"
	kubectl(t, cp, "", "create", "namespace", ns)
	objects := func(secretRef string) string {
		return `apiVersion: v1
kind: Secret
metadata: {name: git-auth, namespace: ` + ns + `}
type: Opaque
stringData: {username: flux, password: ` + credsCanary + `}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: ` + ns + `}
spec:
  interval: 1m
  url: "` + url + `"
  ref: {branch: main}
` + secretRef + `---
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
	basic := base64.StdEncoding.EncodeToString([]byte("flux:" + credsCanary))
	leaks := func(t *testing.T, what, s string) {
		t.Helper()
		if strings.Contains(s, credsCanary) || strings.Contains(s, basic) ||
			strings.Contains(s, base64.StdEncoding.EncodeToString([]byte(credsCanary))) {
			t.Errorf("%s holds the password:\n%s", what, s)
		}
	}
	const src = "flux/" + ns + "/apps"
	args := []string{"--flux-kustomization", ns + "/apps"}

	kubectl(t, cp, objects("  secretRef: {name: git-auth}\n"), "apply", "-f", "-")
	checkFluxCredsRun(t, cp, ns, src, args, leaks)
	data, err := os.ReadFile(argv)
	if err != nil || !strings.Contains(string(data), "fetch") {
		t.Fatalf("git was not run through the wrapper: %v\n%s", err, data)
	}
	leaks(t, "git's arguments", string(data))
	if data, err := os.ReadFile(filepath.Join(logs, "config")); err == nil {
		leaks(t, "the checkout's .git/config", string(data))
	} else {
		t.Errorf("no .git/config seen: %v", err)
	}
	if data, err := os.ReadFile(store); err == nil {
		t.Errorf("the user's credential helper stored %q", data)
	}
	assertNoCheckouts(t, tmp)

	t.Run("without the secretRef the server refuses", func(t *testing.T) {
		kubectl(t, cp, objects(""), "apply", "-f", "-")
		r := runDrift(t, cp, append(args, "-o", "json")...)
		if got := driftBySource(parseSources(t, r))[src]; r.code != cli.ExitError || !strings.Contains(got, "error: ") {
			t.Errorf("exit %d, drift %q", r.code, got)
		}
	})

	t.Run("a mirror gets none of the credentials, and the Secret is not read", func(t *testing.T) {
		kubectl(t, cp, objects("  secretRef: {name: no-such-secret}\n"), "apply", "-f", "-")
		var mirror recorderHandler
		mirrorURL := mirror.serve(t, repo.base) + "/fleet.git"
		r := runDrift(t, cp, append(args, "--repo-override="+url+"="+mirrorURL, "-o", "json")...)
		if r.code != cli.ExitFindings || strings.Contains(r.stderr+r.stdout, "no-such-secret") {
			t.Errorf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
		}
		if got := mirror.authorizations(); len(got) > 0 {
			t.Errorf("the mirror was sent %v", got)
		}
		// Without the override, the missing Secret is a warning and git
		// goes on with the user's configuration (refused here).
		r = runDriftOnce(cp, append(args, "-o", "json")...)
		if !strings.Contains(r.stdout+r.stderr, "the credentials of Secret "+ns+"/no-such-secret (spec.secretRef) are not used") {
			t.Errorf("no warning about the Secret:\n%s%s", r.stdout, r.stderr)
		}
	})
}

// recorderHandler serves a repository to anyone, recording the
// Authorization headers it is sent.
type recorderHandler struct {
	mu   sync.Mutex
	seen []string
}

func (rh *recorderHandler) serve(t *testing.T, base string) string {
	t.Helper()
	backend := &cgi.Handler{Path: filepath.Join(gitRun(t, base, "--exec-path"), "git-http-backend"),
		Env: append([]string{"GIT_PROJECT_ROOT=" + base, "GIT_HTTP_EXPORT_ALL=1"}, gitEnv...)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" {
			rh.mu.Lock()
			rh.seen = append(rh.seen, h)
			rh.mu.Unlock()
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (rh *recorderHandler) authorizations() []string {
	rh.mu.Lock()
	defer rh.mu.Unlock()
	return append([]string(nil), rh.seen...)
}

// TestFluxHelmReleaseDockerConfigSecret: charts in a private registry (the
// go-containerregistry registry behind basic auth, the real sealed-secrets
// chart pushed with Helm's push code), named by a HelmRepository of type
// oci and by an OCIRepository (spec.chartRef), each with a
// kubernetes.io/dockerconfigjson spec.secretRef on the real control plane.
// drift fetches and renders both with the Secret's entry for the registry
// (nothing is applied: every object is missing), the password in no
// output of any -o; without the secretRef the registry refuses.
func TestFluxHelmReleaseDockerConfigSecret(t *testing.T) {
	cp := controlplane.ForTest(t)
	tmp := t.TempDir()
	archives := packageSealedSecrets(t, tmp, "1.1.0")
	isolateHelm(t, tmp)

	inner := chartrepo.OCIHandler()
	reg := newRecorder(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "flux" || p != credsCanary {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	host := strings.TrimPrefix(reg.URL, "http://")
	rc, err := registry.NewClient(registry.ClientOptPlainHTTP(), registry.ClientOptWriter(io.Discard),
		registry.ClientOptCredentialsFile(filepath.Join(tmp, "push.json")), registry.ClientOptBasicAuth("flux", credsCanary))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(archives["1.1.0"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Push(data, host+"/charts/sealed-secrets:1.1.0"); err != nil {
		t.Fatalf("helm push: %v", err)
	}

	const ns = "creds-oci-charts"
	kubectl(t, cp, "", "create", "namespace", ns)
	t.Cleanup(func() { _ = cp.Kubectl(context.Background(), "delete", "namespace", ns, "--wait=false").Run() })
	auth := base64.StdEncoding.EncodeToString([]byte("flux:" + credsCanary))
	config := base64.StdEncoding.EncodeToString([]byte(`{"auths":{"` + host + `":{"auth":"` + auth + `"},"registry.example.com":{"username":"other","password":"` + credsCanary + `"}}}`))
	objects := func(secretRef string) string {
		return `apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: ` + ns + `}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: ` + config + `}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: ` + ns + `}
spec:
  interval: 10m
  type: oci
  url: oci://` + host + `/charts
  insecure: true
` + secretRef + `---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: from-repo, namespace: ` + ns + `}
spec:
  interval: 10m
  install: {crds: Skip}
  values: {rbac: {clusterRoleName: creds-from-repo}}
  chart:
    spec:
      chart: sealed-secrets
      version: 1.1.0
      sourceRef: {kind: HelmRepository, name: charts}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: sealed, namespace: ` + ns + `}
spec:
  interval: 10m
  url: oci://` + host + `/charts/sealed-secrets
  insecure: true
  ref: {tag: 1.1.0}
  layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}
` + secretRef + `---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: from-oci, namespace: ` + ns + `}
spec:
  interval: 10m
  install: {crds: Skip}
  values: {rbac: {clusterRoleName: creds-from-oci}}
  chartRef: {kind: OCIRepository, name: sealed}
`
	}
	leaks := func(t *testing.T, what, s string) {
		t.Helper()
		if strings.Contains(s, credsCanary) || strings.Contains(s, auth) || strings.Contains(s, config) {
			t.Errorf("%s holds the password:\n%s", what, s)
		}
	}
	kubectl(t, cp, objects("  secretRef: {name: regcred}\n"), "apply", "-f", "-")
	args := []string{"--flux-helmrelease", ns + "/from-repo", "--flux-helmrelease", ns + "/from-oci"}
	for _, o := range outputs {
		r := runDriftOnce(cp, append(args, "-o", o)...)
		if r.code != cli.ExitFindings {
			t.Errorf("-o %s: exit %d, want %d (the release's objects missing):\n%s%s", o, r.code, cli.ExitFindings, r.stdout, r.stderr)
		}
		leaks(t, "-o "+o, r.stdout+r.stderr)
	}
	r := runDriftOnce(cp, append(args, "-o", "json")...)
	s := parseSources(t, r)
	for _, src := range s.Sources {
		if src.Status != "compared" || !strings.Contains(driftBySource(s)[src.Name], "Deployment/") {
			t.Errorf("%s: %s, drift %q", src.Name, src.Status, driftBySource(s)[src.Name])
		}
	}
	if _, auths := reg.seen(); !slices.Contains(auths, "Basic "+auth) {
		t.Error("the registry never received the Secret's credentials")
	}
	for _, o := range statusOutputs {
		r := runDriftOnce(cp, "status", "-n", ns, "-o", o)
		leaks(t, "status -o "+o, r.stdout+r.stderr)
	}

	// Without the secretRef the registry refuses: an error of each source,
	// still without the password (a fresh chart cache: an exact version
	// fetched once is served from the cache).
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache2"))
	kubectl(t, cp, objects(""), "apply", "-f", "-")
	r = runDriftOnce(cp, append(args, "-o", "json")...)
	for name, got := range driftBySource(parseSources(t, r)) {
		if !strings.HasPrefix(got, "error: ") {
			t.Errorf("anonymous %s: %q", name, got)
		}
	}
	if r.code != cli.ExitError {
		t.Errorf("anonymous: exit %d", r.code)
	}
	leaks(t, "the anonymous run", r.stdout+r.stderr)
}

// checkFluxCredsRun runs drift on args (the Kustomization src of namespace
// ns, its GitRepository read with credentials) in every output format, and
// drift status in every format: src is compared (its ConfigMaps missing:
// nothing is applied) and leaks finds no credential in any output.
func checkFluxCredsRun(t *testing.T, cp *controlplane.ControlPlane, ns, src string, args []string, leaks func(t *testing.T, what, s string)) {
	t.Helper()
	for _, o := range outputs {
		r := runDriftOnce(cp, append(args, "-o", o)...)
		// Nothing is applied: the ConfigMaps are missing, so compared.
		if r.code != cli.ExitFindings {
			t.Errorf("-o %s: exit %d, want %d:\n%s%s", o, r.code, cli.ExitFindings, r.stdout, r.stderr)
		}
		leaks(t, "-o "+o, r.stdout+r.stderr)
	}
	r := runDrift(t, cp, append(args, "-o", "json")...)
	if got := driftBySource(parseSources(t, r))[src]; !strings.Contains(got, "ConfigMap/flux-config missing") {
		t.Errorf("drift %q, want the missing ConfigMaps", got)
	}
	for _, o := range statusOutputs {
		r := runDriftOnce(cp, "status", "-n", ns, "-o", o)
		leaks(t, "status -o "+o, r.stdout+r.stderr)
	}
}
