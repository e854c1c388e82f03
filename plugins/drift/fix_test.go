package drift

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// runDriftIn runs the drift command with stdin in.
func runDriftIn(t *testing.T, cp *controlplane.ControlPlane, in io.Reader, args ...string) runResult {
	t.Helper()
	r := clitest.Run(t, NewCmd, clitest.Options{Binary: "kubectl-gitops-drift", Kubeconfig: cp.Kubeconfig, Stdin: in}, args...)
	return runResult{r.Code, r.Stdout, r.Stderr}
}

// remedyFixtures is a small application tracked by its own Flux
// Kustomization ks, so that pruning never reaches another test's objects.
func remedyFixtures(ns, ks, secret string) map[string]string {
	l := "{kustomize.toolkit.fluxcd.io/name: " + ks + ", kustomize.toolkit.fluxcd.io/namespace: flux-system}"
	return map[string]string{
		"namespace.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: ` + ns + `, labels: ` + l + `}
`,
		"app.yaml": `# The web application.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ` + ns + `
  labels: ` + l + `
spec:
  replicas: 2 # the HPA is not used here
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: ` + ns + `
  labels: ` + l + `
data:
  mode: production   # or debug
  level: info
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gone, namespace: ` + ns + `, labels: ` + l + `}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ` + ns + `, labels: ` + l + `}
stringData: {password: ` + secret + `}
`,
	}
}

// applyAndDrift applies the fixtures as kustomize-controller, then changes
// the cluster the ways people do: scale, patch, label and, with objects,
// delete one and create an extra one.
func applyAndDrift(t *testing.T, cp *controlplane.ControlPlane, dir, ns, ks string, objects bool) {
	t.Helper()
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", filepath.Join(dir, "namespace.yaml"))
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", dir)
	kubectl(t, cp, "", "scale", "-n", ns, "deployment/web", "--replicas=5")
	kubectl(t, cp, "", "patch", "-n", ns, "configmap/app-config", "-p", `{"data":{"level":"debug"}}`)
	kubectl(t, cp, "", "label", "-n", ns, "configmap/app-config", "hotfix=yes")
	if !objects {
		return
	}
	kubectl(t, cp, "", "delete", "-n", ns, "configmap/gone")
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata: {name: stray, namespace: `+ns+`, labels: {kustomize.toolkit.fluxcd.io/name: `+ks+`, kustomize.toolkit.fluxcd.io/namespace: flux-system}}
`, "create", "-f", "-")
}

func driftLines(t *testing.T, cp *controlplane.ControlPlane, dir string) []string {
	t.Helper()
	r := runDrift(t, cp, "-f", dir, "-o", "json")
	if r.code == cli.ExitError {
		t.Fatalf("drift: exit 2: %s", r.stderr)
	}
	return drifted(parseReport(t, r.stdout))
}

