package drift

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// chartsourceFetcher adapts pkg/chartsource to desired.ChartFetcher for
// this test (the command's own adapter is plugins/drift's Flux wiring).
type chartsourceFetcher struct{ f *chartsource.Fetcher }

func (c chartsourceFetcher) Fetch(ctx context.Context, ref desired.ChartRef) (string, string, error) {
	return c.f.Fetch(ctx, chartsource.ChartRef{RepoURL: ref.URL, Type: ref.Type, Chart: ref.Chart, Version: ref.Version,
		SourceKind: ref.SourceKind, SourceNamespace: ref.SourceNamespace, SourceName: ref.SourceName})
}

// TestArgoChartFromHelmRepository: an Application with spec.source.chart
// from an HTTP chart repository (packaged and indexed by the real Helm
// CLI, served over HTTP), targetRevision a range: the chart is fetched
// through pkg/chartsource, resolved to the highest matching version, and
// rendered as Argo CD's repo-server would: the same objects as
// `helm template` of that archive with Argo CD's command line, the hook
// left out; the chart's digest is the origin.
func TestArgoChartFromHelmRepository(t *testing.T) {
	helm := peertools.Require(t, peertools.Helm, "helm")
	run := helmCLI(t, helm)
	repoDir := t.TempDir()
	chartDir, err := filepath.Abs(filepath.Join(argoExampleApps, "helm-guestbook"))
	if err != nil {
		t.Fatal(err)
	}
	run("", "package", chartDir, "-d", repoDir)
	run("", "package", chartDir, "-d", repoDir, "--version", "0.2.0")
	run("", "package", chartDir, "-d", repoDir, "--version", "1.0.0")
	srv := httptest.NewServer(http.FileServer(http.Dir(repoDir)))
	defer srv.Close()
	run("", "repo", "index", repoDir, "--url", srv.URL)

	var app map[string]any
	if err := yaml.Unmarshal([]byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  source:
    repoURL: `+srv.URL+`
    chart: helm-guestbook
    targetRevision: 0.x
    helm: {parameters: [{name: replicaCount, value: "3"}], valuesObject: {config: {greeting: from-repo}}}
`), &app); err != nil {
		t.Fatal(err)
	}
	op := gitopsapi.ArgoSource(&unstructured.Unstructured{Object: app}, gitopsapi.ArgoSettings{Namespace: "argocd"})
	cf, err := chartsource.New(chartsource.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	caps := helmrender.Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"policy/v1/PodDisruptionBudget"}}
	render := func(ctx context.Context, op *gitopsapi.Source, chartPath, root string) (*desired.HelmRender, error) {
		return renderArgoHelm(ctx, op, chartPath, root, caps, argoDependencies(chartsourceFetcher{cf}, op), nil)
	}
	f := desired.NewFetcher(desired.Options{Helm: render, Charts: chartsourceFetcher{cf}})
	defer f.Close()
	s := f.Operator(t.Context(), op, true, func(u *unstructured.Unstructured) bool { return u.GetKind() != "CustomResourceDefinition" })
	if s.Skip != "" {
		t.Fatalf("skipped: %s", s.Skip)
	}
	if !strings.HasPrefix(s.Origin.Commit, "sha256:") || s.Origin.Path != "helm-guestbook" {
		t.Errorf("origin %+v", s.Origin)
	}
	ours := desiredObjects(t, s)

	// helm template of the 0.2.0 archive with Argo CD's command line.
	tpl, err := gitopsapi.ArgoHelmTemplate(op, "")
	if err != nil {
		t.Fatal(err)
	}
	vf := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(vf, tpl.Values, 0o600); err != nil {
		t.Fatal(err)
	}
	args := tpl.Args("", vf, "1.37.2", caps.APIVersions)
	args[1] = filepath.Join(repoDir, "helm-guestbook-0.2.0.tgz")
	out := run("", args...)
	theirs := helmTemplateObjects(t, out)
	if len(theirs) != 5 || !strings.Contains(out, "chart: helm-guestbook-0.2.0") || !strings.Contains(out, "from-repo") {
		t.Fatalf("helm template printed %d objects:\n%s", len(theirs), out)
	}
	if diff := cmp.Diff(theirs, ours); diff != "" {
		t.Errorf("objects (-helm +drift):\n%s", diff)
	}

	// The chart's own value files and file parameters (Argo CD's
	// application path is the chart it fetched), a missing one ignored:
	// the same objects as helm template in the unpacked chart.
	if err := yaml.Unmarshal([]byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  source:
    repoURL: `+srv.URL+`
    chart: helm-guestbook
    targetRevision: 0.2.0
    helm: {ignoreMissingValueFiles: true, valueFiles: [values-production.yaml, missing.yaml], fileParameters: [{name: config.motd, path: files/motd.txt}]}
`), &app); err != nil {
		t.Fatal(err)
	}
	op = gitopsapi.ArgoSource(&unstructured.Unstructured{Object: app}, gitopsapi.ArgoSettings{Namespace: "argocd"})
	s = f.Operator(t.Context(), op, true, func(u *unstructured.Unstructured) bool { return u.GetKind() != "CustomResourceDefinition" })
	if s.Skip != "" {
		t.Fatalf("with the chart's value files: skipped: %s", s.Skip)
	}
	unpacked := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", filepath.Join(repoDir, "helm-guestbook-0.2.0.tgz"), "-C", unpacked).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if tpl, err = gitopsapi.ArgoHelmTemplate(op, ""); err != nil {
		t.Fatal(err)
	}
	unpackedChart := filepath.Join(unpacked, "helm-guestbook")
	args = tpl.Args(unpackedChart, "", "1.37.2", caps.APIVersions)
	for i, a := range args { // helm fails on a missing --values file
		if strings.HasSuffix(a, "missing.yaml") {
			args = append(args[:i-1], args[i+1:]...)
			break
		}
	}
	out = run("", args...)
	if !strings.Contains(out, "hello from production") || !strings.Contains(out, "welcome to the guestbook") {
		t.Fatalf("helm template did not use the chart's files:\n%s", out)
	}
	if diff := cmp.Diff(helmTemplateObjects(t, out), desiredObjects(t, s)); diff != "" {
		t.Errorf("with the chart's value files: objects (-helm +drift):\n%s", diff)
	}

	// Argo CD's own multi-source example: the chart from the repository,
	// its values from a Git repository (a ref source).
	setGitEnv(t)
	valuesRepo := bareRepo(t, t.TempDir(), "values", "", map[string]string{"envs/prod/values.yaml": "replicaCount: 2\nconfig: {greeting: from-the-values-repo}\n"})
	if err := yaml.Unmarshal([]byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  sources:
  - {repoURL: `+srv.URL+`, chart: helm-guestbook, targetRevision: 0.2.0, helm: {valueFiles: [$values/envs/prod/values.yaml]}}
  - {repoURL: "file://`+valuesRepo+`", targetRevision: main, ref: values}
`), &app); err != nil {
		t.Fatal(err)
	}
	op = gitopsapi.ArgoSource(&unstructured.Unstructured{Object: app}, gitopsapi.ArgoSettings{Namespace: "argocd"})
	s = f.Operator(t.Context(), op, true, func(u *unstructured.Unstructured) bool { return u.GetKind() != "CustomResourceDefinition" })
	if s.Skip != "" {
		t.Fatalf("with a ref source: skipped: %s", s.Skip)
	}
	var greeting string
	var replicas int64
	for _, d := range s.Desired {
		o := desiredObject(t, d)
		switch o.GetKind() {
		case "ConfigMap":
			greeting, _, _ = unstructured.NestedString(o.Object, "data", "GREETING")
		case "Deployment":
			replicas, _, _ = unstructured.NestedInt64(o.Object, "spec", "replicas")
		}
	}
	if greeting != "from-the-values-repo" || replicas != 2 {
		t.Errorf("with a ref source: greeting %q, replicas %d: the ref source's values file was not used", greeting, replicas)
	}
}

// helmCLI returns a runner of the Helm CLI at helm, in dir ("": the
// current directory), its configuration, cache and data in a temporary
// directory of t; it returns the output, failing t on an error.
func helmCLI(t *testing.T, helm string) func(dir string, args ...string) string {
	t.Helper()
	home := t.TempDir()
	env := append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	return func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(helm, args...)
		cmd.Env, cmd.Dir = env, dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}
