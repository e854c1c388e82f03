package drift

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// quotingPolicy refuses every change to the Secrets labelled
// leak-test=<ns>, with a message quoting the new and old password (as
// stored, base64) and the old object's last-applied annotation (which holds
// the values as written: stringData in clear), as policy engines' messages
// often do.
func quotingPolicy(ns string) string {
	return `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: quote-` + ns + `}
spec:
  failurePolicy: Fail
  matchConstraints:
    objectSelector: {matchLabels: {leak-test: ` + ns + `}}
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE, UPDATE, DELETE]
      resources: [secrets]
  validations:
  - expression: "false"
    messageExpression: >-
      'refused by policy: new ' + (object == null ? '-' : string(object.data['password'])) +
      ' old ' + (oldObject == null ? '-' : string(oldObject.data['password']) + ' ' +
      oldObject.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: quote-` + ns + `}
spec:
  policyName: quote-` + ns + `
  validationActions: [Deny]
`
}

// TestRemediationErrorsMaskSecrets: when an admission policy refuses a fix
// or a prune with a message quoting the Secret (Git's value, the live one,
// and the live last-applied annotation holding it in base64), drift --fix,
// drift --prune and drift watch --fix --prune show the refusal with the
// values masked, as the report masks them: no canary, plain or base64, on
// stdout, stderr or in the JSON log.
func TestRemediationErrorsMaskSecrets(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "remedy-leak"
	gitValue, liveValue, strayValue := canary+"-git", canary+"-live", canary+"-stray"
	labels := "{" + fluxLabels(ns) + ", leak-test: " + ns + "}"
	dir := writeFiles(t, map[string]string{"app.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: marker, namespace: ` + ns + `, labels: {` + fluxLabels(ns) + `}}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: guarded, namespace: ` + ns + `, labels: ` + labels + `}
stringData: {password: ` + gitValue + `}
`})
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	kubectl(t, cp, "", "create", "namespace", ns)
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", dir)
	// The live state, applied client-side so that the last-applied
	// annotation embeds the values (guarded's in clear, as stringData):
	// another password, and an extra Secret.
	kubectl(t, cp, `apiVersion: v1
kind: Secret
metadata: {name: guarded, namespace: `+ns+`, labels: `+labels+`}
stringData: {password: `+liveValue+`}
---
apiVersion: v1
kind: Secret
metadata: {name: stray, namespace: `+ns+`, labels: `+labels+`}
data: {password: `+b64(strayValue)+`}
`, "apply", "-f", "-")
	kubectl(t, cp, quotingPolicy(ns), "apply", "-f", "-")
	eventually(t, "the policy in force", func() string {
		cmd := cp.Kubectl(t.Context(), "label", "-n", ns, "secret/stray", "probe=1", "--dry-run=server")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "refused by policy") {
			return fmt.Sprintf("label not refused: %v %s", err, out)
		}
		return ""
	})

	forms := map[string]string{}
	for _, v := range []string{gitValue, liveValue, strayValue} {
		forms[v] = v
		forms["base64 of "+v] = b64(v)
	}
	leaks := func(what, text string) {
		t.Helper()
		for name, form := range forms {
			if strings.Contains(text, form) {
				t.Errorf("%s shows the secret value (%s):\n%s", what, name, text)
			}
		}
	}

	r := runDrift(t, cp, "-f", dir, "--fix", "--yes", "--force-conflicts")
	leaks("drift --fix", r.stdout+r.stderr)
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "error: v1 Secret "+ns+"/guarded: ") || !strings.Contains(r.stderr, "refused by policy: new *** old ***") {
		t.Errorf("drift --fix: exit %d, want 2 and the policy's message masked; stderr:\n%s", r.code, r.stderr)
	}

	r = runDrift(t, cp, "-f", dir, "--prune", "--yes")
	leaks("drift --prune", r.stdout+r.stderr)
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "error: v1 Secret "+ns+"/stray: ") || !strings.Contains(r.stderr, "refused by policy: new - old ***") {
		t.Errorf("drift --prune: exit %d, want 2 and the policy's message masked; stderr:\n%s", r.code, r.stderr)
	}

	run := startWatch(t, cp, dir, func(o *Options) {
		o.Fix, o.Prune, o.Yes, o.ForceConflicts = true, true, true, true
	})
	defer run.stop(t)
	eventually(t, "both refusals logged", func() string {
		log := run.errOut.String()
		if !strings.Contains(log, `"object":"v1 Secret `+ns+`/guarded"`) || !strings.Contains(log, `"object":"v1 Secret `+ns+`/stray"`) {
			return "not yet:\n" + tail(log)
		}
		return ""
	})
	log := run.errOut.String()
	leaks("drift watch's log", log)
	if !strings.Contains(log, "refused by policy: new *** old ***") {
		t.Errorf("the policy's message is not logged (masked):\n%s", tail(log))
	}
}
