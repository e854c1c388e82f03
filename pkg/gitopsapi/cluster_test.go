package gitopsapi

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func TestMain(m *testing.M) {
	jsonneteval.Worker()
	os.Exit(controlplane.RunTests(m, controlplane.Options{CRDs: true}))
}

func kubectl(t *testing.T, cp *controlplane.ControlPlane, stdin string, args ...string) {
	t.Helper()
	cmd := cp.Kubectl(t.Context(), args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func client(t *testing.T, cp *controlplane.ControlPlane) *cluster.Client {
	t.Helper()
	c, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestArgoCDOnTheServer creates Applications and argocd-cm with the real
// CRDs and reads them back.
func TestArgoCDOnTheServer(t *testing.T) {
	cp := controlplane.ForTest(t)
	c := client(t, cp)
	kubectl(t, cp, "", "create", "namespace", "argo-t")
	kubectl(t, cp, "", "create", "namespace", "argo-team")

	st, warning, err := ReadArgoSettings(t.Context(), c, "argo-t")
	if err != nil || st.TrackingMethod != TrackingAnnotation || !strings.Contains(warning, "not found") {
		t.Errorf("without argocd-cm: %+v, %q, %v", st, warning, err)
	}
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cm, namespace: argo-t}
data: {application.resourceTrackingMethod: annotation+label, application.instanceLabelKey: example.com/app, installationID: prod-1, helm.valuesFileSchemes: "https, s3,"}
`, "apply", "-f", "-")
	st, warning, err = ReadArgoSettings(t.Context(), c, "argo-t")
	want := ArgoSettings{Namespace: "argo-t", TrackingMethod: "annotation+label", InstanceLabelKey: "example.com/app", InstallationID: "prod-1",
		ValuesFileSchemes: []string{"https", "s3"}}
	if err != nil || warning != "" || !reflect.DeepEqual(st, want) {
		t.Errorf("settings %+v, %q, %v; want %+v", st, warning, err, want)
	}

	app := func(ns, name, path string) string {
		return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  project: default
  source: {repoURL: "file:///srv/fleet.git", targetRevision: main, path: ` + path + `, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  ignoreDifferences: [{group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}]
status:
  sync: {status: Synced, revision: "0123456789abcdef0123456789abcdef01234567"}
  health: {status: Healthy}
`
	}
	kubectl(t, cp, app("argo-t", "web", "apps/web")+"---\n"+app("argo-team", "api", "apps/api"), "apply", "-f", "-")

	s, err := GetArgoApp(t.Context(), c, st, "argo-t", "web")
	if err != nil {
		t.Fatal(err)
	}
	if s.RepoURL != "file:///srv/fleet.git" || s.Revision != "main" || s.Path != "apps/web" || !s.Directory.Recurse ||
		s.Tracking.Instance != "web" || len(s.Ignore.Rules()) != 1 || s.Status.Sync != "Synced" || s.Status.Health != "Healthy" || s.Skip() != "" {
		t.Errorf("read back: %+v", viewOf(s))
	}
	all, err := ListArgoApps(t.Context(), c, st, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range all {
		ids = append(ids, s.ID()+"="+s.Tracking.Instance)
	}
	if got := strings.Join(ids, " "); got != "argocd/argo-t/web=web argocd/argo-team/api=argo-team_api" {
		t.Errorf("listed %s", got)
	}
	if _, err := GetArgoApp(t.Context(), c, st, "argo-t", "nope"); err == nil || !cluster.IsNotFound(err) || !strings.Contains(err.Error(), "argo-t/nope") {
		t.Errorf("missing application: %v", err)
	}
}

// TestFluxOnTheServer creates Kustomizations and GitRepositories with the
// real CRDs, fills the status subresource as kustomize-controller does, and
// reads them back.
func TestFluxOnTheServer(t *testing.T) {
	cp := controlplane.ForTest(t)
	c := client(t, cp)
	kubectl(t, cp, "", "create", "namespace", "flux-t")
	kubectl(t, cp, `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-t}
spec: {interval: 1m, url: "https://git.example.com/fleet.git", ref: {tag: v1.2.0}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-t}
spec:
  interval: 10m
  prune: true
  path: ./apps
  targetNamespace: shop
  sourceRef: {kind: GitRepository, name: fleet}
  ignore: [{paths: [/spec/replicas], target: {kind: Deployment}}]
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: orphan, namespace: flux-t, annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}}
spec: {interval: 10m, prune: true, sourceRef: {kind: GitRepository, name: gone}}
`, "apply", "-f", "-")
	kubectl(t, cp, "", "patch", "-n", "flux-t", "kustomization/apps", "--subresource=status", "--type=merge", "-p",
		`{"status":{"lastAppliedRevision":"v1.2.0@sha1:0123456789abcdef0123456789abcdef01234567",
		  "conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"Applied","lastTransitionTime":"2026-01-01T00:00:00Z"}],
		  "inventory":{"entries":[{"id":"shop_web_apps_Deployment","v":"v1"},{"id":"_shop__Namespace","v":"v1"}]}}}`)

	s, err := GetFluxKustomization(t.Context(), c, "flux-t", "apps")
	if err != nil {
		t.Fatal(err)
	}
	wantInv := []ObjectRef{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, {Version: "v1", Kind: "Namespace", Name: "shop"}}
	if s.RepoURL != "https://git.example.com/fleet.git" || s.Revision != "v1.2.0" || s.Path != "./apps" || s.Overlay == nil || s.Overlay.Namespace != "shop" ||
		len(s.Ignore.Rules()) != 1 || s.Status.Ready != "True" || s.AppliedCommit() != "0123456789abcdef0123456789abcdef01234567" ||
		len(s.Inventory) != 2 || s.Inventory[0] != wantInv[0] || s.Inventory[1] != wantInv[1] || s.Skip() != "" {
		t.Errorf("read back: %+v", viewOf(s))
	}
	all, err := ListFluxKustomizations(t.Context(), c, "flux-t")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[1].Name != "orphan" || all[1].Problem != "GitRepository flux-t/gone not found" ||
		all[1].Disabled != "kustomize.toolkit.fluxcd.io/reconcile: disabled" {
		t.Errorf("listed: %+v", all)
	}
	if _, err := GetFluxKustomization(t.Context(), c, "flux-t", "nope"); err == nil || !cluster.IsNotFound(err) {
		t.Errorf("missing Kustomization: %v", err)
	}
}

// notServed is a Reader for a cluster without the operators' CRDs.
type notServed struct{ cluster.Reader }

func (notServed) Mapping(_ context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	return nil, cluster.ErrKindNotServed
}

func (notServed) Get(context.Context, *meta.RESTMapping, string, string) (*unstructured.Unstructured, error) {
	return nil, errors.New("unexpected")
}

func TestNotInstalled(t *testing.T) {
	r := notServed{}
	if _, err := ListArgoApps(t.Context(), r, argoDefaults, ""); !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "Argo CD is not installed") {
		t.Errorf("Argo CD: %v", err)
	}
	if _, err := GetFluxKustomization(t.Context(), r, "a", "b"); !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "Flux is not installed") {
		t.Errorf("Flux: %v", err)
	}
}
