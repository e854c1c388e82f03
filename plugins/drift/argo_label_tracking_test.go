package drift

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestArgoLabelTracking: Argo CD configured for label tracking (argocd-cm
// application.resourceTrackingMethod: label) writes the instance label
// (app.kubernetes.io/instance by default) on what it applies, not the
// tracking id. On the real server: that label, which Git does not hold, is
// not drift in either mode; a live object Git does not declare carrying
// the application's label is extraneous, one carrying another
// application's is not this source's; a person overwriting the label is
// drift, attributed to them.
func TestArgoLabelTracking(t *testing.T) {
	cp := controlplane.ForTest(t)
	setGitEnv(t)
	repo := newFleetRepo(t)
	const origURL = "https://git.example.com/org/fleet.git"
	// Argo CD's namespace of its own: other tests read argocd-cm in
	// "argocd".
	const argoNS, dest = "argo-lt", "argo-lt-app"
	for _, ns := range []string{argoNS, dest} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	instance := func(*unstructured.Unstructured) map[string]string {
		return map[string]string{"app.kubernetes.io/instance": "web"}
	}
	for _, f := range []string{"apps/web/web.yaml", "apps/web/config.yaml", "apps/web/sub/svc.yaml"} {
		kubectl(t, cp, tracked(t, f, dest, instance, nil), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	}
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cm, namespace: `+argoNS+`}
data: {application.resourceTrackingMethod: label}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: stray, namespace: `+dest+`, labels: {app.kubernetes.io/instance: web}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: foreign, namespace: `+dest+`, labels: {app.kubernetes.io/instance: billing}}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: `+argoNS+`}
spec:
  project: default
  source: {repoURL: `+origURL+`, targetRevision: v1, path: apps/web, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: `+dest+`}
`, "apply", "-f", "-")

	args := []string{"--argocd-app", "web", "--argocd-namespace", argoNS, "--repo-override=" + origURL + "=file://" + repo.bare, "-o", "json"}
	check := func(want string) {
		t.Helper()
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(append([]string{}, args...), "--mode", mode)...)
			if r.code != cli.ExitFindings {
				t.Errorf("%s: exit %d, want 1\nstderr: %s", mode, r.code, r.stderr)
			}
			if diff := cmp.Diff(map[string]string{"argocd/" + argoNS + "/web": want}, driftBySource(parseSources(t, r))); diff != "" {
				t.Errorf("%s (-want +got):\n%s", mode, diff)
			}
			if strings.Contains(r.stderr, "assuming annotation tracking") {
				t.Errorf("%s: argocd-cm not read:\n%s", mode, r.stderr)
			}
		}
	}
	check("ConfigMap/stray extraneous")

	kubectl(t, cp, "", "label", "--overwrite", "-n", dest, "configmap/app-config", "app.kubernetes.io/instance=hand")
	check("ConfigMap/app-config modified metadata.labels[\"app.kubernetes.io/instance\"] kubectl-label(Update)\nConfigMap/stray extraneous")
}
