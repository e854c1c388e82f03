package drift

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// noteReport is the part of a JSON DriftReport noteLines reads.
type noteReport struct {
	Objects []struct {
		Kind, Name, Status string
		Changes            []struct {
			Path, Type, Note string
			Managers         []struct{ Manager, Operation string }
		}
	}
}

// noteLines renders a JSON report's drifted fields (of every source, for a
// DriftReportList) as sorted lines "Kind/name type path [note]
// manager(Operation)".
func noteLines(t *testing.T, out string) []string {
	t.Helper()
	var r struct {
		noteReport
		Sources []struct{ Report noteReport }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, out)
	}
	objects := r.Objects
	for _, src := range r.Sources {
		objects = append(objects, src.Report.Objects...)
	}
	var lines []string
	for _, o := range objects {
		if o.Status != "modified" {
			if o.Status != "unchanged" {
				lines = append(lines, o.Kind+"/"+o.Name+" "+o.Status)
			}
			continue
		}
		for _, c := range o.Changes {
			line := o.Kind + "/" + o.Name + " " + c.Type + " " + c.Path
			if c.Note != "" {
				line += " [" + c.Note + "]"
			}
			if len(c.Managers) > 0 {
				line += " " + c.Managers[0].Manager + "(" + c.Managers[0].Operation + ")"
			}
			lines = append(lines, line)
		}
	}
	sort.Strings(lines)
	return lines
}

// kubectlEdit runs the real `kubectl edit` (field manager kubectl-edit) with
// an editor replacing from by to in the object's YAML.
func kubectlEdit(t *testing.T, cp *controlplane.ControlPlane, ns, obj, from, to string) {
	t.Helper()
	editor := filepath.Join(t.TempDir(), "editor.sh")
	script := "#!/bin/sh\nsed -i 's|" + from + "|" + to + "|' \"$1\"\n"
	if err := os.WriteFile(editor, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := cp.Kubectl(t.Context(), "edit", "-n", ns, obj)
	cmd.Env = append(cmd.Env, "KUBE_EDITOR="+editor, "EDITOR="+editor)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl edit %s: %v\n%s", obj, err, out)
	}
}

// TestOperatorMetadataIsNotDrift applies objects exactly as the operators
// do — server-side as kustomize-controller with the labels it sets on every
// object (fluxcd/pkg ssa SetOwnerLabels), server-side as argocd-controller
// with its tracking id — and compares them with Git's manifests, which carry
// neither: that is in sync in both modes, with -f, -k and --repo. A person writing
// over the operator's label or annotation is drift, attributed to them.
func TestOperatorMetadataIsNotDrift(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "opmeta"
	kubectl(t, cp, "", "create", "namespace", ns)
	git := `apiVersion: v1
kind: ConfigMap
metadata: {name: flux-app, namespace: ` + ns + `}
data: {mode: production}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argo-app, namespace: ` + ns + `}
data: {mode: production}
`
	dir := writeFiles(t, map[string]string{
		"app.yaml":           git,
		"kustomization.yaml": "resources: [app.yaml]\n",
	})
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata:
  name: flux-app
  namespace: `+ns+`
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
data: {mode: production}
`, "apply", "--server-side", "--force-conflicts", "--field-manager=kustomize-controller", "-f", "-")
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata:
  name: argo-app
  namespace: `+ns+`
  annotations: {argocd.argoproj.io/tracking-id: "guestbook:/ConfigMap:`+ns+`/argo-app"}
data: {mode: production}
`, "apply", "--server-side", "--force-conflicts", "--field-manager=argocd-controller", "-f", "-")

	gitRun(t, dir, "init", "--quiet")
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "--quiet", "-m", "apps")
	inputs := map[string][]string{
		"-f":     {"-f", filepath.Join(dir, "app.yaml")},
		"-k":     {"-k", dir},
		"--repo": {"--repo", "file://" + dir, "--path", "."},
	}
	for _, mode := range []string{"server", "local"} {
		for name, in := range inputs {
			r := runDrift(t, cp, append(in, "--mode", mode, "-o", "json")...)
			if r.code != 0 {
				t.Errorf("%s, %s mode: exit %d, want 0 (in sync):\n%s\n%s", name, mode, r.code, strings.Join(noteLines(t, r.stdout), "\n"), r.stderr)
			}
		}
	}

	kubectlEdit(t, cp, ns, "configmap/flux-app", "kustomize.toolkit.fluxcd.io/name: apps", "kustomize.toolkit.fluxcd.io/name: hotfix")
	kubectlEdit(t, cp, ns, "configmap/argo-app", "guestbook:", "other:")
	const note = "the GitOps agent's tracking metadata, written over by another manager"
	want := []string{
		`ConfigMap/argo-app extra metadata.annotations["argocd.argoproj.io/tracking-id"] [` + note + `] kubectl-edit(Update)`,
		`ConfigMap/flux-app extra metadata.labels["kustomize.toolkit.fluxcd.io/name"] [` + note + `] kubectl-edit(Update)`,
	}
	for _, mode := range []string{"server", "local"} {
		for name, in := range inputs {
			r := runDrift(t, cp, append(in, "--mode", mode, "-o", "json")...)
			if r.code != cli.ExitFindings {
				t.Errorf("%s, %s mode: exit %d, want 1\n%s", name, mode, r.code, r.stderr)
			}
			if got := noteLines(t, r.stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s, %s mode:\n  got  %s\n  want %s", name, mode, strings.Join(got, "\n       "), strings.Join(want, "\n       "))
			}
		}
	}
}

