package drift

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestPruneOperatorRules: what the operators' own garbage collection
// leaves alone, on the real server. kustomize-controller deletes nothing
// for a Kustomization with spec.prune false (its prune returns first), and
// skips an inventory object whose kustomize.toolkit.fluxcd.io/name and
// namespace labels do not name the Kustomization (fluxcd/pkg/ssa's
// Delete), and never sees an object carrying those labels that its
// inventory does not list (its prune deletes only the inventory's stale
// entries): drift reports those skipped, saying why, and --prune leaves
// them. Argo CD's sync honours the application's own
// spec.syncPolicy.syncOptions Prune=false as the object's annotation
// (gitops-engine's isPruningDisabled), the object's own Prune option
// winning: drift reports them extraneous (Argo CD shows them OutOfSync)
// and --prune leaves only those. automated.prune false only stops
// automated syncs: a manual sync with prune, as --prune, deletes.
func TestPruneOperatorRules(t *testing.T) {
	cp := controlplane.ForTest(t)
	setGitEnv(t)
	repo := newFleetRepo(t)
	const origURL = "https://git.example.com/org/fleet.git"
	override := "--repo-override=" + origURL + "=file://" + repo.bare
	for _, ns := range []string{"pr-t", "pr-flux", "pr-flux-np", "pr-argo", "pr-argo-np"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	argoID := func(app, ns string) func(*unstructured.Unstructured) map[string]string {
		return func(u *unstructured.Unstructured) map[string]string {
			gvk := u.GroupVersionKind()
			return map[string]string{"argocd.argoproj.io/tracking-id": "pr-t_" + app + ":" + gvk.Group + "/" + gvk.Kind + ":" + ns + "/" + u.GetName()}
		}
	}
	for _, f := range []string{"apps/web/web.yaml", "apps/web/config.yaml", "apps/web/sub/svc.yaml"} {
		kubectl(t, cp, tracked(t, f, "pr-argo", nil, argoID("web", "pr-argo")), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
		kubectl(t, cp, tracked(t, f, "pr-argo-np", nil, argoID("web-np", "pr-argo-np")), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	}
	fluxLabels := func(ks string) func(*unstructured.Unstructured) map[string]string {
		return func(*unstructured.Unstructured) map[string]string {
			return map[string]string{"kustomize.toolkit.fluxcd.io/name": ks, "kustomize.toolkit.fluxcd.io/namespace": "pr-t"}
		}
	}
	kubectl(t, cp, tracked(t, "flux/apps/cm.yaml", "pr-flux", fluxLabels("apps"), nil), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	kubectl(t, cp, tracked(t, "flux/apps/cm.yaml", "pr-flux-np", fluxLabels("keep"), nil), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")

	// Objects Git dropped, left in the cluster.
	cm := func(ns, name, meta string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + meta + "}\n---\n"
	}
	const appsLabels, keepLabels = ", labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: pr-t}", ", labels: {kustomize.toolkit.fluxcd.io/name: keep, kustomize.toolkit.fluxcd.io/namespace: pr-t}"
	kubectl(t, cp, cm("pr-flux", "stray", appsLabels)+
		cm("pr-flux", "unlisted", appsLabels)+
		cm("pr-flux", "unlabelled", "")+
		cm("pr-flux", "relabelled", ", labels: {kustomize.toolkit.fluxcd.io/name: other, kustomize.toolkit.fluxcd.io/namespace: pr-t}")+
		cm("pr-flux-np", "np-stray", keepLabels)+
		cm("pr-t", "np-inventory", keepLabels)+
		cm("pr-argo", "stray", ", annotations: {argocd.argoproj.io/tracking-id: 'pr-t_web:/ConfigMap:pr-argo/stray'}")+
		cm("pr-argo-np", "np-stray", ", annotations: {argocd.argoproj.io/tracking-id: 'pr-t_web-np:/ConfigMap:pr-argo-np/np-stray'}")+
		cm("pr-argo-np", "np-override", ", annotations: {argocd.argoproj.io/tracking-id: 'pr-t_web-np:/ConfigMap:pr-argo-np/np-override', argocd.argoproj.io/sync-options: 'Prune=true'}"),
		"create", "-f", "-")

	app := func(name, ns, syncPolicy string) string {
		return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `, namespace: pr-t}
spec:
  project: default
  source: {repoURL: ` + origURL + `, targetRevision: v1, path: apps/web, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: ` + ns + `}
  syncPolicy: ` + syncPolicy + `
status:
  sync: {status: OutOfSync, revision: "` + repo.v1 + `"}
---
`
	}
	ks := func(name, ns string, prune bool) string {
		p := "false"
		if prune {
			p = "true"
		}
		return `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: ` + name + `, namespace: pr-t}
spec:
  interval: 10m
  prune: ` + p + `
  path: ./flux/apps
  targetNamespace: ` + ns + `
  sourceRef: {kind: GitRepository, name: fleet}
---
`
	}
	kubectl(t, cp, app("web", "pr-argo", "{automated: {prune: false}}")+
		app("web-np", "pr-argo-np", "{automated: {prune: true}, syncOptions: [CreateNamespace=true, Prune=false]}")+
		ks("apps", "pr-flux", true)+ks("keep", "pr-flux-np", false)+
		`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: pr-t}
spec: {interval: 1m, url: "`+origURL+`", ref: {tag: v1}}
`, "apply", "-f", "-")
	// The inventories as kustomize-controller leaves them between a commit
	// and the garbage collection that skips the objects.
	inventory := func(name string, ids ...string) {
		var entries []string
		for _, id := range ids {
			entries = append(entries, `{"id":"`+id+`","v":"v1"}`)
		}
		kubectl(t, cp, "", "patch", "-n", "pr-t", "kustomization/"+name, "--subresource=status", "--type=merge", "-p",
			`{"status":{"lastAppliedRevision":"v1@sha1:`+repo.v1+`",
			  "conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"Applied revision: v1@sha1:`+repo.v1+`","lastTransitionTime":"2026-01-01T00:00:00Z"}],
			  "inventory":{"entries":[`+strings.Join(entries, ",")+`]}}}`)
	}
	inventory("apps", "pr-flux_flux-config__ConfigMap", "pr-flux_stray__ConfigMap", "pr-flux_unlabelled__ConfigMap", "pr-flux_relabelled__ConfigMap")
	inventory("keep", "pr-flux-np_flux-config__ConfigMap", "pr-flux-np_np-stray__ConfigMap", "pr-t_np-inventory__ConfigMap")

	sources := []string{"--argocd-app", "pr-t/web", "--argocd-app", "pr-t/web-np", "--flux-kustomization", "apps", "--flux-kustomization", "keep", "--flux-namespace", "pr-t", override}
	want := map[string]string{
		"argocd/pr-t/web":    "ConfigMap/stray extraneous",
		"argocd/pr-t/web-np": "ConfigMap/np-override extraneous\nConfigMap/np-stray extraneous",
		"flux/pr-t/apps":     "ConfigMap/relabelled skipped\nConfigMap/stray extraneous\nConfigMap/unlabelled skipped\nConfigMap/unlisted skipped",
		"flux/pr-t/keep":     "ConfigMap/np-inventory skipped\nConfigMap/np-stray skipped",
	}
	wantReason := map[string]string{
		"pr-flux/relabelled":     "in the inventory of Flux Kustomization pr-t/apps, but its kustomize.toolkit.fluxcd.io/name and kustomize.toolkit.fluxcd.io/namespace labels do not name it (removed or changed), so its garbage collection skips it: not in Git, and Flux does not delete it",
		"pr-flux/unlabelled":     "in the inventory of Flux Kustomization pr-t/apps, but its kustomize.toolkit.fluxcd.io/name and kustomize.toolkit.fluxcd.io/namespace labels do not name it (removed or changed), so its garbage collection skips it: not in Git, and Flux does not delete it",
		"pr-flux/unlisted":       "carries the labels of Flux Kustomization pr-t/apps but its inventory does not list it, so its garbage collection never deletes it: not in Git, and Flux does not delete it",
		"pr-flux-np/np-stray":    "spec.prune is false on Flux Kustomization pr-t/keep: not in Git, and Flux does not delete it",
		"pr-t/np-inventory":      "spec.prune is false on Flux Kustomization pr-t/keep: not in Git, and Flux does not delete it",
		"pr-argo-np/np-stray":    "tracked by Argo CD application pr-t_web-np, not in Git (the application's spec.syncPolicy.syncOptions: Prune=false: Argo CD shows it OutOfSync but its sync does not delete it)",
		"pr-argo-np/np-override": "tracked by Argo CD application pr-t_web-np, not in Git",
		"pr-argo/stray":          "tracked by Argo CD application pr-t_web, not in Git",
		"pr-flux/stray":          "tracked by Flux Kustomization pr-t/apps, not in Git",
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
		if diff := cmp.Diff(wantReason, reasonsOf(s, wantReason)); diff != "" {
			t.Errorf("%s: reasons (-want +got):\n%s", mode, diff)
		}
	}

	// Only what the operators would delete is deleted.
	r := runDrift(t, cp, append(append([]string{}, sources...), "--prune", "--yes")...)
	if r.code != cli.ExitOK && r.code != cli.ExitFindings {
		t.Fatalf("--prune: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "not deleted: the application's spec.syncPolicy.syncOptions: Prune=false, as Argo CD's sync leaves it") {
		t.Errorf("--prune does not say why np-stray stays:\n%s", r.stderr)
	}
	left := configMapsLeft(t, cp, "pr-t", "pr-flux", "pr-flux-np", "pr-argo", "pr-argo-np")
	for name, kept := range map[string]bool{
		"pr-flux/stray": false, "pr-flux/unlabelled": true, "pr-flux/relabelled": true, "pr-flux/unlisted": true,
		"pr-flux-np/np-stray": true, "pr-t/np-inventory": true,
		"pr-argo/stray": false, "pr-argo-np/np-stray": true, "pr-argo-np/np-override": false,
	} {
		if left[name] != kept {
			t.Errorf("after --prune: %s exists %v, want %v", name, left[name], kept)
		}
	}
}
