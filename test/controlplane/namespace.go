package controlplane

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/childproc"
)

// namespaceGone bounds the wait for a namespace's deletion: the namespace
// controller deletes every object in it first (seconds, usually).
const namespaceGone = 2 * time.Minute

// Namespace creates a namespace for t and returns its name, so that the
// test can run again on the same control plane (go test -count=2):
//
//   - with the controller-manager (Options.ControllerManager), the
//     namespace is name; when t ends it is deleted and waited for until
//     gone (the namespace controller deleted its objects), so the next run
//     creates it anew. One still terminating (deleted without waiting by a
//     test not using this helper, or a cleanup that timed out) is waited
//     for first.
//   - without it, namespaces never finish deleting: the first run's is
//     name, a later run's in the same process name-2, name-3, …; it is
//     deleted (not waited for) when t ends.
//
// A namespace of that name already active is an error: another test uses
// the name.
func (cp *ControlPlane) Namespace(t testing.TB, name string) string {
	t.Helper()
	cp.nsMu.Lock()
	if cp.nsRuns == nil {
		cp.nsRuns = map[string]int{}
	}
	cp.nsRuns[name]++
	run := cp.nsRuns[name]
	cp.nsMu.Unlock()
	if run > 1 && !cp.controllers {
		name += "-" + strconv.Itoa(run)
	}
	ctx, cancel := context.WithTimeout(context.Background(), namespaceGone)
	defer cancel()
	// childproc.Output: the error carries kubectl's stderr, the reason.
	phase, err := childproc.Output(cp.Kubectl(ctx, "get", "namespace", name, "--ignore-not-found", "-o", "jsonpath={.status.phase}"))
	if err != nil {
		t.Fatalf("kubectl get namespace %s: %v", name, err)
	}
	switch strings.TrimSpace(string(phase)) {
	case "":
	case "Terminating":
		if !cp.controllers {
			t.Fatalf("namespace %s is terminating, and no namespace controller runs to finish it", name)
		}
		if out, err := cp.Kubectl(ctx, "wait", "--for=delete", "namespace/"+name, "--timeout="+namespaceGone.String()).CombinedOutput(); err != nil {
			t.Fatalf("waiting for namespace %s of an earlier run to be gone: %v\n%s", name, err, out)
		}
	default:
		t.Fatalf("namespace %s already exists: another test uses the name", name)
	}
	if out, err := cp.Kubectl(ctx, "create", "namespace", name).CombinedOutput(); err != nil {
		t.Fatalf("kubectl create namespace %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), namespaceGone)
		defer cancel()
		// kubectl delete waits until the object is gone unless told not to.
		wait := "--wait=" + strconv.FormatBool(cp.controllers)
		if out, err := cp.Kubectl(ctx, "delete", "namespace", name, "--ignore-not-found", wait, "--timeout="+namespaceGone.String()).CombinedOutput(); err != nil {
			t.Errorf("deleting namespace %s: %v\n%s", name, err, out)
		}
	})
	return name
}
