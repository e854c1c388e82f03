package drift

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

const argoHelmCanary = "canary-s3cr3t-7f3a-argohelm"

// TestArgoHelmApplication is issue 16 item 3's scenario on the real API
// server (Argo CD's Application CRD served): an Application whose path is
// a chart in the shape of argocd-example-apps' helm-guestbook, with value
// files, valuesObject, parameters (one secret-like, a canary), a file
// parameter and its own release name, rendered with the real Helm CLI as
// Argo CD's repo-server runs it and applied as Argo CD applies (field
// manager argocd-controller, tracking annotation, hooks left out, the
// destination namespace). drift finds it in sync in both modes, with the
// chart's CRD compared and its hook left out; then a scaled Deployment
// and a ConfigMap value edited by hand are each reported with their
// author, and nothing else; the canary never appears in any output.
func TestArgoHelmApplication(t *testing.T) {
	cp := controlplane.ForTest(t)
	helm := peertools.Require(t, peertools.Helm, "helm")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	setGitEnv(t)
	repo := bareRepo(t, t.TempDir(), "example-apps", argoExampleApps, nil)
	const origin = "https://git.example.com/org/argocd-example-apps.git"
	override := "--repo-override=" + origin + "=file://" + repo
	for _, ns := range []string{"argo-h", "gb-shop"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	app := `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: argo-h}
spec:
  project: default
  source:
    repoURL: ` + origin + `
    targetRevision: main
    path: helm-guestbook
    helm:
      releaseName: gb
      valueFiles: [values-production.yaml]
      valuesObject: {image: {tag: v7}}
      parameters:
      - {name: auth.password, value: ` + argoHelmCanary + `}
      - {name: config.greeting, value: "hello, $ARGOCD_APP_NAMESPACE"}
      fileParameters:
      - {name: config.motd, path: files/motd.txt}
  destination: {server: "https://kubernetes.default.svc", namespace: gb-shop}
`
	kubectl(t, cp, app, "apply", "-f", "-")

	// Argo CD's repo-server: helm template with the command line it builds,
	// the cluster's version and the API versions the chart looks for.
	var appObj map[string]any
	if err := yaml.Unmarshal([]byte(app), &appObj); err != nil {
		t.Fatal(err)
	}
	src := gitopsapi.ArgoSource(&unstructured.Unstructured{Object: appObj}, gitopsapi.ArgoSettings{Namespace: "argocd"})
	root, err := filepath.Abs(argoExampleApps)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := gitopsapi.ArgoHelmTemplate(src, root)
	if err != nil {
		t.Fatal(err)
	}
	vf := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(vf, tpl.Values, 0o600); err != nil {
		t.Fatal(err)
	}
	var ver struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(kubectl(t, cp, "", "version", "-o", "json")), &ver); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(helm, tpl.Args(root, vf, strings.TrimPrefix(ver.ServerVersion.GitVersion, "v"), []string{"policy/v1", "policy/v1/PodDisruptionBudget"})...)
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	if !strings.Contains(string(out), argoHelmCanary) || !strings.Contains(string(out), "hello, gb-shop") {
		t.Fatalf("helm template did not use the parameters:\n%s", out)
	}
	// Argo CD's controller: hooks left out, the destination namespace on
	// namespaced objects, the tracking annotation, server-side apply.
	applyAsArgo(t, cp, string(out), "gb-shop", "argo-h_guestbook")

	args := []string{"--argocd-app", "argo-h/guestbook", override}
	t.Run("in sync as applied", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "-o", "json", "--mode", mode)...)
			s := parseSources(t, r)
			if r.code != 0 {
				t.Errorf("%s: exit %d, want 0: %v\nstderr: %s", mode, r.code, driftBySource(s), r.stderr)
			}
			if len(s.Sources) != 1 || s.Sources[0].Status != "compared" || s.Sources[0].Report == nil {
				t.Fatalf("%s: sources %+v", mode, s.Sources)
			}
			// CRD, ConfigMap, Deployment, PodDisruptionBudget, Service; not
			// the hook Job.
			if n := len(s.Sources[0].Report.Objects); n != 5 {
				t.Errorf("%s: %d objects compared, want 5", mode, n)
			}
			if !strings.Contains(r.stdout+r.stderr, "Job/gb-helm-guestbook-smoke") {
				t.Errorf("%s: the hook is not listed as left out:\n%s\n%s", mode, r.stdout, r.stderr)
			}
		}
		assertNoCheckouts(t, tmp)
	})

	kubectl(t, cp, "", "scale", "-n", "gb-shop", "deployment/gb-helm-guestbook", "--replicas=5")
	kubectl(t, cp, "", "patch", "-n", "gb-shop", "configmap/gb-helm-guestbook", "-p", `{"data":{"DB_URL":"postgres://app:changed-by-hand@db:5432/guestbook"}}`)
	t.Run("hand edits found", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "-o", "json", "--mode", mode)...)
			if r.code != cli.ExitFindings {
				t.Errorf("%s: exit %d, want 1\nstderr: %s", mode, r.code, r.stderr)
			}
			got := driftBySource(parseSources(t, r))["argocd/argo-h/guestbook"]
			want := "ConfigMap/gb-helm-guestbook modified data.DB_URL kubectl-patch(Update)\nDeployment/gb-helm-guestbook modified spec.replicas kubectl(Update,scale)"
			if got != want {
				t.Errorf("%s:\n  got  %q\n  want %q", mode, got, want)
			}
		}
	})
	t.Run("the canary never appears", func(t *testing.T) {
		for _, o := range []string{"summary", "diff", "json", "markdown", "yaml"} {
			r := runDrift(t, cp, append(args, "-o", o)...)
			if r.code != cli.ExitFindings {
				t.Errorf("-o %s: exit %d, want 1\nstderr: %s", o, r.code, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, argoHelmCanary) {
				t.Errorf("-o %s: the canary leaked:\n%s\n%s", o, r.stdout, r.stderr)
			}
		}
	})
}
