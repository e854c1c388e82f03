package drift

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestStatusNoHeaders: 'drift status --no-headers' prints the table's rows
// without its header line, as 'kubectl get --no-headers' does.
func TestStatusNoHeaders(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "status-no-headers"
	ns = cp.Namespace(t, ns)
	kubectl(t, cp, fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: %s}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: %s}
  source: {repoURL: 'file:///nonexistent/fleet.git', targetRevision: main, path: apps/web}
`, ns, ns), "apply", "-f", "-")

	lines := func(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
	with := runDrift(t, cp, "status", "-n", ns)
	without := runDrift(t, cp, "status", "-n", ns, "--no-headers")
	if w := lines(with.stdout); len(w) != 2 || !strings.HasPrefix(w[0], "SOURCE ") || !strings.Contains(w[1], "web") {
		t.Fatalf("status: exit %d, want a header and one row:\n%s%s", with.code, with.stdout, with.stderr)
	}
	// The same row; its columns are only as wide as the rows need.
	if w := lines(without.stdout); without.code != with.code || len(w) != 1 ||
		strings.Join(strings.Fields(w[0]), " ") != strings.Join(strings.Fields(lines(with.stdout)[1]), " ") {
		t.Errorf("status --no-headers: exit %d (want %d), want only the row:\n%s%s", without.code, with.code, without.stdout, without.stderr)
	}
}
