package drift

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// peakRSS reads a process's peak resident set size (VmHWM) from /proc.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading the process's status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// TestWatchHostileJQRule: an Application whose ignoreDifferences holds
// `.data["x" * 1000000000]` used to make the first check of drift watch
// allocate gigabytes (OOM-killed under the deployment's 512 MiB, leaving
// its clone in /tmp). The real binary watches it and a second Application:
// the hostile rule is an error of its Application, the other is compared,
// the process's peak RSS stays far below 512 MiB, no clone is left, and
// SIGTERM stops it cleanly.
func TestWatchHostileJQRule(t *testing.T) {
	cp := controlplane.ForTest(t)
	bin := driftBinary(t)
	tmp := t.TempDir()
	setGitEnv(t)
	repo := newFleetRepo(t)
	const origURL = "https://git.example.com/org/fleet.git"
	kubectl(t, cp, "", "create", "namespace", "gitops-jq")
	app := func(name, ignore string) string {
		return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `, namespace: gitops-jq}
spec:
  project: default
  source: {repoURL: ` + origURL + `, targetRevision: v1, path: apps/web, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: jq-` + name + `}
` + ignore + `status:
  sync: {status: Synced, revision: "` + repo.v1 + `"}
---
`
	}
	// Each Application's ConfigMaps are live (the rules are evaluated on
	// objects that exist), its Deployment and Service missing.
	for _, name := range []string{"bomb", "web"} {
		kubectl(t, cp, "", "create", "namespace", "jq-"+name)
		argoID := func(u *unstructured.Unstructured) map[string]string {
			return map[string]string{"argocd.argoproj.io/tracking-id": "gitops-jq_" + name + ":/ConfigMap:jq-" + name + "/" + u.GetName()}
		}
		kubectl(t, cp, tracked(t, "apps/web/config.yaml", "jq-"+name, nil, argoID), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	}
	kubectl(t, cp, app("bomb", `  ignoreDifferences: [{kind: ConfigMap, jqPathExpressions: ['.data["x" * 1000000000]']}]
`)+app("web", `  ignoreDifferences: [{kind: ConfigMap, jqPathExpressions: ['.data | select(has("level")) | .level']}]
`), "apply", "-f", "-")

	cmd := exec.Command(bin, "watch", "--argocd-app", "gitops-jq/bomb", "--argocd-app", "gitops-jq/web",
		"--repo-override="+origURL+"=file://"+repo.bare, "--mode=local", "--interval=10s",
		"--listen-address=127.0.0.1:0", "--log-format=json", "--kubeconfig", cp.Kubeconfig)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "TMPDIR="+tmp)
	w := startWatchLog(t, cmd)
	defer cmd.Process.Kill() //nolint:errcheck // already exited when the test passes
	logText, checks, exited := w.text, w.checks, w.exited

	var rec map[string]any
	select {
	case rec = <-checks:
	case err := <-exited:
		t.Fatalf("watch exited during its first check: %v\n%s", err, logText())
	case <-time.After(90 * time.Second):
		t.Fatalf("no check within 90s\n%s", logText())
	}
	peak := peakRSS(t, cmd.Process.Pid)
	t.Logf("first check %v; peak RSS %d MiB", rec, peak>>20)
	if peak > 256<<20 {
		t.Errorf("peak RSS %d MiB, want far below the deployment's 512 MiB", peak>>20)
	}
	errText := fmt.Sprint(rec["error"])
	if rec["level"] != "WARN" || !strings.Contains(errText, "argocd/gitops-jq/bomb") ||
		!strings.Contains(errText, "operator * (not allowed in ignore rules)") || strings.Contains(errText, "gitops-jq/web") {
		t.Errorf("check line %v: want the bomb Application's rule as its error, and no other", rec)
	}
	// The other Application was compared: its Deployment and Service are
	// missing.
	if n, _ := rec["missing"].(float64); rec["sources"] != float64(2) || n < 1 {
		t.Errorf("check line %v: want 2 sources and web's objects missing", rec)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v (want exit 0)\n%s", err, logText())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM\n%s", logText())
	}
	assertNoCheckouts(t, tmp)
}
