package remediate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// denyPolicy is a ValidatingAdmissionPolicy and its binding refusing the
// updates of ConfigMaps labelled guard=<name> for which expr is false.
func denyPolicy(name, expr, message string) string {
	return `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ` + name + `}
spec:
  failurePolicy: Fail
  matchConstraints:
    objectSelector: {matchLabels: {guard: ` + name + `}}
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [UPDATE]
      resources: [configmaps]
  validations:
  - expression: ` + fmt.Sprintf("%q", expr) + `
    message: ` + fmt.Sprintf("%q", message) + `
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: ` + name + `}
spec:
  policyName: ` + name + `
  validationActions: [Deny]
`
}

// waitRefused waits until the server refuses a dry-run of kubectl args with
// message (a new policy takes a moment to be enforced).
func waitRefused(t *testing.T, cp *controlplane.ControlPlane, message string, args ...string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := cp.Kubectl(t.Context(), append(args, "--dry-run=server")...).CombinedOutput()
		if err != nil && strings.Contains(string(out), message) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl %s is not refused by the policy: %v %s", strings.Join(args, " "), err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// liveJSON is the live object as the server stores it, resourceVersion and
// managedFields included.
func liveJSON(t *testing.T, c *cluster.Client, ns, name string) string {
	t.Helper()
	b, err := json.MarshalIndent(get(t, c, "v1", "ConfigMap", ns, name).Object, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFixRefusedLeavesObjectUntouched: a fix that must both remove a field
// another manager added and apply Git's state writes neither when the
// server would refuse one of them. An admission policy refusing Git's value
// used to be met after the removal had been written (a half-applied fix);
// one refusing the removal was reported as "changed since it was compared"
// instead of with its own message.
func TestFixRefusedLeavesObjectUntouched(t *testing.T) {
	cp := controlplane.ForTest(t)
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ns := "fix-refused"
	ns = cp.Namespace(t, ns)
	cm := func(name string) string {
		return `apiVersion: v1
kind: ConfigMap
metadata: {name: ` + name + `, namespace: ` + ns + `, labels: {guard: ` + name + `}}
data: {mode: production, level: info}
`
	}
	git := cm("no-info") + "---\n" + cm("keep-hotfix")
	kubectl(t, cp, git, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	for _, name := range []string{"no-info", "keep-hotfix"} {
		kubectl(t, cp, "", "patch", "-n", ns, "configmap/"+name, "-p", `{"data":{"level":"debug"}}`)
		kubectl(t, cp, "", "label", "-n", ns, "configmap/"+name, "hotfix=yes")
	}
	const noInfo, keepHotfix = "level info is not allowed here", "the hotfix label stays until the incident is closed"
	kubectl(t, cp, denyPolicy("no-info", "object.data.level != 'info'", noInfo), "apply", "-f", "-")
	kubectl(t, cp, denyPolicy("keep-hotfix", "!('hotfix' in oldObject.metadata.labels) || 'hotfix' in object.metadata.labels", keepHotfix), "apply", "-f", "-")
	waitRefused(t, cp, noInfo, "patch", "-n", ns, "configmap/no-info", "-p", `{"data":{"level":"info"}}`)
	waitRefused(t, cp, keepHotfix, "label", "-n", ns, "configmap/keep-hotfix", "hotfix-")

	desired := desiredOf(t, git)
	rep, err := (&compare.Engine{Reader: client, Applier: client}).Run(t.Context(), desired, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.Objects {
		if len(foreignFields(&o, "kustomize-controller")) == 0 {
			t.Fatalf("%s: no foreign field to remove; the test needs one: %+v", o.Name, o.Changes)
		}
	}
	before := map[string]string{}
	for _, name := range []string{"no-info", "keep-hotfix"} {
		before[name] = liveJSON(t, client, ns, name)
	}

	got, err := Fix(t.Context(), client, rep, desired, Options{ForceConflicts: true})
	if err != nil {
		t.Fatal(err)
	}
	messages := map[string]string{}
	for _, o := range got {
		if o.Action != ActionFailed {
			t.Errorf("%s: %s, want failed (%s)", o.ID(), o.Action, o.Message)
		}
		messages[o.Name] = o.Message
	}
	if m := messages["no-info"]; !strings.Contains(m, noInfo) {
		t.Errorf("refused apply: message %q lacks the policy's", m)
	}
	if m := messages["keep-hotfix"]; !strings.Contains(m, keepHotfix) || strings.Contains(m, "changed since it was compared") {
		t.Errorf("refused removal: message %q, want the policy's and not \"changed since it was compared\"", m)
	}
	for name, want := range before {
		if diff := cmp.Diff(want, liveJSON(t, client, ns, name)); diff != "" {
			t.Errorf("%s was written although the fix was refused (-before +after):\n%s", name, diff)
		}
	}
}
