package helmrender

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

var testCaps = Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"policy/v1/PodDisruptionBudget"}}

func byKindName(objs []Object) map[string]Object {
	out := map[string]Object{}
	for _, o := range objs {
		out[o.Obj.GetKind()+"/"+o.Obj.GetName()] = o
	}
	return out
}

// TestRenderAsHelmController renders the fixture chart as helm-controller
// would: hooks left out, CRDs in with the origin labels only, values and
// capabilities seen by the templates, kustomize post-renderers applied,
// commonMetadata, origin labels and Helm's release metadata on every
// object.
func TestRenderAsHelmController(t *testing.T) {
	t.Parallel()
	res, err := Render(context.Background(), Release{
		Name: "web", Namespace: "apps", Chart: "testdata/webapp",
		Values:       map[string]any{"replicaCount": 2, "config": map[string]any{"greeting": "bonjour"}},
		Capabilities: testCaps, CRDs: true,
		PostRenderers: []map[string]any{{
			"images":  []any{map[string]any{"name": "ghcr.io/example/webapp", "newTag": "2.0.1"}},
			"patches": []any{map[string]any{"target": map[string]any{"kind": "Service"}, "patch": "- op: add\n  path: /metadata/annotations\n  value: {patched: \"yes\"}\n"}},
		}},
		CommonLabels:    map[string]string{"team": "web"},
		OriginNamespace: "flux-system", OriginName: "web",
		ReleaseMetadata: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := byKindName(res.Objects)
	var names []string
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	want := []string{"ConfigMap/web-webapp", "CustomResourceDefinition/widgets.webapp.example.org", "Deployment/web-webapp", "PodDisruptionBudget/web-webapp", "Service/web-webapp"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"webapp/templates/migration-job.yaml"}, res.Hooks); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
	dep := got["Deployment/web-webapp"]
	if dep.Template != "webapp/templates/deployment.yaml" {
		t.Errorf("template of the Deployment = %q", dep.Template)
	}
	if r, _, _ := unstructured.NestedInt64(dep.Obj.Object, "spec", "replicas"); r != 2 {
		t.Errorf("replicas = %d, want 2", r)
	}
	cs, _, _ := unstructured.NestedSlice(dep.Obj.Object, "spec", "template", "spec", "containers")
	if img := cs[0].(map[string]any)["image"]; img != "ghcr.io/example/webapp:2.0.1" {
		t.Errorf("image = %v, want the post-renderer's tag", img)
	}
	wantLabels := map[string]string{"team": "web", OriginNameLabel: "web", OriginNSLabel: "flux-system", ManagedByLabel: ManagedByHelm}
	for k, v := range wantLabels {
		if got := dep.Obj.GetLabels()[k]; got != v {
			t.Errorf("Deployment label %s = %q, want %q", k, got, v)
		}
	}
	if a := dep.Obj.GetAnnotations(); a[ReleaseNameAnnotation] != "web" || a[ReleaseNSAnnotation] != "apps" {
		t.Errorf("Deployment annotations = %v", a)
	}
	if a := got["Service/web-webapp"].Obj.GetAnnotations()["patched"]; a != "yes" {
		t.Errorf("the post-renderer's patch was not applied to the Service: %v", got["Service/web-webapp"].Obj.GetAnnotations())
	}
	cm := got["ConfigMap/web-webapp"].Obj
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "GREETING"); v != "bonjour" {
		t.Errorf("GREETING = %q", v)
	}
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "KUBE_VERSION"); v != "v1.37.2" {
		t.Errorf("KUBE_VERSION = %q, want the capabilities' version", v)
	}
	crd := got["CustomResourceDefinition/widgets.webapp.example.org"]
	if !crd.CRD || crd.Obj.GetLabels()[OriginNameLabel] != "web" || crd.Obj.GetLabels()[ManagedByLabel] != "" || crd.Obj.GetLabels()["team"] != "" {
		t.Errorf("CRD: crd=%v labels=%v (want the origin labels only)", crd.CRD, crd.Obj.GetLabels())
	}
}

