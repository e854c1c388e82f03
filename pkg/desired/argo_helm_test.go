package desired

import (
	"context"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
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
	d := s.Desired[0].Object
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
