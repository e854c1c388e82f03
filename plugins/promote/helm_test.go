package promote

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// helmRepo makes a checkout of files (slash paths, the pipeline among them)
// on main, pushed to a bare remote.
func helmRepo(t *testing.T, files map[string]string) (dir, bare string) {
	t.Helper()
	bare = filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	dir = filepath.Join(t.TempDir(), "work")
	for p, content := range files {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(p)), content)
	}
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "seed")
	git(t, dir, "remote", "add", "origin", bare)
	git(t, dir, "push", "-q", "origin", "main")
	git(t, dir, "branch", "-q", "--set-upstream-to=origin/main")
	return dir, bare
}

func valuesFile(env, tag string) string {
	return "# values of web in " + env + "\nreplicaCount: 2\nimage:\n  repository: ghcr.io/acme/web\n  tag: \"" + tag + "\" # promoted\n"
}

// TestPromoteEnvPlaceholder: the Argo CD layout of one chart directory with
// a values file per environment (values-{env}.yaml) — every environment has
// the same path and the pipeline tells them apart by file name.
func TestPromoteEnvPlaceholder(t *testing.T) {
	dir, bare := helmRepo(t, map[string]string{
		".gitops/pipeline.yaml": `apiVersion: gitops.kubectl-gitops.dev/v1alpha1
kind: Pipeline
branch: main
environments:
- name: dev
  path: charts/web
- name: staging
  path: charts/web
- name: prod
  path: charts/web
applications:
- name: web
  versions:
  - file: values-{env}.yaml
    helmValues: image.tag
`,
		"charts/web/values-dev.yaml":     valuesFile("dev", "1.5.0"),
		"charts/web/values-staging.yaml": valuesFile("staging", "1.4.0"),
		"charts/web/values-prod.yaml":    valuesFile("prod", "1.3.0"),
	})
	r := promote(t, "", dir, "web", "--to", "staging", "--skip-gates")
	if r.code != 0 {
		t.Fatalf("promote: %s", r)
	}
	for env, want := range map[string]string{"dev": "1.5.0", "staging": "1.5.0", "prod": "1.3.0"} {
		if got := git(t, bare, "show", "main:charts/web/values-"+env+".yaml"); got+"\n" != valuesFile(env, want) {
			t.Errorf("values-%s.yaml:\n%s\nwant:\n%s", env, got, valuesFile(env, want))
		}
	}
	if got := git(t, bare, "show", "--format=", "--name-only", "main"); got != "charts/web/values-staging.yaml" {
		t.Errorf("the promotion commit touches %q, want only charts/web/values-staging.yaml", got)
	}
	r = promote(t, "", dir, "status")
	if r.code != 0 || !strings.Contains(r.stdout, "1.5.0") || !strings.Contains(r.stdout, "1.3.0") {
		t.Fatalf("status: %s", r)
	}
}

func ociFile(env, ref string) string {
	return `# podinfo in ` + env + `, its chart from an OCI registry
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 10m
  url: oci://ghcr.io/stefanprodan/charts/podinfo
  ref:
    ` + ref + ` # chart version
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 10m
  chartRef:
    kind: OCIRepository
    name: podinfo
`
}

const ociPipeline = `apiVersion: gitops.kubectl-gitops.dev/v1alpha1
kind: Pipeline
branch: main
environments:
- name: dev
  path: envs/dev
- name: prod
  path: envs/prod
applications:
- name: podinfo
  versions:
  - file: podinfo.yaml
    ociRepository: true
`

