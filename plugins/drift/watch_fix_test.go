package drift

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/hung"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/driftwatch"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestWatchFixPolicy: `drift watch --fix --prune --yes` brings a changed
// object back to Git's state and deletes an extraneous one, and counts the
// remediations in the metrics.
func TestWatchFixPolicy(t *testing.T) {
	cp := controlplane.ForTest(t)
	kubectl(t, cp, "", "create", "namespace", "watch-fix")
	dir := writeFiles(t, map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: watch-fix, labels: {app: watchfix}}
data: {mode: production, level: info}
`})
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", dir)
	run := startWatch(t, cp, dir, func(o *Options) {
		o.Fix, o.Prune, o.Yes, o.ForceConflicts = true, true, true, true
		o.PruneSelector = "app=watchfix"
	})
	defer run.stop(t)

	kubectl(t, cp, "", "patch", "-n", "watch-fix", "configmap/app-config", "-p", `{"data":{"level":"debug"}}`)
	kubectl(t, cp, "", "create", "-n", "watch-fix", "configmap", "stray", "--from-literal=a=b")
	kubectl(t, cp, "", "label", "-n", "watch-fix", "configmap/stray", "app=watchfix")
	eventually(t, "the change reverted and the stray object pruned", func() string {
		level := kubectl(t, cp, "", "get", "-n", "watch-fix", "configmap/app-config", "-o", "jsonpath={.data.level}")
		names := kubectl(t, cp, "", "get", "-n", "watch-fix", "configmaps", "-l", "app=watchfix", "-o", "name")
		if level != "info" || strings.Contains(names, "stray") {
			return fmt.Sprintf("level %q, objects %q\n%s", level, names, tail(run.errOut.String()))
		}
		return ""
	})
	eventually(t, "remediations counted", func() string {
		if n := sum(scrape(t, run.addr), driftwatch.MetricRemediations, `result="applied"`); n < 1 {
			return fmt.Sprintf("%v applied remediations", n)
		}
		return ""
	})
	t.Log(run.errOut.String())
	if !strings.Contains(run.errOut.String(), `"action":"deleted"`) || !strings.Contains(run.errOut.String(), `"action":"applied"`) {
		t.Errorf("remediations not logged:\n%s", run.errOut)
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}

// TestWatchCheckTimeout: a check that cannot finish (a Git server that
// accepts the connection and never answers) fails at --check-timeout, and
// the loop goes on checking.
func TestWatchCheckTimeout(t *testing.T) {
	cp := controlplane.ForTest(t)
	addr := hung.Listen(t, nil) // a Git server that says nothing
	run := startWatch(t, cp, "", func(o *Options) {
		o.Filenames = nil
		o.Repo = "http://" + addr + "/repo.git"
	}, func(w *watchOptions) { w.CheckTimeout = 500 * time.Millisecond })
	defer run.stop(t)
	eventually(t, "two failed checks", func() string {
		if n := sum(scrape(t, run.addr), driftwatch.MetricCheckErrors); n < 2 {
			return fmt.Sprintf("%v check errors\n%s", n, tail(run.errOut.String()))
		}
		return ""
	})
	if !strings.Contains(run.errOut.String(), "--check-timeout") {
		t.Errorf("the timeout is not said:\n%s", tail(run.errOut.String()))
	}
}
