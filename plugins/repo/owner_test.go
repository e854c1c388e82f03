package repo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolint"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

var helmReleases = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}

// helmRelease is a HelmRelease in namespace ns: with a chart template
// (chart) or a chartRef to an OCIRepository (Git's newer version).
func helmRelease(name, ns string, chartRef bool) string {
	spec := `  chart:
    spec:
      chart: podinfo
      sourceRef:
        kind: HelmRepository
        name: podinfo
`
	if chartRef {
		spec = `  chartRef:
    kind: OCIRepository
    name: podinfo
`
	}
	return `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ` + name + `
  namespace: ` + ns + `
spec:
  interval: 10m
` + spec
}

func toObject(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	o := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &o.Object); err != nil {
		t.Fatal(err)
	}
	return o
}

// lint --kubeconfig dry-runs each object as the manager that applies it
// on the cluster: a HelmRelease kustomize-controller applied (server-side,
// as Flux does) and one argocd-controller applied client-side (Argo CD's
// default: an Update with the last-applied annotation) both moved in Git
// from spec.chart to spec.chartRef. Applied as our own manager, the server
// keeps the chart the operator owns and rejects the result ("either chart
// or chartRef must be set"); as the operator, chart goes, as it will on the
// next sync. A generateName object (an Argo CD hook) is skipped with a
// warning, and the lint still reports the rest.
func TestLintDryRunsAsOwningManager(t *testing.T) {
	cp := controlplane.ForTest(t)
	if err := cp.InstallCRDs(t.Context()); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cp.RESTConfig())
	ns := "lint-owner"
	ensureNamespaces(t, dyn, ns)
	hrs := dyn.Resource(helmReleases).Namespace(ns)

	// Flux: server-side apply, force, as kustomize-controller.
	flux := toObject(t, helmRelease("by-flux", ns, false))
	data, _ := json.Marshal(flux.Object)
	force := true
	if _, err := hrs.Patch(t.Context(), "by-flux", types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "kustomize-controller", Force: &force}); err != nil {
		t.Fatal(err)
	}
	// Argo CD, client-side: created with the last-applied annotation, an
	// Update by argocd-controller.
	argo := toObject(t, helmRelease("by-argocd", ns, false))
	last, _ := json.Marshal(argo.Object)
	argo.SetAnnotations(map[string]string{"kubectl.kubernetes.io/last-applied-configuration": string(last)})
	if _, err := hrs.Create(t.Context(), argo, metav1.CreateOptions{FieldManager: "argocd-controller"}); err != nil {
		t.Fatal(err)
	}

	// A built-in kind (strategic merge): Git moved the Deployment from
	// RollingUpdate (with parameters) to Recreate.
	deploys := dyn.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns)
	dep := toObject(t, deployment(ns, true))
	last, _ = json.Marshal(dep.Object)
	dep.SetAnnotations(map[string]string{"kubectl.kubernetes.io/last-applied-configuration": string(last)})
	if _, err := deploys.Create(t.Context(), dep, metav1.CreateOptions{FieldManager: "argocd-controller"}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("by-flux.yaml", helmRelease("by-flux", ns, true))
	write("by-argocd.yaml", helmRelease("by-argocd", ns, true))
	write("deployment.yaml", deployment(ns, false))

	r := runRepo(t, cp.Kubeconfig, "lint", dir, "-o", "json")
	if r.code != 0 || strings.Contains(r.stdout, "chartRef") || strings.Contains(r.stdout, "rollingUpdate") {
		t.Errorf("lint of Git's chartRef: %s", r)
	}
	// The dry run changed nothing: the operators still own chart.
	for _, name := range []string{"by-flux", "by-argocd"} {
		live, err := hrs.Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := unstructured.NestedMap(live.Object, "spec", "chart"); !ok {
			t.Errorf("%s: spec.chart gone from the cluster after a dry run", name)
		}
	}

	// A hook with generateName, beside an object the server rejects.
	write("hook.yaml", `apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
  namespace: `+ns+`
  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox:1.37
`)
	write("bad.yaml", `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: bad
  namespace: `+ns+`
spec:
  interval: 10m
`)
	r = runRepo(t, cp.Kubeconfig, "lint", dir, "-o", "json")
	var rep repolint.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 {
		t.Fatalf("lint with a hook: %v: %s", err, r)
	}
	var skipped, rejected bool
	for _, f := range rep.Findings {
		switch {
		case f.Rule == repolint.RuleDryRunSkipped && f.File == "hook.yaml" && strings.Contains(f.Message, "generateName"):
			skipped = true
		case f.Rule == repolint.RuleDryRun && f.File == "bad.yaml":
			rejected = true
		}
	}
	if !skipped || !rejected {
		t.Errorf("want the hook skipped with a note and bad.yaml rejected: %s", r)
	}
}

// deployment is a Deployment in ns, rolling (with parameters) or Recreate.
func deployment(ns string, rolling bool) string {
	strategy := "    type: Recreate\n"
	if rolling {
		strategy = "    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0\n"
	}
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ` + ns + `
spec:
  replicas: 1
  strategy:
` + strategy + `  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27.3
`
}

// A Secret Argo CD applied client-side carries its values in the
// last-applied annotation, which the dry run reads and sends back: no value,
// old (live) or new (Git), reaches the output, even when the server rejects
// the patch.
func TestLintClientSideSecretNoLeak(t *testing.T) {
	cp := controlplane.ForTest(t)
	dyn := dynamic.NewForConfigOrDie(cp.RESTConfig())
	ns := "lint-owner-secret"
	ensureNamespaces(t, dyn, ns)
	const oldValue, newValue = "canary-s3cr3t-7f3a-old", "canary-s3cr3t-7f3a-new"
	secrets := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}).Namespace(ns)
	live := toObject(t, `apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: `+ns+`
type: Opaque
stringData:
  token: `+oldValue+`
`)
	last, _ := json.Marshal(live.Object)
	live.SetAnnotations(map[string]string{"kubectl.kubernetes.io/last-applied-configuration": string(last)})
	if _, err := secrets.Create(t.Context(), live, metav1.CreateOptions{FieldManager: "argocd-controller"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Git changes the value, and the type (immutable: the server rejects it).
	if err := os.WriteFile(filepath.Join(dir, "secret.yaml"), []byte(`apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: `+ns+`
type: kubernetes.io/basic-auth
stringData:
  token: `+newValue+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runRepo(t, cp.Kubeconfig, "lint", dir, "-o", "json")
	if r.code != 1 || !strings.Contains(r.stdout, `"rule": "dry-run"`) || !strings.Contains(r.stdout, "immutable") {
		t.Errorf("want the server's rejection of the type change: %s", r)
	}
	for _, v := range []string{oldValue, newValue, "Y2FuYXJ5LXMzY3IzdC03ZjNh"} {
		if strings.Contains(r.stdout, v) || strings.Contains(r.stderr, v) {
			t.Errorf("secret value %s in the output: %s", v, r)
		}
	}
}
