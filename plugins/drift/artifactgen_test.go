package drift

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// artifactFixtures is a fleet in the shape of Flux's reference example
// (fluxcd/flux2-kustomize-helm-example): an ArtifactGenerator splitting
// the repository into ExternalArtifacts, Kustomizations reading them, a
// .sourceignore; and a second repository the fleet's GitRepository
// includes.
const artifactFixtures = "../../pkg/gitopsapi/testdata/artifactgen"

// artifactApplied is what kustomize-controller applies for the
// Kustomizations of TestFluxArtifacts, written by hand from the fixture:
// apps (ExternalArtifact apps, ./staging: the base with the staging
// patch), infra-configs (ExternalArtifact infrastructure, ./configs, with
// its own patch), tenants (./tenants without the file spec.ignore
// leaves out) and shared (the included repository's base, at ./shared).
const artifactApplied = `apiVersion: v1
kind: Namespace
metadata:
  name: ag-podinfo
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: ag-flux}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: ag-podinfo
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: ag-flux}
spec:
  interval: 50m
  releaseName: podinfo
  chart:
    spec:
      chart: podinfo
      version: ">=1.0.0-alpha"
      sourceRef: {kind: HelmRepository, name: podinfo, namespace: ag-flux}
  test: {enable: true}
  values:
    httpRoute:
      enabled: true
      hostnames: [podinfo.staging]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: gateway
  namespace: ag-infra
  labels: {kustomize.toolkit.fluxcd.io/name: infra-configs, kustomize.toolkit.fluxcd.io/namespace: ag-flux}
data:
  listener: http
  acme-server: https://acme-staging-v02.api.letsencrypt.org/directory
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: team-a
  namespace: ag-infra
  labels: {kustomize.toolkit.fluxcd.io/name: tenants, kustomize.toolkit.fluxcd.io/namespace: ag-flux}
data:
  owner: team-a
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shared-policy
  namespace: ag-infra
  labels: {kustomize.toolkit.fluxcd.io/name: shared, kustomize.toolkit.fluxcd.io/namespace: ag-flux}
data:
  mode: enforce
`

// artifactFlux are the Flux objects of TestFluxArtifacts besides the
// fixture's clusters/staging: the GitRepositories (the fleet's includes
// the shared repository; a second one on the same URL ignores a file),
// the ExternalArtifacts as source-watcher creates them, and the
// Kustomizations of tenants and shared.
const artifactFlux = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: ag-flux}
spec:
  interval: 1m
  url: https://x-token:` + artifactCanary + `@git.example.com/org/fleet.git
  ref: {branch: main}
  include:
    - repository: {name: shared}
      fromPath: base
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: shared, namespace: ag-flux}
spec: {interval: 1m, url: "https://git.example.com/org/shared.git", ref: {branch: main}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet-tenants, namespace: ag-flux}
spec:
  interval: 1m
  url: https://git.example.com/org/fleet.git
  ref: {branch: main}
  ignore: |
    # drafts stay out of the cluster
    /tenants/scratch.yaml
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: ExternalArtifact
metadata: {name: apps, namespace: ag-flux}
spec:
  sourceRef: {apiVersion: source.extensions.fluxcd.io/v1beta1, kind: ArtifactGenerator, name: flux-system, namespace: ag-flux}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: ExternalArtifact
metadata: {name: infrastructure, namespace: ag-flux}
spec:
  sourceRef: {apiVersion: source.extensions.fluxcd.io/v1beta1, kind: ArtifactGenerator, name: flux-system, namespace: ag-flux}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: tenants, namespace: ag-flux}
spec:
  interval: 1h
  sourceRef: {kind: GitRepository, name: fleet-tenants}
  path: ./tenants
  prune: true
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: shared, namespace: ag-flux}
spec:
  interval: 1h
  sourceRef: {kind: GitRepository, name: flux-system}
  path: ./shared
  prune: true
