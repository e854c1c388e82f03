package drift

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// jsonnetWorkers lists the jsonnet workers (pkg/jsonneteval) whose parent
// is pid.
func jsonnetWorkers(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err1 := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		argv, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", child))
		if err1 != nil || err2 != nil {
			continue // gone meanwhile
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) && strings.HasPrefix(string(argv), "kubectl-gitops-jsonnet-worker") {
			pids = append(pids, child)
		}
	}
	return pids
}

// TestWatchHostileJsonnet: an Application whose path holds a jsonnet
// memory bomb (a string doubled 40 times) used to make drift watch grow
// until killed, in every check. The real binary watches it and a second
// Application: the bomb is an error of its Application naming the file and
// the memory budget (the evaluation ran in a worker), the other is
// compared, check after check; the watch's own peak RSS stays low, no
// worker is left, and SIGTERM stops it cleanly.
func TestWatchHostileJsonnet(t *testing.T) {
	cp := controlplane.ForTest(t)
	bin := driftBinary(t)
	tmp := t.TempDir()
	setGitEnv(t)
	repo := newFleetRepo(t)
	const canary = "canary-s3cr3t-7f3a"
	gitRun(t, repo.work, "checkout", "--quiet", "-b", "hostile", "v1")
	bomb := "// " + canary + "\nlocal f(s, n) = if n == 0 then std.length(s) else f(s + s, n - 1);\n{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'b'}, data: {v: '' + f('" + canary + "', 40)}}\n"
	if err := os.MkdirAll(filepath.Join(repo.work, "apps/bomb"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo.work, "apps/bomb/bomb.jsonnet"), []byte(bomb), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo.work, "add", "-A")
	gitRun(t, repo.work, "commit", "--quiet", "-m", "hostile")
	gitRun(t, repo.work, "tag", "hostile")
	hostile := gitRun(t, repo.work, "rev-parse", "HEAD")
	gitRun(t, repo.work, "push", "--quiet", repo.bare, "--tags")

	const origURL = "https://git.example.com/org/fleet.git"
	kubectl(t, cp, "", "create", "namespace", "gitops-jsonnet")
	app := func(name, rev, commit, path string) string {
		return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `, namespace: gitops-jsonnet}
spec:
  project: default
  source: {repoURL: ` + origURL + `, targetRevision: ` + rev + `, path: ` + path + `}
  destination: {server: "https://kubernetes.default.svc", namespace: jsonnet-` + name + `}
status:
  sync: {status: Synced, revision: "` + commit + `"}
---
`
	}
	kubectl(t, cp, "", "create", "namespace", "jsonnet-web")
	argoID := func(u *unstructured.Unstructured) map[string]string {
		return map[string]string{"argocd.argoproj.io/tracking-id": "gitops-jsonnet_web:/ConfigMap:jsonnet-web/" + u.GetName()}
	}
	kubectl(t, cp, tracked(t, "apps/web/config.yaml", "jsonnet-web", nil, argoID), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	kubectl(t, cp, app("bomb", "hostile", hostile, "apps/bomb")+app("web", "v1", repo.v1, "apps/web"), "apply", "-f", "-")

	cmd := exec.Command(bin, "watch", "--argocd-app", "gitops-jsonnet/bomb", "--argocd-app", "gitops-jsonnet/web",
		"--repo-override="+origURL+"=file://"+repo.bare, "--mode=local", "--interval=10s",
		"--listen-address=127.0.0.1:0", "--log-format=json", "--kubeconfig", cp.Kubeconfig)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "TMPDIR="+tmp)
	w := startWatchLog(t, cmd)
	defer cmd.Process.Kill() //nolint:errcheck // already exited when the test passes
	logText, checks, exited := w.text, w.checks, w.exited

	for i := range 2 {
		var rec map[string]any
		select {
		case rec = <-checks:
		case err := <-exited:
			t.Fatalf("watch exited during check %d: %v\n%s", i+1, err, logText())
		case <-time.After(120 * time.Second):
			t.Fatalf("no check %d within 120s\n%s", i+1, logText())
		}
		peak := peakRSS(t, cmd.Process.Pid)
		t.Logf("check %d %v; peak RSS %d MiB", i+1, rec, peak>>20)
		if peak > 256<<20 {
			t.Errorf("peak RSS %d MiB, want far below the jsonnet memory budget (512 MiB)", peak>>20)
		}
		errText := fmt.Sprint(rec["error"])
		if rec["level"] != "WARN" || !strings.Contains(errText, "argocd/gitops-jsonnet/bomb") ||
			!strings.Contains(errText, "evaluating jsonnet apps/bomb/bomb.jsonnet: exceeded the 512 MiB memory budget") ||
			strings.Contains(errText, "gitops-jsonnet/web") {
			t.Errorf("check line %v: want the bomb Application's memory budget as its error, and no other", rec)
		}
		if n, _ := rec["missing"].(float64); rec["sources"] != float64(2) || n < 1 {
			t.Errorf("check line %v: want 2 sources and web's objects missing", rec)
		}
		if pids := jsonnetWorkers(t, cmd.Process.Pid); len(pids) > 0 {
			t.Errorf("jsonnet workers left after check %d: %v", i+1, pids)
		}
	}
	if strings.Contains(logText(), canary) {
		t.Errorf("the log quotes the repository's jsonnet:\n%s", logText())
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