// TestClientSideApplyThreeWay applies objects client-side — with the real
// `kubectl apply`, and as Argo CD's default sync does (an Update entry of
// argocd-controller and the last-applied annotation, here with its
// tracking id) — then removes fields from Git. kubectl apply would delete
// them (its three-way merge with the last-applied configuration); both
// modes report them, and agree.
func TestClientSideApplyThreeWay(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "threeway"
	kubectl(t, cp, "", "create", "namespace", ns)
	deployment := func(extraEnv, extraLabel string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ` + ns + `
  labels: {app: web` + extraLabel + `}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        env:
        - {name: MODE, value: production}` + extraEnv + `
`
	}
	configMap := func(name, annotations, data string) string {
		return `apiVersion: v1
kind: ConfigMap
metadata: {name: ` + name + `, namespace: ` + ns + annotations + `}
data: {mode: production` + data + `}
`
	}
	secret := func(token string) string {
		s := `apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ` + ns + `}
stringData: {user: app-user`
		if token != "" {
			s += `, token: ` + token
		}
		return s + "}\n"
	}
	tracking := `, annotations: {argocd.argoproj.io/tracking-id: "guestbook:/ConfigMap:` + ns + `/argo-app"}`
	applied := writeFiles(t, map[string]string{
		"web.yaml": deployment("\n        - {name: DEBUG, value: \"1\"}", ", tier: frontend"),
		"cfg.yaml": configMap("kubectl-app", "", ", legacy: \"yes\""),
		"sec.yaml": secret(canary),
	})
	kubectl(t, cp, "", "apply", "-f", applied)
	kubectl(t, cp, configMap("argo-app", tracking, ", legacy: \"yes\""), "apply", "--field-manager=argocd-controller", "-f", "-")

	gitDir := writeFiles(t, map[string]string{
		"web.yaml":  deployment("", ""),
		"cfg.yaml":  configMap("kubectl-app", "", ""),
		"argo.yaml": configMap("argo-app", "", ""),
		"sec.yaml":  secret(""),
	})
	// In sync before Git removes anything.
	sameDir := writeFiles(t, map[string]string{
		"web.yaml":  deployment("\n        - {name: DEBUG, value: \"1\"}", ", tier: frontend"),
		"cfg.yaml":  configMap("kubectl-app", "", ", legacy: \"yes\""),
		"argo.yaml": configMap("argo-app", "", ", legacy: \"yes\""),
		"sec.yaml":  secret(canary),
	})
	const note = "[not in Git any more (in the last-applied configuration)]"
	want := []string{
		"ConfigMap/argo-app extra data.legacy " + note + " argocd-controller(Update)",
		"ConfigMap/kubectl-app extra data.legacy " + note + " kubectl-client-side-apply(Update)",
		"Deployment/web extra metadata.labels.tier " + note + " kubectl-client-side-apply(Update)",
		"Deployment/web extra spec.template.spec.containers[0].env[1] " + note + " kubectl-client-side-apply(Update)",
		"Secret/creds extra data.token " + note + " kubectl-client-side-apply(Update)",
	}
	for _, mode := range []string{"server", "local"} {
		if r := runDrift(t, cp, "-f", sameDir, "--mode", mode, "-o", "json"); r.code != 0 {
			t.Errorf("%s mode, unchanged Git: exit %d, want 0:\n%s\n%s", mode, r.code, strings.Join(noteLines(t, r.stdout), "\n"), r.stderr)
		}
		r := runDrift(t, cp, "-f", gitDir, "--mode", mode, "-o", "json")
		if r.code != cli.ExitFindings {
			t.Errorf("%s mode: exit %d, want 1\n%s", mode, r.code, r.stderr)
		}
		if got := noteLines(t, r.stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s mode:\n  got  %s\n  want %s", mode, strings.Join(got, "\n       "), strings.Join(want, "\n       "))
		}
		// The removed Secret value is masked like any other.
		for _, format := range outputs {
			r := runDrift(t, cp, "-f", gitDir, "--mode", mode, "-o", format)
			for _, f := range []string{canary, base64.StdEncoding.EncodeToString([]byte(canary))} {
				if strings.Contains(r.stdout, f) || strings.Contains(r.stderr, f) {
					t.Errorf("%s mode, -o %s: secret value %q leaked:\n%s%s", mode, format, f, r.stdout, r.stderr)
				}
			}
		}
	}

	// What kubectl itself says: its diff (the three-way merge) shows the
	// same fields going away.
	cmd := cp.Kubectl(t.Context(), "diff", "-f", filepath.Join(gitDir, "cfg.yaml"))
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "-  legacy: \"yes\"") {
		t.Errorf("kubectl diff does not remove data.legacy: the premise changed:\n%s", out)
	}

	// --fix removes them, and then nothing is left.
	if r := runDrift(t, cp, "-f", gitDir, "--fix", "--yes"); r.code != 0 {
		t.Errorf("--fix: exit %d, want 0 (in sync after fixing)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got := kubectl(t, cp, "", "get", "-n", ns, "configmap/argo-app", "configmap/kubectl-app", "-o", `jsonpath={range .items[*]}{.data}{"\n"}{end}`)
	if want := "{\"mode\":\"production\"}\n{\"mode\":\"production\"}\n"; got != want {
		t.Errorf("after --fix:\n%s\nwant\n%s", got, want)
	}
}

// TestFixKeepsOperatorMetadata: --fix applies as the operator what the
// report showed — Git's object with the operator's tracking labels — so
// fixing a Flux-managed object from manifests without them keeps them.
func TestFixKeepsOperatorMetadata(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "opmeta-fix"
	kubectl(t, cp, "", "create", "namespace", ns)
	dir := writeFiles(t, map[string]string{"app.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: ` + ns + `}
data: {mode: production}
`})
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata:
  name: app
  namespace: `+ns+`
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
data: {mode: production}
`, "apply", "--server-side", "--force-conflicts", "--field-manager=kustomize-controller", "-f", "-")
	kubectl(t, cp, "", "patch", "-n", ns, "configmap/app", "-p", `{"data":{"mode":"debug"}}`)

	r := runDrift(t, cp, "-f", dir, "--fix", "--yes", "--force-conflicts")
	if r.code != 0 {
		t.Fatalf("--fix: exit %d, want 0 (in sync after fixing)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got := kubectl(t, cp, "", "get", "-n", ns, "configmap/app", "-o", `jsonpath={.data.mode} {.metadata.labels}`)
	want := `production {"kustomize.toolkit.fluxcd.io/name":"apps","kustomize.toolkit.fluxcd.io/namespace":"flux-system"}`
	if got != want {
		t.Errorf("after --fix: %s\nwant %s", got, want)
	}
}
