package drift

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// postBuildFixtures is the repository and the variables of
// pkg/gitopsapi's post-build tests.
const postBuildFixtures = "../../pkg/gitopsapi/testdata/postbuild"

const postBuildCanary = "canary-s3cr3t-7f3a"

// postBuildApplied is what kustomize-controller applies from
// testdata/postbuild/repo/apps/web with the Kustomization below: written by
// hand, variables substituted, the Flux labels set.
const postBuildApplied = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: pb-shop
  labels: {cluster: prod-eu-1, kustomize.toolkit.fluxcd.io/name: web, kustomize.toolkit.fluxcd.io/namespace: pb-flux}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.prod.example.org/web:1.0
          env:
            - {name: DB_PASSWORD, value: ` + postBuildCanary + `}
            - {name: ESCAPED, value: "${not_a_var}"}
            - {name: PLAIN_DOLLAR, value: $HOME}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: pb-shop
  labels: {kustomize.toolkit.fluxcd.io/name: web, kustomize.toolkit.fluxcd.io/namespace: pb-flux}
spec:
  rules:
    - host: web.prod.example.org
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port: {number: 80}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: scripts
  namespace: pb-shop
  labels: {kustomize.toolkit.fluxcd.io/name: web, kustomize.toolkit.fluxcd.io/namespace: pb-flux}
  annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}
data:
  run.sh: |
    echo "${HOME} ${cluster_domain}"
`

// TestFluxPostBuild: a Flux Kustomization with spec.postBuild (inline
// variables, ConfigMaps, a Secret, an optional missing ConfigMap) and its
// GitRepository served from a bare repository over file://
// (--repo-override), the objects
// applied as kustomize-controller applies them. drift renders the
// variables as the controller does: in sync in both modes; a person's
// change is drift, the Secret's value masked in every output; a missing
// ConfigMap is an error of the source.
func TestFluxPostBuild(t *testing.T) {
	cp := controlplane.ForTest(t)
	setGitEnv(t)
	base := t.TempDir()
	work, bare := filepath.Join(base, "work"), filepath.Join(base, "fleet.git")
	if err := os.CopyFS(work, os.DirFS(filepath.Join(postBuildFixtures, "repo"))); err != nil {
		t.Fatal(err)
	}
	gitRun(t, base, "init", "--quiet", work)
	gitRun(t, base, "init", "--quiet", "--bare", bare)
	gitRun(t, work, "add", "-A")
	gitRun(t, work, "commit", "--quiet", "-m", "fleet")
	gitRun(t, work, "push", "--quiet", bare, "main")

	for _, ns := range []string{"pb-flux", "pb-shop"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	vars, err := os.ReadFile(filepath.Join(postBuildFixtures, "cluster/vars.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, cp, strings.ReplaceAll(string(vars), "namespace: flux-system", "namespace: pb-flux"), "apply", "-f", "-")
	kubectl(t, cp, postBuildApplied, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	kubectl(t, cp, `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: pb-flux}
spec: {interval: 1m, url: "https://git.example.com/org/fleet.git", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: web, namespace: pb-flux}
spec:
  interval: 10m
  prune: true
  path: ./apps/web
  targetNamespace: pb-shop
  sourceRef: {kind: GitRepository, name: fleet}
  postBuild:
    substitute: {cluster_name: prod-eu-1}
    substituteFrom:
      - {kind: ConfigMap, name: cluster-vars}
      - {kind: ConfigMap, name: cluster-vars-override}
      - {kind: Secret, name: cluster-secrets}
      - {kind: ConfigMap, name: optional-vars, optional: true}
`, "apply", "-f", "-")
	// The CRD takes no file:// URL: the repository is overridden.
	args := []string{"--flux-kustomization", "pb-flux/web", "--repo-override=https://git.example.com/org/fleet.git=file://" + bare}
	const name = "flux/pb-flux/web"

	t.Run("in sync", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "--mode", mode, "-o", "json")...)
			s := parseSources(t, r)
			if r.code != 0 || len(s.Sources) != 1 || s.Sources[0].Status != "compared" || s.Sources[0].Report == nil {
				t.Fatalf("%s: exit %d, sources %v\nstderr: %s", mode, r.code, driftBySource(s), r.stderr)
			}
			if got := s.Sources[0].Report.Summary["unchanged"]; got != 3 {
				t.Errorf("%s: %d unchanged, want 3: %v", mode, got, driftBySource(s))
			}
		}
	})

	// A person changes the host and the password.
	kubectl(t, cp, "", "patch", "-n", "pb-shop", "ingress/web", "--type=json", "-p", `[{"op":"replace","path":"/spec/rules/0/host","value":"web.example.com"}]`)
	kubectl(t, cp, "", "set", "env", "-n", "pb-shop", "deployment/web", "DB_PASSWORD=hand-edited-value")

	t.Run("a person's change is drift, the Secret's value masked", func(t *testing.T) {
		for mode, host := range map[string]string{"server": "spec.rules[0].host", "local": "spec.rules"} {
			want := "Deployment/web modified spec.template.spec.containers[0].env[0].value kubectl-set(Update)\n" +
				"Ingress/web modified " + host + " kubectl-patch(Update)"
			r := runDrift(t, cp, append(args, "--mode", mode, "-o", "json")...)
			if r.code != cli.ExitFindings {
				t.Errorf("%s: exit %d, want 1\nstderr: %s", mode, r.code, r.stderr)
			}
			if got := driftBySource(parseSources(t, r))[name]; got != want {
				t.Errorf("%s: drift\n%s\nwant\n%s", mode, got, want)
			}
			for _, out := range []string{"json", "yaml", "summary", ""} {
				a := append(args, "--mode", mode)
				if out != "" {
					a = append(a, "-o", out)
				}
				r := runDrift(t, cp, a...)
				if strings.Contains(r.stdout+r.stderr, postBuildCanary) {
					t.Errorf("%s -o %q: the Secret's value leaks:\n%s\n%s", mode, out, r.stdout, r.stderr)
				}
			}
		}
		// Shown on request: the test can see a leak.
		r := runDrift(t, cp, append(args, "--show-secrets")...)
		if !strings.Contains(r.stdout, postBuildCanary) {
			t.Errorf("--show-secrets: the desired value is not shown:\n%s", r.stdout)
		}
	})

	t.Run("a missing ConfigMap is an error of the source", func(t *testing.T) {
		kubectl(t, cp, "", "delete", "-n", "pb-flux", "configmap/cluster-vars-override")
		r := runDrift(t, cp, append(args, "-o", "json")...)
		s := parseSources(t, r)
		if r.code != cli.ExitError || len(s.Sources) != 1 || s.Sources[0].Status != "error" ||
			!strings.Contains(s.Sources[0].Reason, "substitute from 'ConfigMap/cluster-vars-override' error") {
			t.Errorf("exit %d, sources %v\nstderr: %s", r.code, driftBySource(s), r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, postBuildCanary) {
			t.Errorf("the Secret's value leaks:\n%s\n%s", r.stdout, r.stderr)
		}
	})
}
