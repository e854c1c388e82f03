package drift

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// mergeKubeconfigs writes one kubeconfig whose contexts are the given
// control planes' admin contexts, renamed.
func mergeKubeconfigs(t *testing.T, cps map[string]*controlplane.ControlPlane) string {
	t.Helper()
	merged := clientcmdapi.NewConfig()
	for name, cp := range cps {
		cfg, err := clientcmd.LoadFromFile(cp.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		ctx := cfg.Contexts[cfg.CurrentContext]
		merged.Clusters[name] = cfg.Clusters[ctx.Cluster]
		merged.AuthInfos[name] = cfg.AuthInfos[ctx.AuthInfo]
		merged.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
		merged.CurrentContext = name
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*merged, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func runDriftKubeconfig(t *testing.T, kubeconfig string, args ...string) runResult {
	t.Helper()
	r := clitest.Run(t, NewCmd, clitest.Options{Binary: "kubectl-gitops-drift", Kubeconfig: kubeconfig}, args...)
	return runResult{r.Code, r.Stdout, r.Stderr}
}

type fleetCell struct {
	Source  string         `json:"source"`
	Cluster string         `json:"cluster"`
	State   string         `json:"state"`
	Counts  map[string]int `json:"counts"`
	Error   string         `json:"error"`
}

func fleetCells(t *testing.T, out string) map[string]fleetCell {
	t.Helper()
	var rep struct {
		Kind     string      `json:"kind"`
		Clusters []string    `json:"clusters"`
		Cells    []fleetCell `json:"cells"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Kind != FleetReportKind {
		t.Fatalf("not a fleet report (%v):\n%s", err, out)
	}
	cells := map[string]fleetCell{}
	for _, c := range rep.Cells {
		cells[c.Cluster] = c
	}
	return cells
}

// TestFleet: two control planes as two contexts. With both up, the matrix
// shows one cluster's drift and the other in sync; with one stopped, the
// other's drift is still reported, the stopped one is an error cell, and
// the exit status is 2.
func TestFleet(t *testing.T) {
	one := controlplane.ForTest(t)
	two, err := controlplane.Start(t.Context(), controlplane.Options{})
	if err != nil {
		t.Fatalf("starting a second control plane: %v", err)
	}
	t.Cleanup(func() { _ = two.Stop() })
	kubeconfig := mergeKubeconfigs(t, map[string]*controlplane.ControlPlane{"one": one, "two": two})

	ns, ks := "fleet", "fleet"
	dir := writeFiles(t, remedyFixtures(ns, ks, canary))
	for _, cp := range []*controlplane.ControlPlane{one, two} {
		kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", filepath.Join(dir, "namespace.yaml"))
		kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", dir)
	}
	kubectl(t, one, "", "scale", "-n", ns, "deployment/web", "--replicas=3")
	label := "-f " + dir

	r := runDriftKubeconfig(t, kubeconfig, "-f", dir, "--contexts", "one,two", "-o", "json")
	if r.code != cli.ExitFindings {
		t.Fatalf("both up: exit %d, want 1\n%s", r.code, r.stderr)
	}
	cells := fleetCells(t, r.stdout)
	want := map[string]fleetCell{
		"one": {Source: label, Cluster: "one", State: "drifted", Counts: map[string]int{"unchanged": 4, "modified": 1, "missing": 0, "extraneous": 0, "skipped": 0, "error": 0}},
		"two": {Source: label, Cluster: "two", State: "in-sync", Counts: map[string]int{"unchanged": 5, "modified": 0, "missing": 0, "extraneous": 0, "skipped": 0, "error": 0}},
	}
	if diff := cmp.Diff(want, cells); diff != "" {
		t.Errorf("matrix (-want +got):\n%s", diff)
	}

	r = runDriftKubeconfig(t, kubeconfig, "-f", dir, "--all-contexts", "-o", "text")
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "drifted: 1 modified") || !strings.Contains(r.stdout, "in sync") ||
		!strings.Contains(r.stdout, "1 source × 2 clusters: 1 in sync, 1 drifted") {
		t.Errorf("--all-contexts -o text: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	if err := two.Stop(); err != nil {
		t.Fatal(err)
	}
	r = runDriftKubeconfig(t, kubeconfig, "-f", dir, "--contexts", "one,two", "--context-timeout", "20s", "-o", "json")
	if r.code != cli.ExitError {
		t.Errorf("one down: exit %d, want 2\n%s", r.code, r.stderr)
	}
	cells = fleetCells(t, r.stdout)
	if c := cells["one"]; c.State != "drifted" || c.Counts["modified"] != 1 {
		t.Errorf("the cluster up: %+v", c)
	}
	if c := cells["two"]; c.State != "error" || c.Error == "" {
		t.Errorf("the cluster down: %+v", c)
	}

	for format, wants := range map[string][]string{
		"text":     {"SOURCE", "one", "two", "drifted: 1 modified", "error", "Errors:", "  two: "},
		"markdown": {"| Source | one | two |", "**drifted: 1 modified**", "**error**", "**Errors**", "`apps/v1 Deployment fleet/web`: modified"},
	} {
		r := runDriftKubeconfig(t, kubeconfig, "-f", dir, "--contexts", "one,two", "--context-timeout", "20s", "-o", format)
		if r.code != cli.ExitError {
			t.Errorf("-o %s: exit %d, want 2", format, r.code)
		}
		for _, w := range wants {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("-o %s lacks %q:\n%s", format, w, r.stdout)
			}
		}
		if strings.Contains(r.stdout+r.stderr, canary) {
			t.Errorf("-o %s: secret value in the output", format)
		}
	}

	r = runDriftKubeconfig(t, kubeconfig, "-f", dir, "--contexts", "one,nope")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, `context "nope" not found in the kubeconfig`) {
		t.Errorf("unknown context: exit %d\n%s", r.code, r.stderr)
	}
}