// TestFixAndPrune: the acceptance of remediation through the command line:
// no change without confirmation (not a terminal, or answered no), conflicts
// reported with their managers, --prune deletes the extra object, and
// --fix --force-conflicts brings the cluster back so that drift exits 0.
func TestFixAndPrune(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns, ks := "remedy", "remedy"
	dir := writeFiles(t, remedyFixtures(ns, ks, canary))
	applyAndDrift(t, cp, dir, ns, ks, true)
	before := []string{
		"ConfigMap/app-config extra metadata.labels.hotfix kubectl-label(Update)",
		"ConfigMap/app-config modified data.level kubectl-patch(Update)",
		"ConfigMap/gone missing",
		"ConfigMap/stray extraneous",
		"Deployment/web modified spec.replicas kubectl(Update,scale)",
	}
	if diff := cmp.Diff(before, driftLines(t, cp, dir)); diff != "" {
		t.Fatalf("drift before fixing (-want +got):\n%s", diff)
	}
	noLeak := func(r runResult) {
		t.Helper()
		if strings.Contains(r.stdout+r.stderr, canary) {
			t.Errorf("secret value in the output:\n%s\n%s", r.stdout, r.stderr)
		}
	}

	// Not a terminal and no --yes: refused, nothing changed.
	r := runDrift(t, cp, "-f", dir, "--fix", "--prune")
	noLeak(r)
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "stdin is not a terminal; pass --yes to apply Git state to 3 objects and delete 1") {
		t.Errorf("non-TTY --fix: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "ConfigMap "+ns+"/app-config: modified") {
		t.Errorf("the diff is not shown before asking:\n%s", r.stdout)
	}
	if diff := cmp.Diff(before, driftLines(t, cp, dir)); diff != "" {
		t.Fatalf("a refused fix changed the cluster (-want +got):\n%s", diff)
	}

	// A terminal answering no: nothing changed, exit 1 (drift remains).
	r = runDriftIn(t, cp, terminalWith(t, "n\n"), "-f", dir, "--fix", "--prune")
	noLeak(r)
	if r.code != cli.ExitFindings || !strings.Contains(r.stderr, "Apply Git state to 3 objects and delete 1? [y/N] ") || !strings.Contains(r.stderr, "no changes made") {
		t.Errorf("declined --fix: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff(before, driftLines(t, cp, dir)); diff != "" {
		t.Fatalf("a declined fix changed the cluster (-want +got):\n%s", diff)
	}

	// --yes without --force-conflicts: what people changed conflicts and
	// stays, with who owns it; the missing object is created.
	r = runDrift(t, cp, "-f", dir, "--fix", "--yes")
	noLeak(r)
	if r.code != cli.ExitFindings {
		t.Errorf("--fix without force: exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		`created v1 ConfigMap ` + ns + `/gone (as kustomize-controller)`,
		`not applied v1 ConfigMap ` + ns + `/app-config: conflict with "kubectl-patch"`,
		`.data.level is owned by "kubectl-patch"`,
		`.spec.replicas is owned by "kubectl"`,
		"still drifted:",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--fix without force: stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if diff := cmp.Diff([]string{before[0], before[1], before[3], before[4]}, driftLines(t, cp, dir)); diff != "" {
		t.Errorf("after --fix without force (-want +got):\n%s", diff)
	}

	// --prune, confirmed on a terminal: the extra object is deleted.
	r = runDriftIn(t, cp, terminalWith(t, "y\n"), "-f", dir, "--prune", "-o", "summary")
	noLeak(r)
	if r.code != cli.ExitFindings || !strings.Contains(r.stderr, "Delete 1 extraneous object? [y/N] ") || !strings.Contains(r.stderr, "deleted v1 ConfigMap "+ns+"/stray") {
		t.Errorf("--prune: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff([]string{before[0], before[1], before[4]}, driftLines(t, cp, dir)); diff != "" {
		t.Errorf("after --prune (-want +got):\n%s", diff)
	}

	// --force-conflicts: everything back, the foreign label removed too.
	r = runDrift(t, cp, "-f", dir, "--fix", "--yes", "--force-conflicts", "-o", "json")
	noLeak(r)
	if r.code != cli.ExitOK || !strings.Contains(r.stderr, "in sync with Git") || !strings.Contains(r.stderr, "removed metadata.labels.hotfix (added by another manager)") {
		t.Errorf("--fix --force-conflicts: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if rep := parseReport(t, r.stdout); rep.Summary["modified"] != 2 {
		t.Errorf("-o json shows the report compared before fixing: %+v", rep.Summary)
	}
	if r := runDrift(t, cp, "-f", dir); r.code != cli.ExitOK {
		t.Errorf("drift after fixing: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runDrift(t, cp, "-f", dir, "--fix", "--prune"); r.code != cli.ExitOK || !strings.Contains(r.stderr, "nothing to fix") {
		t.Errorf("--fix when in sync: exit %d\n%s", r.code, r.stderr)
	}
}

func TestFixUsage(t *testing.T) {
	cp := controlplane.ForTest(t)
	dir := writeFiles(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-f", dir, "--adopt", "--fix"}, "choose one"},
		{[]string{"-f", dir, "--force-conflicts"}, "--force-conflicts only applies with --fix"},
		{[]string{"-f", "-", "--adopt"}, "cannot adopt into stdin"},
		{[]string{"-f", dir, "--fix", "--contexts", controlplane.ContextName}, "cannot be combined with --contexts"},
	}
	for _, tt := range tests {
		r := runDrift(t, cp, tt.args...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// TestAdopt: the live values of drifted fields are written into the files
// (only those lines change, comments stay), the patch is printed, and drift
// then exits 0. Secrets are refused, and so is -k.
func TestAdopt(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns, ks := "adopt", "adopt"
	files := remedyFixtures(ns, ks, canary)
	secret := files["app.yaml"][strings.Index(files["app.yaml"], "---\napiVersion: v1\nkind: Secret"):]
	files["app.yaml"] = strings.TrimSuffix(files["app.yaml"], secret)
	files["secret.yaml"] = strings.TrimPrefix(secret, "---\n")
	dir := writeFiles(t, files)
	applyAndDrift(t, cp, dir, ns, ks, false)
	before, err := os.ReadFile(filepath.Join(dir, "app.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	// The secret alone: refused, file untouched.
	kubectl(t, cp, "", "patch", "-n", ns, "secret/creds", "-p", `{"stringData":{"password":"changed-`+canary+`"}}`)
	r := runDrift(t, cp, "-f", filepath.Join(dir, "secret.yaml"), "--adopt")
	if r.code != cli.ExitFindings || !strings.Contains(r.stderr, "Secrets are never adopted") || strings.Contains(r.stdout+r.stderr, canary) {
		t.Errorf("--adopt of a Secret: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "secret.yaml")); string(b) != files["secret.yaml"] {
		t.Error("the Secret's file was changed")
	}

	// -k: said so, per object.
	kdir := writeFiles(t, map[string]string{
		"kustomization.yaml": "resources: [app.yaml]\n",
		"app.yaml":           files["app.yaml"],
	})
	r = runDrift(t, cp, "-k", kdir, "--adopt")
	if r.code != cli.ExitFindings || !strings.Contains(r.stderr, "built with kustomize (-k)") {
		t.Errorf("--adopt -k: exit %d\n%s", r.code, r.stderr)
	}

	r = runDrift(t, cp, "-f", filepath.Join(dir, "app.yaml"), "--adopt")
	if r.code != cli.ExitOK || !strings.Contains(r.stderr, "adopted 3 fields into 1 file") || !strings.Contains(r.stderr, "Git now matches the cluster") {
		t.Errorf("--adopt: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	after, err := os.ReadFile(filepath.Join(dir, "app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) == string(before) {
		t.Fatal("app.yaml unchanged")
	}
	patch := strings.ReplaceAll(r.stdout, dir, "DIR")
	golden.CheckString(t, filepath.Join("testdata", "adopt.patch.golden"), patch)
	// Only the drifted fields' lines differ; the label joins its flow map.
	var plus, minus []string
	for _, l := range strings.Split(patch, "\n") {
		switch {
		case strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			plus = append(plus, strings.TrimSpace(l[1:]))
		case strings.HasPrefix(l, "-"):
			minus = append(minus, strings.TrimSpace(l[1:]))
		}
	}
	labels := "labels: {kustomize.toolkit.fluxcd.io/name: " + ks + ", kustomize.toolkit.fluxcd.io/namespace: flux-system"
	if diff := cmp.Diff([]string{"replicas: 2 # the HPA is not used here", labels + "}", "level: info"}, minus); diff != "" {
		t.Errorf("removed lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"replicas: 5 # the HPA is not used here", labels + `, hotfix: "yes"}`, "level: debug"}, plus); diff != "" {
		t.Errorf("added lines (-want +got):\n%s", diff)
	}
	if strings.Count(string(after), "\n") != strings.Count(string(before), "\n") {
		t.Error("lines were added or removed")
	}
	if r := runDrift(t, cp, "-f", filepath.Join(dir, "app.yaml")); r.code != cli.ExitOK {
		t.Errorf("drift after adopting: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
