package desired

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// TestArgoChartSource: an Argo CD source with spec.source.chart is fetched
// through the ChartFetcher (an OCI registry path without scheme, as Argo
// CD writes it, becomes oci://…; targetRevision is the version or range),
// rendered by the HelmRenderer with no checkout, its hooks left out by
// Argo CD's rules and its secret-like helm values carried for sweeping;
// with no fetcher wired it is skipped as not supported (an error when
// asked for by name), never in sync.
func TestArgoChartSource(t *testing.T) {
	t.Parallel()
	var app map[string]any
	if err := yaml.Unmarshal([]byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: redis, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: cache}
  source:
    repoURL: registry.example.com/charts
    chart: redis
    targetRevision: 18.x
    helm: {parameters: [{name: auth.password, value: canary-s3cr3t-7f3a}]}
`), &app); err != nil {
		t.Fatal(err)
	}
	op := func() *gitopsapi.Source {
		return gitopsapi.ArgoSource(&unstructured.Unstructured{Object: app}, gitopsapi.ArgoSettings{Namespace: "argocd"})
	}
	namespaced := func(*unstructured.Unstructured) bool { return true }
	var rendered string
	render := func(_ context.Context, _ *gitopsapi.Source, chartPath, root string) (*HelmRender, error) {
		rendered = chartPath + "|" + root
		var objs []manifest.Object
		for _, hook := range []string{"", "post-install"} {
			obj := &unstructured.Unstructured{}
			obj.SetAPIVersion("v1")
			obj.SetKind("ConfigMap")
			obj.SetName("redis" + hook)
			if hook != "" {
				obj.SetAnnotations(map[string]string{"helm.sh/hook": hook})
			}
			objs = append(objs, manifest.Object{Obj: obj, Source: manifest.Source{File: "redis/templates/cm.yaml"}})
		}
		return &HelmRender{Set: &manifest.Set{Objects: objs}}, nil
	}
	charts := &fakeCharts{path: "/cache/redis-18.1.0.tgz"}
	s := NewFetcher(Options{Helm: render, Charts: charts}).Operator(context.Background(), op(), true, namespaced)
	if s.Skip != "" || len(s.Desired) != 1 || rendered != "/cache/redis-18.1.0.tgz|" {
		t.Fatalf("skip %q, %d objects, rendered %q", s.Skip, len(s.Desired), rendered)
	}
	if g := charts.got; g.URL != "oci://registry.example.com/charts" || g.Type != "oci" || g.Chart != "redis" || g.Version != "18.x" {
		t.Errorf("fetched %+v", g)
	}
	d := loaded(t, s.Desired[0])
	if d.GetNamespace() != "cache" || d.GetAnnotations()[gitopsapi.ArgoTrackingID] != "redis:/ConfigMap:cache/redis" {
		t.Errorf("object %s/%s annotations %v", d.GetNamespace(), d.GetName(), d.GetAnnotations())
	}
	if s.Origin.Commit != "sha256:abc" || s.Origin.Path != "redis" || s.Origin.Revision != "18.x" {
		t.Errorf("origin %+v", s.Origin)
	}
	if !slices.Contains(s.SecretValues, "canary-s3cr3t-7f3a") {
		t.Errorf("secret values %v", s.SecretValues)
	}
	for _, explicit := range []bool{false, true} {
		s := NewFetcher(Options{Helm: render}).Operator(context.Background(), op(), explicit, namespaced)
		if !strings.HasPrefix(s.Skip, "not supported: Helm chart sources") || s.SkipIsError != explicit || len(s.Desired) != 0 {
			t.Errorf("no fetcher, explicit %v: skip %q (error %v), %d objects", explicit, s.Skip, s.SkipIsError, len(s.Desired))
		}
	}
}

// TestArgoRefSources: the ref source a chart's "$values/…" value file names
// is fetched (real Git) at its targetRevision, or with AppliedRevision at
// the commit status.sync.revisions gives it, and handed to the renderer as
// the part's RefRoots; the Application itself is left as it was read. Argo
// CD's refusals: two refs to one repository at different revisions, a
// repository with a symbolic link leading out of it.
func TestArgoRefSources(t *testing.T) {
	base := t.TempDir()
	work, bare := filepath.Join(base, "work"), filepath.Join(base, "values.git")
	gitea.Git(t, base, "init", "-q", "-b", "main", work)
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(work, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		gitea.Git(t, work, "add", "-A")
		gitea.Git(t, work, "commit", "-q", "-m", name)
	}
	write("v.yaml", "revision: first\n")
	first := strings.TrimSpace(gitea.Git(t, work, "rev-parse", "HEAD"))
	write("v.yaml", "revision: second\n")
	gitea.Git(t, base, "clone", "-q", "--bare", work, bare)
	linked := filepath.Join(base, "linked.git")
	if err := os.Symlink("/etc/passwd", filepath.Join(work, "passwd")); err != nil {
		t.Fatal(err)
	}
	gitea.Git(t, work, "add", "-A")
	gitea.Git(t, work, "commit", "-q", "-m", "link")
	gitea.Git(t, base, "clone", "-q", "--bare", work, linked)

	app := func(refs string) *gitopsapi.Source {
		t.Helper()
		var m map[string]any
		if err := yaml.Unmarshal([]byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: redis, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: cache}
  sources:
  - {repoURL: "https://charts.example.com", chart: redis, targetRevision: 18.1.0, helm: {valueFiles: [$values/v.yaml, $more/v.yaml]}}
`+refs+`
status: {sync: {revisions: ["18.1.0", "`+first+`", "`+first+`"]}}
`), &m); err != nil {
			t.Fatal(err)
		}
		return gitopsapi.ArgoSource(&unstructured.Unstructured{Object: m}, gitopsapi.ArgoSettings{Namespace: "argocd"})
	}
	var read []string
	render := func(_ context.Context, op *gitopsapi.Source, _, _ string) (*HelmRender, error) {
		read = nil
		for _, k := range []string{"$values", "$more"} {
			data, err := os.ReadFile(filepath.Join(op.RefRoots[k], "v.yaml"))
			if err != nil {
				return nil, err
			}
			read = append(read, strings.TrimSpace(string(data)))
		}
		return &HelmRender{Set: &manifest.Set{}}, nil
	}
	namespaced := func(*unstructured.Unstructured) bool { return true }
	both := "  - {repoURL: \"file://" + bare + "\", targetRevision: main, ref: values}\n  - {repoURL: \"file://" + bare + "\", targetRevision: main, ref: more}"
	for _, applied := range []bool{false, true} {
		op := app(both)
		f := NewFetcher(Options{Helm: render, Charts: &fakeCharts{path: "/cache/redis.tgz"}, AppliedRevision: applied})
		s := f.Operator(t.Context(), op, true, namespaced)
		f.Close()
		want := []string{"revision: second", "revision: second"}
		if applied {
			want = []string{"revision: first", "revision: first"}
		}
		if s.Skip != "" || !slices.Equal(read, want) {
			t.Errorf("applied %v: skip %q, read %q, want %q", applied, s.Skip, read, want)
		}
		if op.Parts[0].RefRoots != nil {
			t.Errorf("the Application read was changed: %v", op.Parts[0].RefRoots)
		}
	}
	for refs, want := range map[string]string{
		"  - {repoURL: \"file://" + bare + "\", targetRevision: main, ref: values}\n  - {repoURL: \"file://" + bare + "/\", targetRevision: " + first + ", ref: more}": `cannot reference multiple revisions for the same repository ($values references "main" while $more references "` + first + `")`,
		"  - {repoURL: \"file://" + linked + "\", targetRevision: main, ref: values}\n  - {repoURL: \"file://" + linked + "\", targetRevision: main, ref: more}":       "symbolic link passwd: outside the checkout",
	} {
		f := NewFetcher(Options{Helm: render, Charts: &fakeCharts{path: "/cache/redis.tgz"}})
		s := f.Operator(t.Context(), app(refs), true, namespaced)
		f.Close()
		if !s.SkipIsError || !strings.Contains(s.Skip, want) {
			t.Errorf("skip %q, want %q", s.Skip, want)
		}
	}
}
