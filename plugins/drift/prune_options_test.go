package drift

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// pruneOptionsFixture is a Flux Kustomization (prune: true, an inventory
// listing its strays) and two Argo CD applications (one with the
// application-level sync option Prune=confirm) whose objects Git dropped,
// each carrying Argo CD's argocd.argoproj.io/sync-options, on the real
// server; prefix makes its namespaces and names unique.
type pruneOptionsFixture struct {
	cp      *controlplane.ControlPlane
	ns      []string
	sources []string
}

func newPruneOptionsFixture(t *testing.T, prefix string) pruneOptionsFixture {
	cp := controlplane.ForTest(t)
	setGitEnv(t)
	repo := newFleetRepo(t)
	const origURL = "https://git.example.com/org/fleet.git"
	ops, flux, argo, argoC := prefix+"-t", prefix+"-flux", prefix+"-argo", prefix+"-argo-c"
	f := pruneOptionsFixture{cp: cp, ns: []string{ops, flux, argo, argoC}}
	for _, ns := range f.ns {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	argoID := func(app, ns string) func(*unstructured.Unstructured) map[string]string {
		return func(u *unstructured.Unstructured) map[string]string {
			gvk := u.GroupVersionKind()
			return map[string]string{"argocd.argoproj.io/tracking-id": ops + "_" + app + ":" + gvk.Group + "/" + gvk.Kind + ":" + ns + "/" + u.GetName()}
		}
	}
	for _, file := range []string{"apps/web/web.yaml", "apps/web/config.yaml", "apps/web/sub/svc.yaml"} {
		kubectl(t, cp, tracked(t, file, argo, nil, argoID("web", argo)), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
		kubectl(t, cp, tracked(t, file, argoC, nil, argoID("web-c", argoC)), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	}
	fluxMeta := func(*unstructured.Unstructured) map[string]string {
		return map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": ops}
	}
	kubectl(t, cp, tracked(t, "flux/apps/cm.yaml", flux, fluxMeta, nil), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")

	cm := func(ns, name, meta string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + meta + "}\n---\n"
	}
	fluxStray := func(name, opts string) string {
		return cm(flux, name, ", labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: "+ops+"}, annotations: {argocd.argoproj.io/sync-options: '"+opts+"'}")
	}
	argoStray := func(app, ns, name, opts string) string {
		meta := ", annotations: {argocd.argoproj.io/tracking-id: '" + ops + "_" + app + ":/ConfigMap:" + ns + "/" + name + "'"
		if opts != "" {
			meta += ", argocd.argoproj.io/sync-options: '" + opts + "'"
		}
		return cm(ns, name, meta+"}")
	}
	kubectl(t, cp, fluxStray("flux-np", "Prune=false")+
		fluxStray("flux-confirm", "ServerSideApply=true, Prune=confirm")+
		argoStray("web", argo, "argo-np", "Prune=false")+
		argoStray("web", argo, "argo-confirm", "ServerSideApply=true, Prune=confirm")+
		argoStray("web", argo, "argo-plain", "")+
		argoStray("web-c", argoC, "app-confirm", "")+
		argoStray("web-c", argoC, "app-confirm-override", "Prune=true"),
		"create", "-f", "-")

	app := func(name, ns, syncOptions string) string {
		return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `, namespace: ` + ops + `}
spec:
  project: default
  source: {repoURL: ` + origURL + `, targetRevision: v1, path: apps/web, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: ` + ns + `}
  syncPolicy: {automated: {prune: true}, syncOptions: [` + syncOptions + `]}
status:
  sync: {status: OutOfSync, revision: "` + repo.v1 + `"}
---
`
	}
	kubectl(t, cp, app("web", argo, "CreateNamespace=true")+app("web-c", argoC, "CreateNamespace=true, Prune=confirm")+
		`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: `+ops+`}
spec:
  interval: 10m
  prune: true
  path: ./flux/apps
  targetNamespace: `+flux+`
  sourceRef: {kind: GitRepository, name: fleet}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: `+ops+`}
spec: {interval: 1m, url: "`+origURL+`", ref: {tag: v1}}
`, "apply", "-f", "-")
	kubectl(t, cp, "", "patch", "-n", ops, "kustomization/apps", "--subresource=status", "--type=merge", "-p",
		`{"status":{"lastAppliedRevision":"v1@sha1:`+repo.v1+`",
		  "conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"Applied revision: v1@sha1:`+repo.v1+`","lastTransitionTime":"2026-01-01T00:00:00Z"}],
		  "inventory":{"entries":[{"id":"`+flux+`_flux-config__ConfigMap","v":"v1"},{"id":"`+flux+`_flux-np__ConfigMap","v":"v1"},{"id":"`+flux+`_flux-confirm__ConfigMap","v":"v1"}]}}}`)
	f.sources = []string{"--argocd-app", ops + "/web", "--argocd-app", ops + "/web-c", "--flux-kustomization", "apps", "--flux-namespace", ops,
		"--repo-override=" + origURL + "=file://" + repo.bare}
	return f
}

// wantLeft checks which ConfigMaps of f's namespaces are left, by
// "<namespace>/<name>" after prefix.
func (f pruneOptionsFixture) wantLeft(t *testing.T, prefix string, want map[string]bool) {
	t.Helper()
	left := configMapsLeft(t, f.cp, f.ns...)
	for name, kept := range want {
		if left[prefix+name] != kept {
			t.Errorf("after --prune: %s exists %v, want %v", prefix+name, left[prefix+name], kept)
		}
	}
}

// configMapsLeft returns "<namespace>/<name>" of the ConfigMaps in
// namespaces.
func configMapsLeft(t *testing.T, cp *controlplane.ControlPlane, namespaces ...string) map[string]bool {
	t.Helper()
	left := map[string]bool{}
	for _, ns := range namespaces {
		for _, name := range strings.Fields(kubectl(t, cp, "", "get", "configmaps", "-n", ns, "-o", "name")) {
			left[ns+"/"+strings.TrimPrefix(name, "configmap/")] = true
		}
	}
	return left
}

// reasonsOf returns the reasons of the sources' objects named in want
// ("<namespace>/<name>"), for comparing with want.
func reasonsOf(s sourcesReport, want map[string]string) map[string]string {
	got := map[string]string{}
	for _, src := range s.Sources {
		if src.Report == nil {
			continue
		}
		for _, o := range src.Report.Objects {
			if _, ok := want[o.Namespace+"/"+o.Name]; ok {
				got[o.Namespace+"/"+o.Name] = o.Reason
			}
		}
	}
	return got
}

// TestPruneArgoOptionsOnlyForArgo: Argo CD's sync options decide what
// --prune leaves only for the objects Argo CD manages, as the comparison
// decided them. A Flux-managed object Git dropped is deleted by
// kustomize-controller's garbage collection whatever Argo CD annotation it
// carries, so --prune --yes deletes it, Prune=false or Prune=confirm; an
// Argo CD object with Prune=false stays. Prune=confirm, on the object or
// as the application's sync option (the object's own Prune option
// winning), is pruned by Argo CD only once a person confirms: --yes is no
// confirmation, so --prune --yes leaves those, saying why.
func TestPruneArgoOptionsOnlyForArgo(t *testing.T) {
	const p = "pao"
	f := newPruneOptionsFixture(t, p)
	wantReason := map[string]string{
		p + "-flux/flux-np":                "tracked by Flux Kustomization " + p + "-t/apps, not in Git",
		p + "-flux/flux-confirm":           "tracked by Flux Kustomization " + p + "-t/apps, not in Git",
		p + "-argo/argo-np":                "tracked by Argo CD application " + p + "-t_web, not in Git (argocd.argoproj.io/sync-options: Prune=false: Argo CD shows it OutOfSync but its sync does not delete it)",
		p + "-argo/argo-confirm":           "tracked by Argo CD application " + p + "-t_web, not in Git (argocd.argoproj.io/sync-options: Prune=confirm: Argo CD shows it OutOfSync and deletes it only once a person confirms the pruning)",
		p + "-argo-c/app-confirm":          "tracked by Argo CD application " + p + "-t_web-c, not in Git (the application's spec.syncPolicy.syncOptions: Prune=confirm: Argo CD shows it OutOfSync and deletes it only once a person confirms the pruning)",
		p + "-argo-c/app-confirm-override": "tracked by Argo CD application " + p + "-t_web-c, not in Git",
	}
	got := reasonsOf(parseSources(t, runDrift(t, f.cp, append(append([]string{}, f.sources...), "-o", "json")...)), wantReason)
	if diff := cmp.Diff(wantReason, got); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}

	// Without a terminal, the refusal counts what --yes would delete: the
	// seven extraneous objects but argo-np (kept) and the two marked
	// Prune=confirm (--yes leaves them).
	r := runDrift(t, f.cp, append(append([]string{}, f.sources...), "--prune")...)
	if want := "stdin is not a terminal; pass --yes to delete 4 extraneous objects"; r.code != cli.ExitError || !strings.Contains(r.stderr, want) {
		t.Errorf("--prune without a terminal: exit %d, want %d and %q:\n%s", r.code, cli.ExitError, want, r.stderr)
	}

	r = runDrift(t, f.cp, append(append([]string{}, f.sources...), "--prune", "--yes")...)
	if r.code != cli.ExitOK && r.code != cli.ExitFindings {
		t.Fatalf("--prune: exit %d\nstderr: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"not deleted: argocd.argoproj.io/sync-options: Prune=false, as Argo CD's sync leaves it",
		"skipped v1 ConfigMap pao-argo/argo-confirm: not deleted: argocd.argoproj.io/sync-options: Prune=confirm: Argo CD deletes it only once a person confirms the pruning, and this run was not confirmed",
		"skipped v1 ConfigMap pao-argo-c/app-confirm: not deleted: the application's spec.syncPolicy.syncOptions: Prune=confirm: Argo CD deletes it only once a person confirms the pruning, and this run was not confirmed",
		"2 objects marked Prune=confirm left: --yes is not the confirmation Argo CD waits for; run --prune without --yes on a terminal and answer the question to delete them",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--prune --yes does not say %q:\n%s", want, r.stderr)
		}
	}
	f.wantLeft(t, p, map[string]bool{
		"-flux/flux-config": true, "-flux/flux-np": false, "-flux/flux-confirm": false,
		"-argo/argo-np": true, "-argo/argo-confirm": true, "-argo/argo-plain": false,
		"-argo-c/app-confirm": true, "-argo-c/app-confirm-override": false,
	})
}

// TestPruneConfirmAnswered: answering yes to --prune's question on a
// terminal is the confirmation Argo CD waits for (as a person confirming
// the pruning in its UI): the objects with Prune=confirm, on the object or
// the application, are deleted then; Prune=false ones still stay.
func TestPruneConfirmAnswered(t *testing.T) {
	const p = "pca"
	f := newPruneOptionsFixture(t, p)
	tty, answer := openPTY(t)
	if _, err := answer.WriteString("y\n"); err != nil {
		t.Fatal(err)
	}
	res := clitest.Run(nil, NewCmd, clitest.Options{Binary: "kubectl-gitops-drift", Kubeconfig: f.cp.Kubeconfig, Stdin: tty},
		append(append([]string{}, f.sources...), "--prune")...)
	if res.Code != cli.ExitOK && res.Code != cli.ExitFindings {
		t.Fatalf("--prune: exit %d\nstderr: %s", res.Code, res.Stderr)
	}
	// Seven extraneous objects, six to delete: argo-np (Prune=false) is
	// kept, so the question does not count it.
	if !strings.Contains(res.Stderr, "Delete 6 extraneous objects (2 of them marked Prune=confirm, which Argo CD deletes only on confirmation)? [y/N]") {
		t.Errorf("--prune does not ask about the objects marked Prune=confirm:\n%s", res.Stderr)
	}
	f.wantLeft(t, p, map[string]bool{
		"-flux/flux-config": true, "-flux/flux-np": false, "-flux/flux-confirm": false,
		"-argo/argo-np": true, "-argo/argo-confirm": false, "-argo/argo-plain": false,
		"-argo-c/app-confirm": false, "-argo-c/app-confirm-override": false,
	})
}

// openPTY returns the terminal end of a new pseudo-terminal, as the
// command's stdin, and the end a person types into.
func openPTY(t *testing.T) (tty, typed *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("naming the pseudo-terminal: %v", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty, ptmx
}
