package drift

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestOutputName: 'drift -o name' prints the drifted objects only, one per
// line, as 'kubectl get -o name' prints them (lowercase kind, dot group,
// no namespace), the exit code is the one of the other outputs, and the real
// kubectl get accepts the lines as they are (what '| xargs kubectl get'
// does).
func TestOutputName(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "output-name"
	ns = cp.Namespace(t, ns)
	manifest := func(replicas int, value string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: %[2]d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.example/web:1}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: changed, namespace: %[1]s}
data: {k: %[3]s}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: same, namespace: %[1]s}
data: {k: v}
`, ns, replicas, value)
	}
	kubectl(t, cp, manifest(1, "live"), "apply", "-f", "-")
	dir := writeFiles(t, map[string]string{"app.yaml": manifest(3, "git")})

	names := runDrift(t, cp, "-f", dir, "-o", "name")
	summary := runDrift(t, cp, "-f", dir, "-o", "summary")
	got := strings.Split(strings.TrimRight(names.stdout, "\n"), "\n")
	want := []string{"deployment.apps/web", "configmap/changed"}
	if strings.Join(sorted(got), "\n") != strings.Join(sorted(want), "\n") || names.code != 1 {
		t.Fatalf("-o name: exit %d (want 1), got lines %q, want %q\nstderr:\n%s", names.code, got, want, names.stderr)
	}
	if names.code != summary.code {
		t.Errorf("-o name exits %d, -o summary %d: the exit code must not depend on the output", names.code, summary.code)
	}
	// kubectl get takes the lines as they are.
	out := kubectl(t, cp, "", append([]string{"get", "-n", ns, "-o", "name"}, got...)...)
	if strings.Join(sorted(strings.Fields(out)), "\n") != strings.Join(sorted(want), "\n") {
		t.Errorf("kubectl get -o name %v printed %q: the names differ from kubectl's own", got, out)
	}

	// No drift: nothing printed, exit 0.
	kubectl(t, cp, manifest(3, "git"), "apply", "-f", "-")
	clean := runDrift(t, cp, "-f", dir, "-o", "name")
	if clean.code != 0 || clean.stdout != "" {
		t.Errorf("-o name without drift: exit %d, stdout %q, want 0 and nothing\n%s", clean.code, clean.stdout, clean.stderr)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestStatusOutputName: 'drift status -o name' prints each source's
// operator object as 'kubectl get -o name' prints it
// (application.argoproj.io/web, no namespace), the exit code unchanged, and
// the real kubectl get accepts it.
func TestStatusOutputName(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "status-output-name"
	ns = cp.Namespace(t, ns)
	kubectl(t, cp, fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: %s}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: %s}
  source: {repoURL: 'file:///nonexistent/fleet.git', targetRevision: main, path: apps/web}
`, ns, ns), "apply", "-f", "-")

	table := runDrift(t, cp, "status", "-n", ns)
	names := runDrift(t, cp, "status", "-n", ns, "-o", "name")
	if names.stdout != "application.argoproj.io/web\n" || names.code != table.code {
		t.Fatalf("status -o name: exit %d (table %d), stdout %q, want %q\nstderr:\n%s", names.code, table.code, names.stdout, "application.argoproj.io/web\n", names.stderr)
	}
	want := kubectl(t, cp, "", "get", "-n", ns, "applications.argoproj.io", "-o", "name")
	if want != names.stdout {
		t.Errorf("kubectl get applications -o name prints %q, drift status -o name %q", want, names.stdout)
	}
	kubectl(t, cp, "", "get", "-n", ns, strings.TrimSpace(names.stdout))
}