`

// artifactCanary is a token in GitRepository URLs: never shown.
const artifactCanary = "canary-s3cr3t-7f3a"

// artifactPrivate is an ArtifactGenerator whose GitRepository cannot be
// fetched (its URL, token included, is not overridden).
const artifactPrivate = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: private, namespace: ag-flux}
spec: {interval: 1m, url: "https://x-token:` + artifactCanary + `@git.invalid/org/private.git", ref: {branch: main}}
---
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata: {name: private, namespace: ag-flux}
spec:
  sources: [{alias: repo, kind: GitRepository, name: private}]
  artifacts: [{name: private, copy: [{from: "@repo/deploy/**", to: "@artifact/"}]}]
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: ExternalArtifact
metadata: {name: private, namespace: ag-flux}
spec:
  sourceRef: {apiVersion: source.extensions.fluxcd.io/v1beta1, kind: ArtifactGenerator, name: private}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: private, namespace: ag-flux}
spec:
  interval: 1h
  sourceRef: {kind: ExternalArtifact, name: private}
  path: ./
  prune: true
`

// pushFixture commits dir's files to a new bare repository and returns it.
func pushFixture(t *testing.T, base, name, dir string) string {
	t.Helper()
	work, bare := filepath.Join(base, name), filepath.Join(base, name+".git")
	if err := os.CopyFS(work, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	gitRun(t, base, "init", "--quiet", work)
	gitRun(t, base, "init", "--quiet", "--bare", bare)
	gitRun(t, work, "add", "-A")
	gitRun(t, work, "commit", "--quiet", "-m", name)
	gitRun(t, work, "push", "--quiet", bare, "main")
	return bare
}

// TestFluxArtifacts: Flux's current reference layout on the real control
// plane. Kustomizations reading ExternalArtifacts built by an
// ArtifactGenerator from the fleet's GitRepository (copy operations,
// .sourceignore), one reading a GitRepository whose spec.ignore leaves a
// file out, one reading what a GitRepository includes from another
// repository; the objects applied as kustomize-controller applies them.
// drift builds each artifact as source-controller and source-watcher do:
// 0 drift in both modes; a person's edit is found in the right source.
func TestFluxArtifacts(t *testing.T) {
	cp := controlplane.ForTest(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // every clone and artifact goes here: none may stay
	setGitEnv(t)
	base := t.TempDir()
	fleet := pushFixture(t, base, "fleet", filepath.Join(artifactFixtures, "repo"))
	shared := pushFixture(t, base, "shared", filepath.Join(artifactFixtures, "shared"))

	crd, err := os.ReadFile(filepath.Join(artifactFixtures, "crds/source.extensions.fluxcd.io_artifactgenerators.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, cp, string(crd), "apply", "--server-side", "-f", "-")
	kubectl(t, cp, "", "wait", "--for=condition=Established", "--timeout=60s", "crd/artifactgenerators.source.extensions.fluxcd.io")
	for _, ns := range []string{"ag-flux", "ag-infra"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	kubectl(t, cp, artifactApplied, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	var clusterDir []string
	for _, f := range []string{"artifacts.yaml", "apps.yaml", "infrastructure.yaml"} {
		data, err := os.ReadFile(filepath.Join(artifactFixtures, "repo/clusters/staging", f))
		if err != nil {
			t.Fatal(err)
		}
		clusterDir = append(clusterDir, string(data))
	}
	kubectl(t, cp, strings.Join(clusterDir, "\n")+"\n---\n"+artifactFlux+"---\n"+artifactPrivate, "apply", "-f", "-")

	args := []string{
		"--flux-kustomization", "ag-flux/apps", "--flux-kustomization", "ag-flux/infra-configs",
		"--flux-kustomization", "ag-flux/tenants", "--flux-kustomization", "ag-flux/shared",
		"--repo-override=https://git.example.com/org/fleet.git=file://" + fleet,
		"--repo-override=https://git.example.com/org/shared.git=file://" + shared,
	}
	want := map[string]int{"flux/ag-flux/apps": 2, "flux/ag-flux/infra-configs": 1, "flux/ag-flux/tenants": 1, "flux/ag-flux/shared": 1}

	t.Run("in sync", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "--mode", mode, "-o", "json")...)
			s := parseSources(t, r)
			if r.code != 0 {
				t.Errorf("%s: exit %d, sources %v\nstderr: %s", mode, r.code, driftBySource(s), r.stderr)
			}
			for _, src := range s.Sources {
				if src.Report == nil || src.Status != "compared" {
					t.Errorf("%s: %s: %s: %s", mode, src.Name, src.Status, src.Reason)
					continue
				}
				if got := src.Report.Summary["unchanged"]; got != want[src.Name] {
					t.Errorf("%s: %s: %d unchanged, want %d: %v", mode, src.Name, got, want[src.Name], driftBySource(s))
				}
			}
			if len(s.Sources) != len(want) {
				t.Errorf("%s: %d sources, want %d", mode, len(s.Sources), len(want))
			}
			if strings.Contains(r.stdout+r.stderr, artifactCanary) {
				t.Errorf("%s: a GitRepository's token leaks:\n%s\n%s", mode, r.stdout, r.stderr)
			}
		}
		left, _ := filepath.Glob(filepath.Join(tmp, "kubectl-gitops-*"))
		if len(left) > 0 {
			t.Errorf("temporary clones or artifacts left behind: %v", left)
		}
	})

	t.Run("the origin of an ExternalArtifact is its GitRepository", func(t *testing.T) {
		s := parseSources(t, runDrift(t, cp, "--flux-kustomization", "ag-flux/apps", args[8], args[9], "-o", "json"))
		if len(s.Sources) != 1 || s.Sources[0].RepoURL != "https://git.example.com/org/fleet.git" || s.Sources[0].Revision != "main" ||
			len(s.Sources[0].Commit) != 40 || s.Sources[0].Path != "staging" {
			t.Errorf("sources %+v", s.Sources)
		}
	})

	t.Run("a source that cannot be fetched is an error, its token not shown", func(t *testing.T) {
		r := runDrift(t, cp, "--flux-kustomization", "ag-flux/private", "-o", "json")
		s := parseSources(t, r)
		if r.code != cli.ExitError || len(s.Sources) != 1 || s.Sources[0].Status != "error" ||
			!strings.Contains(s.Sources[0].Reason, "ArtifactGenerator ag-flux/private: source @repo: fetching https://git.invalid/org/private.git") {
			t.Errorf("exit %d, sources %v\nstderr: %s", r.code, driftBySource(s), r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, artifactCanary) {
			t.Errorf("the token leaks:\n%s\n%s", r.stdout, r.stderr)
		}
	})

	// A person edits what the staging patch set and the included policy.
	kubectl(t, cp, "", "patch", "-n", "ag-podinfo", "helmrelease/podinfo", "--type=merge", "-p", `{"spec":{"test":{"enable":false}}}`)
	kubectl(t, cp, "", "patch", "-n", "ag-infra", "configmap/shared-policy", "--type=merge", "-p", `{"data":{"mode":"audit"}}`)

	t.Run("a person's edit is drift of its source", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "--mode", mode, "-o", "json")...)
			if r.code != cli.ExitFindings {
				t.Errorf("%s: exit %d, want 1\nstderr: %s", mode, r.code, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, artifactCanary) {
				t.Errorf("%s: a GitRepository's token leaks:\n%s\n%s", mode, r.stdout, r.stderr)
			}
			got := driftBySource(parseSources(t, r))
			wantDrift := map[string]string{
				"flux/ag-flux/apps":          "HelmRelease/podinfo modified spec.test.enable kubectl-patch(Update)",
				"flux/ag-flux/infra-configs": "",
				"flux/ag-flux/tenants":       "",
				"flux/ag-flux/shared":        "ConfigMap/shared-policy modified data.mode kubectl-patch(Update)",
			}
			for name, w := range wantDrift {
				if got[name] != w {
					t.Errorf("%s: %s: drift\n%s\nwant\n%s", mode, name, got[name], w)
				}
			}
		}
	})
}