// TestRenderCapabilities: a template that tests an API the capabilities
// do not list renders nothing.
func TestRenderCapabilities(t *testing.T) {
	t.Parallel()
	res, err := Render(context.Background(), Release{Name: "web", Namespace: "apps", Chart: "testdata/webapp", Capabilities: Capabilities{KubeVersion: "v1.37.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := byKindName(res.Objects)["PodDisruptionBudget/web-webapp"]; ok {
		t.Error("PodDisruptionBudget rendered though policy/v1/PodDisruptionBudget is not in the capabilities")
	}
	if _, err := Render(context.Background(), Release{Name: "web", Namespace: "apps", Chart: "testdata/webapp", Capabilities: Capabilities{KubeVersion: "v1.20.0"}}); err == nil || !strings.Contains(err.Error(), "kubeVersion") && !strings.Contains(err.Error(), "Kubernetes") {
		t.Errorf("chart kubeVersion >=1.25 on v1.20.0: err = %v, want a version error", err)
	}
}

// TestRenderErrors: bad values (the chart's schema) and a missing chart
// are errors, never an empty render.
func TestRenderErrors(t *testing.T) {
	t.Parallel()
	for name, rel := range map[string]Release{
		"schema":   {Name: "web", Namespace: "apps", Chart: "testdata/webapp", Values: map[string]any{"replicaCount": "three"}},
		"missing":  {Name: "web", Namespace: "apps", Chart: "testdata/nope"},
		"template": {Name: "web", Namespace: "apps", Chart: "testdata/webapp", Values: map[string]any{"config": "flat"}},
	} {
		if res, err := Render(context.Background(), rel); err == nil {
			t.Errorf("%s: no error, %d objects", name, len(res.Objects))
		}
	}
}

// sealedSecretsChart locates the sealed-secrets chart in the module cache
// at test time (go mod download), rather than copying another project's
// chart into testdata: the module is pinned by version and checksum.
func sealedSecretsChart(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/bitnami-labs/sealed-secrets@v0.40.0").Output()
	var m struct{ Dir string }
	if err == nil {
		err = json.Unmarshal(out, &m)
	}
	dir := filepath.Join(m.Dir, "helm", "sealed-secrets")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "Chart.yaml"))
	}
	if err != nil {
		if os.Getenv("KUBECTL_GITOPS_REQUIRE_CLUSTER") != "" {
			t.Fatalf("sealed-secrets chart not available: %v", err)
		}
		t.Skipf("sealed-secrets chart not available: %v", err)
	}
	return dir
}

// TestRenderSealedSecrets renders a chart someone else wrote.
func TestRenderSealedSecrets(t *testing.T) {
	t.Parallel()
	res, err := Render(context.Background(), Release{Name: "sealed-secrets", Namespace: "kube-system", Chart: sealedSecretsChart(t),
		Values: map[string]any{"fullnameOverride": "sealed-secrets-controller"}, Capabilities: testCaps, CRDs: true})
	if err != nil {
		t.Fatal(err)
	}
	got := byKindName(res.Objects)
	for _, k := range []string{"Deployment/sealed-secrets-controller", "Service/sealed-secrets-controller", "CustomResourceDefinition/sealedsecrets.bitnami.com"} {
		if _, ok := got[k]; !ok {
			t.Errorf("%s not rendered; got %d objects", k, len(got))
		}
	}
}

// helmTemplate runs the real Helm CLI's template command and returns the
// objects it prints, without hooks.
func helmTemplate(t *testing.T, chart string, values map[string]any) []map[string]any {
	t.Helper()
	helm := peertools.Require(t, peertools.Helm, "helm")
	vf := filepath.Join(t.TempDir(), "values.yaml")
	data, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vf, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(helm, "template", "rel", chart, "-n", "apps", "-f", vf, "--kube-version", testCaps.KubeVersion, "--api-versions", strings.Join(testCaps.APIVersions, ","))
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	var objs []map[string]any
	for _, doc := range strings.Split(string(out), "\n---") {
		us, err := parseDoc(doc)
		if err != nil {
			t.Fatalf("helm template output: %v", err)
		}
		if len(us) == 0 {
			continue
		}
		m := us[0].Object
		md, _ := m["metadata"].(map[string]any)
		if ann, _ := md["annotations"].(map[string]any); ann["helm.sh/hook"] != nil {
			continue
		}
		objs = append(objs, m)
	}
	return objs
}

// TestSameAsHelmTemplate is the differential test: for the same chart,
// release, namespace, values, kube version and API versions, Render gives
// the objects the real Helm CLI's template prints (hooks aside).
func TestSameAsHelmTemplate(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		chart  string
		values map[string]any
	}{
		"fixture":        {"testdata/webapp", map[string]any{"replicaCount": 3, "image": map[string]any{"tag": "9.9"}, "config": map[string]any{"smtp": map[string]any{"pass": "p"}}}},
		"sealed-secrets": {"", map[string]any{"fullnameOverride": "sealed-secrets-controller", "metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": false}}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			chart := tc.chart
			if chart == "" {
				chart = sealedSecretsChart(t)
			}
			want := helmTemplate(t, chart, tc.values)
			res, err := Render(context.Background(), Release{Name: "rel", Namespace: "apps", Chart: chart, Values: tc.values, Capabilities: testCaps})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]map[string]any, 0, len(res.Objects))
			for _, o := range res.Objects {
				got = append(got, o.Obj.Object)
			}
			key := func(m map[string]any) string {
				md, _ := m["metadata"].(map[string]any)
				return m["kind"].(string) + "/" + md["name"].(string)
			}
			sortObjs := func(s []map[string]any) {
				sort.Slice(s, func(i, j int) bool { return key(s[i]) < key(s[j]) })
			}
			sortObjs(want)
			sortObjs(got)
			if len(want) < 3 {
				t.Fatalf("helm template printed %d objects: the comparison would prove little", len(want))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Render differs from helm template (-helm +ours):\n%s", diff)
			}
		})
	}
}