// TestPromoteOCIRepository: a HelmRelease whose chart comes through
// chartRef from an OCIRepository is promoted by its spec.ref.tag; a semver
// range in the source or the target is refused, naming the file, line and
// column and what to do, and nothing is written.
func TestPromoteOCIRepository(t *testing.T) {
	t.Run("tag", func(t *testing.T) {
		dir, bare := helmRepo(t, map[string]string{
			".gitops/pipeline.yaml":  ociPipeline,
			"envs/dev/podinfo.yaml":  ociFile("dev", `tag: "6.6.0"`),
			"envs/prod/podinfo.yaml": ociFile("prod", `tag: "6.5.3"`),
		})
		r := promote(t, "", dir, "podinfo", "--to", "prod", "--skip-gates")
		if r.code != 0 {
			t.Fatalf("promote: %s", r)
		}
		if got := git(t, bare, "show", "main:envs/prod/podinfo.yaml"); got+"\n" != ociFile("prod", `tag: "6.6.0"`) {
			t.Fatalf("envs/prod/podinfo.yaml:\n%s", got)
		}
	})
	tests := []struct {
		name, dev, prod string
		args            []string
		want            []string
	}{
		{name: "range in the source", dev: `semver: ">=6.0.0"`, prod: `tag: "6.5.3"`,
			want: []string{`podinfo in dev is the semver range ">=6.0.0" at envs/dev/podinfo.yaml:11:13, not a version`, "--version"}},
		{name: "range beside a tag in the source", dev: "tag: 6.6.0\n    semver: 6.x", prod: `tag: "6.5.3"`,
			want: []string{`"6.x" at envs/dev/podinfo.yaml:12:13`}},
		{name: "range in the target", dev: `tag: "6.6.0"`, prod: `semver: "~6.5"`,
			want: []string{`podinfo in prod is the semver range "~6.5" at envs/prod/podinfo.yaml:11:13`, "pin a version there by hand first"}},
		{name: "range in the target, version given", dev: `tag: "6.6.0"`, prod: `semver: "^6"`, args: []string{"--version", "6.6.0"},
			want: []string{`podinfo in prod is the semver range "^6"`}},
		{name: "range given", dev: `tag: "6.6.0"`, prod: `tag: "6.5.3"`, args: []string{"--version", "6.x"},
			want: []string{`"6.x": a semver range, not a version`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, bare := helmRepo(t, map[string]string{
				".gitops/pipeline.yaml":  ociPipeline,
				"envs/dev/podinfo.yaml":  ociFile("dev", tt.dev),
				"envs/prod/podinfo.yaml": ociFile("prod", tt.prod),
			})
			before := snapshot(t, dir, bare)
			r := promote(t, "", dir, append([]string{"podinfo", "--to", "prod", "--skip-gates"}, tt.args...)...)
			if r.code != 2 {
				t.Fatalf("want exit 2: %s", r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, r)
				}
			}
			if after := snapshot(t, dir, bare); after != before {
				t.Fatalf("state changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestPromoteHelmReleaseRange: a HelmRelease whose spec.chart.spec.version
// is a range in the source is refused (it used to be copied into the
// target, turning a pinned production chart into a floating one).
func TestPromoteHelmReleaseRange(t *testing.T) {
	hr := func(version string) string {
		return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  chart:\n    spec:\n      chart: web\n      version: " + version + "\n"
	}
	dir, bare := helmRepo(t, map[string]string{
		".gitops/pipeline.yaml": "apiVersion: gitops.kubectl-gitops.dev/v1alpha1\nkind: Pipeline\nbranch: main\nenvironments:\n- name: dev\n  path: envs/dev\n- name: prod\n  path: envs/prod\napplications:\n- name: web\n  versions:\n  - file: hr.yaml\n    helmReleaseChart: true\n",
		"envs/dev/hr.yaml":      hr(`">=1.0.0-alpha"`),
		"envs/prod/hr.yaml":     hr("1.2.0"),
	})
	before := snapshot(t, dir, bare)
	r := promote(t, "", dir, "web", "--to", "prod", "--skip-gates")
	if want := `web in dev is the semver range ">=1.0.0-alpha" at envs/dev/hr.yaml:9:16, not a version`; r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("want exit 2 with %q: %s", want, r)
	}
	if after := snapshot(t, dir, bare); after != before {
		t.Fatalf("state changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Promoting every pending application skips the range and says so:
	// nothing is left to promote, which is no error.
	r = promote(t, "", dir, "--to", "prod", "--skip-gates")
	if r.code != 0 || !strings.Contains(r.stderr, "skipping web: dev has >=1.0.0-alpha") || snapshot(t, dir, bare) != before {
		t.Fatalf("promote --to prod: %s\n%s", r, git(t, bare, "show", "main:envs/prod/hr.yaml"))
	}
}

var helmReleases = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}

// helmReleaseLive puts a HelmRelease web in namespace ns on the control
// plane, its status written as helm-controller would: the latest release
// of chartVersion, Ready or not.
func helmReleaseLive(t *testing.T, cp *controlplane.ControlPlane, ns, chartVersion string, ready bool) {
	t.Helper()
	dc := dynamic.NewForConfigOrDie(cp.RESTConfig())
	ctx := t.Context()
	kubectl(t, cp, "create", "namespace", ns)
	hr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": map[string]any{"name": "web", "namespace": ns},
		"spec": map[string]any{"interval": "5m", "chart": map[string]any{"spec": map[string]any{
			"chart": "web", "version": "6.x", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "acme"}}}},
	}}
	hr, err := dc.Resource(helmReleases).Namespace(ns).Create(ctx, hr, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status, reason := "True", "InstallSucceeded"
	if !ready {
		status, reason = "False", "InstallFailed"
	}
	ts := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	hr.Object["status"] = map[string]any{
		"observedGeneration":    hr.GetGeneration(),
		"lastAttemptedRevision": chartVersion,
		"history": []any{map[string]any{"name": "web", "namespace": ns, "version": int64(1), "status": "deployed",
			"chartName": "web", "chartVersion": chartVersion, "appVersion": chartVersion, "digest": "sha256:00",
			"firstDeployed": ts, "lastDeployed": ts, "configDigest": "sha256:00"}},
		"conditions": []any{map[string]any{"type": "Ready", "status": status, "reason": reason, "message": reason,
			"lastTransitionTime": ts, "observedGeneration": hr.GetGeneration()}},
	}
	if _, err := dc.Resource(helmReleases).Namespace(ns).UpdateStatus(ctx, hr, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestPromoteResolveRange: --resolve-range promotes the chart version the
// source's HelmRelease runs in place of the range Git holds there — only
// when that release is healthy and its version lies in the range.
func TestPromoteResolveRange(t *testing.T) {
	cp := controlplane.ForTest(t)
	hr := func(version string) string {
		return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  chart:\n    spec:\n      chart: web\n      version: " + version + " # chart\n"
	}
	pipeline := func(ns string) string {
		return "apiVersion: gitops.kubectl-gitops.dev/v1alpha1\nkind: Pipeline\nbranch: main\nenvironments:\n- name: dev\n  path: envs/dev\n  namespace: " + ns +
			"\n- name: prod\n  path: envs/prod\n  namespace: prod\napplications:\n- name: web\n  versions:\n  - file: hr.yaml\n    helmReleaseChart: true\n" +
			"  health:\n    fluxHelmRelease: {name: web, namespace: '{namespace}'}\n"
	}
	tests := []struct {
		name, ns, live string
		ready          bool
		want           string // in prod after, or in stderr when code is 2
		code           int
	}{
		{name: "healthy, in range", ns: "resolve-ok", live: "6.2.1", ready: true, want: "version: 6.2.1 # chart", code: 0},
		{name: "not ready", ns: "resolve-unready", live: "6.2.1", ready: false, want: "cannot resolve the range: HelmRelease resolve-unready/web", code: 2},
		{name: "outside the range", ns: "resolve-stale", live: "5.9.0", ready: true, want: "runs chart version 5.9.0, outside the range", code: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			helmReleaseLive(t, cp, tt.ns, tt.live, tt.ready)
			dir, bare := helmRepo(t, map[string]string{
				".gitops/pipeline.yaml": pipeline(tt.ns),
				"envs/dev/hr.yaml":      hr("6.x"),
				"envs/prod/hr.yaml":     hr("6.0.0"),
			})
			before := snapshot(t, dir, bare)
			r := promote(t, cp.Kubeconfig, dir, "web", "--to", "prod", "--skip-gates", "--resolve-range")
			if r.code != tt.code {
				t.Fatalf("want exit %d: %s", tt.code, r)
			}
			if tt.code != 0 {
				if !strings.Contains(r.stderr, tt.want) {
					t.Errorf("stderr lacks %q: %s", tt.want, r)
				}
				if after := snapshot(t, dir, bare); after != before {
					t.Fatalf("state changed:\nbefore:\n%s\nafter:\n%s", before, after)
				}
				return
			}
			if got := git(t, bare, "show", "main:envs/prod/hr.yaml"); !strings.Contains(got, tt.want) {
				t.Fatalf("envs/prod/hr.yaml:\n%s", got)
			}
			if got := git(t, bare, "show", "main:envs/dev/hr.yaml"); !strings.Contains(got, "version: 6.x # chart") {
				t.Fatalf("the source changed:\n%s", got)
			}
			if !strings.Contains(r.stderr, "resolved web's range 6.x in dev to 6.2.1") {
				t.Errorf("the resolution is not reported: %s", r)
			}
		})
	}
}

// TestPromoteOCIRepositoryGate: the health gate of an application promoted
// by its OCIRepository tag checks the chart version the source's
// HelmRelease installed (there is no Git revision in it to check).
func TestPromoteOCIRepositoryGate(t *testing.T) {
	cp := controlplane.ForTest(t)
	helmReleaseLive(t, cp, "oci-gate", "6.6.0", true)
	pipeline := strings.Replace(ociPipeline, "    ociRepository: true\n",
		"    ociRepository: true\n  health:\n    fluxHelmRelease: {name: web, namespace: oci-gate}\n", 1)
	dir, bare := helmRepo(t, map[string]string{
		".gitops/pipeline.yaml":  pipeline,
		"envs/dev/podinfo.yaml":  ociFile("dev", `tag: "6.6.0"`),
		"envs/prod/podinfo.yaml": ociFile("prod", `tag: "6.5.3"`),
	})
	r := promote(t, cp.Kubeconfig, dir, "podinfo", "--to", "prod", "--allow-drift")
	if r.code != 0 || !strings.Contains(r.stdout, "HelmRelease oci-gate/web runs 6.6.0, healthy") {
		t.Fatalf("promote: %s", r)
	}
	if got := git(t, bare, "show", "main:envs/prod/podinfo.yaml"); got+"\n" != ociFile("prod", `tag: "6.6.0"`) {
		t.Fatalf("envs/prod/podinfo.yaml:\n%s", got)
	}
}
