package drift

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestPruneDisabled: objects Git no longer declares that the operator
// leaves in the cluster on purpose, on the real server. Flux never deletes
// an object labelled or annotated kustomize.toolkit.fluxcd.io/prune:
// disabled (kustomize-controller's garbage collection skips it, and the
// Kustomization stays Ready): drift reports it skipped, not drift, whether
// its labels or the inventory find it. Argo CD's sync never deletes an
// object annotated argocd.argoproj.io/sync-options: Prune=false, but shows
// it OutOfSync (requiring pruning): drift reports it extraneous, saying
// so, and --prune leaves it, as Argo CD's sync does. (An inventory object
// whose labels no longer name the Kustomization: TestPruneOperatorRules.)
func TestPruneDisabled(t *testing.T) {
	cp := controlplane.ForTest(t)
	setGitEnv(t)
	repo := newFleetRepo(t)
	const origURL = "https://git.example.com/org/fleet.git"
	override := "--repo-override=" + origURL + "=file://" + repo.bare
	for _, ns := range []string{"prune-t", "prune-argo", "prune-flux"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	argoID := func(u *unstructured.Unstructured) map[string]string {
		gvk := u.GroupVersionKind()
		return map[string]string{"argocd.argoproj.io/tracking-id": "prune-t_web:" + gvk.Group + "/" + gvk.Kind + ":prune-argo/" + u.GetName()}
	}
	for _, f := range []string{"apps/web/web.yaml", "apps/web/config.yaml", "apps/web/sub/svc.yaml"} {
		kubectl(t, cp, tracked(t, f, "prune-argo", nil, argoID), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	}
	fluxLabels := func(*unstructured.Unstructured) map[string]string {
		return map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "prune-t"}
	}
	kubectl(t, cp, tracked(t, "flux/apps/cm.yaml", "prune-flux", fluxLabels, nil), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")

	// Objects Git dropped, left in the cluster.
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata:
  name: argo-kept
  namespace: prune-argo
  annotations: {argocd.argoproj.io/tracking-id: 'prune-t_web:/ConfigMap:prune-argo/argo-kept', argocd.argoproj.io/sync-options: 'ServerSideApply=true, Prune=false'}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argo-stray
  namespace: prune-argo
  annotations: {argocd.argoproj.io/tracking-id: 'prune-t_web:/ConfigMap:prune-argo/argo-stray'}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: flux-kept
  namespace: prune-flux
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: prune-t}
  annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: flux-kept-label
  namespace: prune-flux
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: prune-t, kustomize.toolkit.fluxcd.io/prune: Disabled}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: flux-kept-inventory
  namespace: prune-t
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: prune-t}
  annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: flux-stray
  namespace: prune-flux
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: prune-t}
`, "create", "-f", "-")

	kubectl(t, cp, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: prune-t}
spec:
  project: default
  source: {repoURL: `+origURL+`, targetRevision: v1, path: apps/web, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: prune-argo}
status:
  sync: {status: OutOfSync, revision: "`+repo.v1+`"}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: prune-t}
spec: {interval: 1m, url: "`+origURL+`", ref: {tag: v1}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: prune-t}
spec:
  interval: 10m
  prune: true
  path: ./flux/apps
  targetNamespace: prune-flux
  sourceRef: {kind: GitRepository, name: fleet}
`, "apply", "-f", "-")
	// The inventory as kustomize-controller leaves it between a commit
	// and the garbage collection that skips the objects: it lists every
	// object Git dropped (one its labels find but the inventory does not
	// list is never Flux's to delete: TestPruneOperatorRules).
	kubectl(t, cp, "", "patch", "-n", "prune-t", "kustomization/apps", "--subresource=status", "--type=merge", "-p",
		`{"status":{"lastAppliedRevision":"v1@sha1:`+repo.v1+`",
		  "conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"Applied revision: v1@sha1:`+repo.v1+`","lastTransitionTime":"2026-01-01T00:00:00Z"}],
		  "inventory":{"entries":[{"id":"prune-flux_flux-config__ConfigMap","v":"v1"},{"id":"prune-flux_flux-gone__ConfigMap","v":"v1"},{"id":"prune-t_flux-kept-inventory__ConfigMap","v":"v1"},
		    {"id":"prune-flux_flux-kept__ConfigMap","v":"v1"},{"id":"prune-flux_flux-kept-label__ConfigMap","v":"v1"},{"id":"prune-flux_flux-stray__ConfigMap","v":"v1"}]}}}`)

	sources := []string{"--argocd-app", "prune-t/web", "--flux-kustomization", "apps", "--flux-namespace", "prune-t", override}
	argo, flux := "argocd/prune-t/web", "flux/prune-t/apps"
	want := map[string]string{
		argo: "ConfigMap/argo-kept extraneous\nConfigMap/argo-stray extraneous",
		flux: "ConfigMap/flux-kept skipped\nConfigMap/flux-kept-inventory skipped\nConfigMap/flux-kept-label skipped\nConfigMap/flux-stray extraneous",
	}
	for _, mode := range []string{"server", "local"} {
		r := runDrift(t, cp, append(append([]string{}, sources...), "--mode", mode, "-o", "json")...)
		if r.code != cli.ExitFindings {
			t.Errorf("%s: exit %d, want 1\nstderr: %s", mode, r.code, r.stderr)
		}
		s := parseSources(t, r)
		if diff := cmp.Diff(want, driftBySource(s)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", mode, diff)
		}
		for _, src := range s.Sources {
			if src.Report == nil {
				continue
			}
			for _, o := range src.Report.Objects {
				switch {
				case o.Name == "argo-kept" && !strings.Contains(o.Reason, "Prune=false: Argo CD shows it OutOfSync but its sync does not delete it"):
					t.Errorf("%s: argo-kept: reason %q does not say Argo CD leaves it", mode, o.Reason)
				case strings.HasPrefix(o.Name, "flux-kept") && !strings.Contains(o.Reason, "kustomize.toolkit.fluxcd.io/prune: disabled: not in Git, and Flux does not delete it"):
					t.Errorf("%s: %s: reason %q", mode, o.Name, o.Reason)
				}
			}
		}
	}

	// Only what the operators would delete is deleted.
	r := runDrift(t, cp, append(append([]string{}, sources...), "--prune", "--yes")...)
	if r.code != cli.ExitOK && r.code != cli.ExitFindings {
		t.Fatalf("--prune: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Prune=false, as Argo CD's sync leaves it") {
		t.Errorf("--prune does not say why argo-kept stays:\n%s", r.stderr)
	}
	left := map[string]bool{}
	for _, ns := range []string{"prune-argo", "prune-flux", "prune-t"} {
		for _, name := range strings.Fields(kubectl(t, cp, "", "get", "configmaps", "-n", ns, "-o", "name")) {
			left[strings.TrimPrefix(name, "configmap/")] = true
		}
	}
	for name, kept := range map[string]bool{"argo-kept": true, "argo-stray": false, "flux-kept": true, "flux-kept-label": true, "flux-kept-inventory": true, "flux-stray": false} {
		if left[name] != kept {
			t.Errorf("after --prune: %s exists %v, want %v", name, left[name], kept)
		}
	}
}
