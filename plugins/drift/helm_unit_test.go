package drift

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
)

// TestHelmValuesFiles: a chart's valuesFiles (paths in the repository)
// replace its values.yaml, merged in order, as source-controller does; a
// path leading out of the checkout is refused.
func TestHelmValuesFiles(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "charts/webapp"), os.DirFS(helmChartFixture)); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"env/prod.yaml": "replicaCount: 7\nimage: {repository: registry.example.com/webapp, tag: '3.0'}\nconfig: {greeting: hi, smtp: {host: h, pass: p}}\nservice: {type: ClusterIP, port: 80}\npodDisruptionBudget: {enabled: false}\nmigration: {enabled: false}\n",
		"env/eu.yaml":   "replicaCount: 9\n",
	}
	for name, data := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	op := gitopsapi.FluxHelmRelease(&unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": map[string]any{"name": "web", "namespace": "apps"},
		"spec": map[string]any{"chart": map[string]any{"spec": map[string]any{"chart": "charts/webapp",
			"valuesFiles": []any{"env/prod.yaml", "env/eu.yaml"}, "sourceRef": map[string]any{"kind": "GitRepository", "name": "fleet"}}}},
	}})
	caps := helmrender.Capabilities{KubeVersion: "v1.37.2"}
	r, err := renderHelmRelease(context.Background(), op, filepath.Join(root, "charts/webapp"), root, caps, nil)
	if err != nil {
		t.Fatal(err)
	}
	var replicas int64
	var image string
	for _, o := range r.Set.Objects {
		if o.Obj.GetKind() == "Deployment" {
			replicas, _, _ = unstructured.NestedInt64(o.Obj.Object, "spec", "replicas")
			cs, _, _ := unstructured.NestedSlice(o.Obj.Object, "spec", "template", "spec", "containers")
			image, _ = cs[0].(map[string]any)["image"].(string)
		}
	}
	if replicas != 9 || image != "registry.example.com/webapp:3.0" {
		t.Errorf("replicas %d image %q, want 9 and the prod file's image", replicas, image)
	}
	op.Helm.Chart.ValuesFiles = []string{"../outside.yaml"}
	if _, err := renderHelmRelease(context.Background(), op, filepath.Join(root, "charts/webapp"), root, caps, nil); err == nil || !strings.Contains(err.Error(), "outside.yaml") {
		t.Errorf("a values file out of the checkout: err = %v", err)
	}
}
