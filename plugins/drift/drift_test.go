package drift

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"

	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// writeFiles is test/builders' WriteTree.
var writeFiles = builders.WriteTree

func TestMain(m *testing.M) {
	jsonneteval.Worker()
	code := controlplane.RunTests(m, controlplane.Options{ControllerManager: true, CRDs: true, Cleanup: removeDriftBinaries})
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "hybrid mode compared with server mode in %d runs\n", hybridRuns.Load())
	}
	os.Exit(code)
}

// canary is a secret value that must never appear in any output.
const canary = "canary-s3cr3t-Zq8v"

type runResult struct {
	code           int
	stdout, stderr string
}

// runDrift runs the drift command in-process against the test cluster.
//
// A drift report as JSON in server mode or the default mode (hybrid) is the
// differential test of hybrid mode: the same command runs again in the
// other mode, and the test fails unless exit code, stderr and report
// (objects, statuses, reasons, changed paths and their managers; not the
// mode and hybrid's serverCompared) are identical. So every fixture and
// every cluster state of the real-server tests that ask for a JSON report
// in either mode checks hybrid mode against server mode.
func runDrift(t *testing.T, cp *controlplane.ControlPlane, args ...string) runResult {
	t.Helper()
	r := runDriftOnce(cp, args...)
	server, hybrid := r, r
	switch differential(args) {
	case "server":
		hybrid = runDriftOnce(cp, append(append([]string(nil), args...), "--mode", "hybrid")...)
	case "":
		// The default mode is hybrid.
		server = runDriftOnce(cp, append(append([]string(nil), args...), "--mode", "server")...)
	default:
		return r
	}
	if diff := sameAsServer(server, hybrid); diff != "" {
		t.Errorf("hybrid mode differs from server mode (%v): %s\nserver (exit %d):\n%s%s\nhybrid (exit %d):\n%s%s",
			args, diff, server.code, server.stdout, server.stderr, hybrid.code, hybrid.stdout, hybrid.stderr)
	}
	hybridRuns.Add(1)
	return r
}

// hybridRuns counts the differential runs (printed by TestMain with -v).
var hybridRuns atomic.Int64

func runDriftOnce(cp *controlplane.ControlPlane, args ...string) runResult {
	r := clitest.Run(nil, NewCmd, clitest.Options{Binary: "kubectl-gitops-drift", Kubeconfig: cp.Kubeconfig}, args...)
	return runResult{r.Code, r.Stdout, r.Stderr}
}

// differential returns the mode a one-shot drift report as JSON is asked
// for ("" for the default, hybrid), or "-" when args ask for something
// else: a subcommand, another output, --fix (which writes).
func differential(args []string) string {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
		return "-"
	}
	mode, output := "", ""
	for i, a := range args {
		next := ""
		if i+1 < len(args) {
			next = args[i+1]
		}
		switch {
		case a == "--fix" || strings.HasPrefix(a, "--fix=") || a == "--comment-on-pr" || strings.HasPrefix(a, "--comment-on-pr="):
			return "-"
		case a == "--mode":
			mode = next
		case strings.HasPrefix(a, "--mode="):
			mode = strings.TrimPrefix(a, "--mode=")
		case a == "-o" || a == "--output":
			output = next
		case strings.HasPrefix(a, "-o="), strings.HasPrefix(a, "--output="):
			_, output, _ = strings.Cut(a, "=")
		}
	}
	if output != "json" || (mode != "" && mode != "server") {
		return "-"
	}
	return mode
}

// sameAsServer describes how hybrid's run differs from server's ("" when
// it does not).
func sameAsServer(server, hybrid runResult) string {
	if server.code != hybrid.code {
		return fmt.Sprintf("exit %d, hybrid %d", server.code, hybrid.code)
	}
	if elapsed.ReplaceAllString(server.stderr, "") != elapsed.ReplaceAllString(hybrid.stderr, "") {
		return "stderr differs"
	}
	var s, h any
	// Messages quoting how long a connection took (curl's, through git)
	// differ between any two runs.
	server.stdout, hybrid.stdout = elapsed.ReplaceAllString(server.stdout, ""), elapsed.ReplaceAllString(hybrid.stdout, "")
	if json.Unmarshal([]byte(server.stdout), &s) != nil || json.Unmarshal([]byte(hybrid.stdout), &h) != nil {
		if server.stdout != hybrid.stdout {
			return "stdout differs"
		}
		return ""
	}
	if n := withoutModes(s, "server") + withoutModes(h, "hybrid"); n != 0 {
		return fmt.Sprintf("%d report(s) do not say their mode", n)
	}
	if !reflect.DeepEqual(s, h) {
		return "reports differ"
	}
	return ""
}

// elapsed matches the durations git's and curl's messages quote.
var elapsed = regexp.MustCompile(`after \d+ ms`)

// withoutModes deletes the mode and hybrid's serverCompared of every drift
// report (and list of them) in v, returning how many did not say mode.
func withoutModes(v any, mode string) int {
	wrong := 0
	switch t := v.(type) {
	case map[string]any:
		if k, _ := t["kind"].(string); t["apiVersion"] == ReportAPIVersion && strings.HasPrefix(k, ReportKind) {
			if t["mode"] != mode {
				wrong++
			}
			delete(t, "mode")
			delete(t, "serverCompared")
		}
		for _, x := range t {
			wrong += withoutModes(x, mode)
		}
	case []any:
		for _, x := range t {
			wrong += withoutModes(x, mode)
		}
	}
	return wrong
}

// kubectl runs the real kubectl v1.37 against the test cluster.
func kubectl(t *testing.T, cp *controlplane.ControlPlane, stdin string, args ...string) string {
	t.Helper()
	cmd := cp.Kubectl(t.Context(), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func fluxLabels(name string) string {
	return "kustomize.toolkit.fluxcd.io/name: " + name + ", kustomize.toolkit.fluxcd.io/namespace: flux-system"
}

// fixtures is a small Flux-managed application.
func fixtures(ns, secret string) map[string]string {
	l := "{" + fluxLabels("apps") + "}"
	return map[string]string{
		"namespace.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: ` + ns + `, labels: ` + l + `}
`,
		"web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ` + ns + `, labels: ` + l + `}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources: {limits: {cpu: "1", memory: 128Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ` + ns + `, labels: ` + l + `}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`,
		"config.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: ` + ns + `, labels: ` + l + `}
data: {mode: production, level: info}
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
		"source.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo, namespace: ` + ns + `, labels: ` + l + `}
spec:
  interval: 5m
  url: https://example.com/repo.git
`,
	}
}

type change struct {
	Path     string `json:"path"`
	Type     string `json:"type"`
	Managers []struct {
		Manager     string `json:"manager"`
		Operation   string `json:"operation"`
		Subresource string `json:"subresource"`
		Class       string `json:"class"`
	} `json:"managers"`
}

type object struct {
	Kind      string   `json:"kind"`
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Status    string   `json:"status"`
	Reason    string   `json:"reason"`
	Changes   []change `json:"changes"`
}

type report struct {
	Mode    string         `json:"mode"`
	Summary map[string]int `json:"summary"`
	Objects []object       `json:"objects"`
}

func parseReport(t *testing.T, out string) report {
	t.Helper()
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, out)
	}
	return r
}

// drifted renders the drifted objects and fields as sorted lines, e.g.
// "ConfigMap/app-config modified data.mode kubectl-patch(Update)".
func drifted(r report) []string {
	var out []string
	for _, o := range r.Objects {
		switch o.Status {
		case "unchanged":
			continue
		case "modified":
			for _, c := range o.Changes {
				line := o.Kind + "/" + o.Name + " " + c.Type + " " + c.Path
				if len(c.Managers) > 0 {
					m := c.Managers[0]
					line += " " + m.Manager + "(" + m.Operation
					if m.Subresource != "" {
						line += "," + m.Subresource
					}
					line += ")"
				}
				out = append(out, line)
			}
		default:
			out = append(out, o.Kind+"/"+o.Name+" "+o.Status)
		}
	}
	sort.Strings(out)
	return out
}

// TestAcceptance applies a Flux-style fixture set with server-side apply as
// kustomize-controller, changes it the ways people do, and checks that both
// modes report exactly those changes with the right managers.
func TestAcceptance(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "acceptance"
	dir := writeFiles(t, fixtures(ns, canary))
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", filepath.Join(dir, "namespace.yaml"))
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", dir)

	if r := runDrift(t, cp, "-f", dir, "-o", "json"); r.code != 0 {
		t.Fatalf("freshly applied fixtures drift (exit %d):\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	kubectl(t, cp, "", "scale", "-n", ns, "deployment/web", "--replicas=5")
	kubectl(t, cp, "", "patch", "-n", ns, "configmap/app-config", "-p", `{"data":{"level":"debug"}}`)
	kubectl(t, cp, "", "label", "-n", ns, "service/web", "owner=alice")
	kubectl(t, cp, "", "delete", "-n", ns, "configmap/gone")
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata: {name: stray, namespace: `+ns+`, labels: {`+fluxLabels("apps")+`}}
data: {x: "1"}
`, "create", "-f", "-")
	// An object of another Kustomization is not ours.
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata: {name: other-app, namespace: `+ns+`, labels: {`+fluxLabels("other")+`}}
`, "create", "-f", "-")

	want := []string{
		"ConfigMap/app-config modified data.level kubectl-patch(Update)",
		"ConfigMap/gone missing",
		"ConfigMap/stray extraneous",
		"Deployment/web modified spec.replicas kubectl(Update,scale)",
		"Service/web extra metadata.labels.owner kubectl-label(Update)",
	}
	for _, mode := range []string{"server", "local"} {
		t.Run(mode, func(t *testing.T) {
			r := runDrift(t, cp, "-f", dir, "--mode", mode, "-o", "json")
			if r.code != cli.ExitFindings {
				t.Fatalf("exit %d, want 1\nstderr: %s", r.code, r.stderr)
			}
			got := drifted(parseReport(t, r.stdout))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("drift report:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
			}
			if strings.Contains(r.stdout, canary) {
				t.Error("canary secret in the report")
			}
		})
	}

	// Every object kubectl diff --server-side shows, drift reports too.
	cmd := cp.Kubectl(t.Context(), "diff", "--server-side", "--force-conflicts", "--field-manager=kustomize-controller", "-f", dir)
	out, _ := cmd.CombinedOutput()
	kubectlShows := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\+\+\+ \S+/[a-z0-9.]*?\.?v1\.(\w+)\.[a-z-]+\.([a-z0-9-]+)\s`).FindAllStringSubmatch(string(out), -1) {
		kubectlShows[m[1]+"/"+m[2]] = true
	}
	if len(kubectlShows) == 0 {
		t.Fatalf("kubectl diff showed nothing parseable:\n%s", out)
	}
	r := parseReport(t, runDrift(t, cp, "-f", dir, "-o", "json").stdout)
	ours := map[string]bool{}
	for _, o := range r.Objects {
		if o.Status != "unchanged" {
			ours[o.Kind+"/"+o.Name] = true
		}
	}
	for obj := range kubectlShows {
		if !ours[obj] {
			t.Errorf("kubectl diff shows %s, drift does not", obj)
		}
	}
	if kubectlShows["Service/web"] {
		t.Error("kubectl diff unexpectedly shows the foreign label: the comparison premise changed")
	}
	if !ours["Service/web"] {
		t.Error("drift misses the label another manager added (which kubectl diff cannot see)")
	}
}

// TestSecretsNeverLeak seeds a canary value in a Secret applied client-side
// (so it sits in the last-applied annotation too), changes it, and checks
// every mode and format.
func TestSecretsNeverLeak(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "secrets"
	kubectl(t, cp, "", "create", "namespace", ns)
	old := canary + "-old"
	secret := func(v string) string {
		return `apiVersion: v1
kind: Secret
metadata: {name: db, namespace: ` + ns + `}
data: {password: ` + base64.StdEncoding.EncodeToString([]byte(v)) + `, user: ` + base64.StdEncoding.EncodeToString([]byte("app-user")) + `}
`
	}
	kubectl(t, cp, secret(old), "apply", "-f", "-")
	dir := writeFiles(t, map[string]string{"db.yaml": secret(canary)})

	forbidden := []string{canary, old, base64.StdEncoding.EncodeToString([]byte(canary)), base64.StdEncoding.EncodeToString([]byte(old))}
	for _, mode := range []string{"server", "local"} {
		for _, format := range outputs {
			for _, extra := range [][]string{nil, {"--no-builtin-ignores"}} {
				args := append([]string{"-f", dir, "--mode", mode, "-o", format}, extra...)
				r := runDrift(t, cp, args...)
				if r.code != cli.ExitFindings {
					t.Errorf("%v: exit %d: %s", args, r.code, r.stderr)
				}
				for _, f := range forbidden {
					if strings.Contains(r.stdout, f) || strings.Contains(r.stderr, f) {
						t.Errorf("%v: secret value %q leaked:\n%s%s", args, f, r.stdout, r.stderr)
					}
				}
				if format == "diff" && !strings.Contains(r.stdout, "*** (before)") {
					t.Errorf("%v: changed key not visible as *** (before)/(after):\n%s", args, r.stdout)
				}
			}
		}
	}
	r := runDrift(t, cp, "-f", dir, "-o", "json", "--show-secrets")
	if !strings.Contains(r.stdout, base64.StdEncoding.EncodeToString([]byte(canary))) {
		t.Errorf("--show-secrets does not show the value:\n%s", r.stdout)
	}
}

func TestEdgeCases(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "edges"
	kubectl(t, cp, "", "create", "namespace", ns)
	big := strings.Repeat("x", 900*1024)
	dir := writeFiles(t, map[string]string{
		"widget.yaml": `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: ` + ns + `}
`,
		"nons.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: orphan, namespace: does-not-exist}
`,
		"generated.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {generateName: gen-, namespace: ` + ns + `}
`,
		"clusterrole.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: edge-reader, namespace: ` + ns + `}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
`,
		"big.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: big, namespace: ` + ns + `}
data: {blob: ` + big + `}
`,
	})
	kubectl(t, cp, "", "apply", "--server-side", "-f", filepath.Join(dir, "big.yaml"))
	kubectl(t, cp, "", "apply", "--server-side", "-f", filepath.Join(dir, "clusterrole.yaml"))
	for _, mode := range []string{"server", "local"} {
		r := runDrift(t, cp, "-f", dir, "--mode", mode, "-o", "json")
		if r.code != cli.ExitError {
			t.Errorf("%s: exit %d, want 2 (an object errored)", mode, r.code)
		}
		rep := parseReport(t, r.stdout)
		byName := map[string]object{}
		for _, o := range rep.Objects {
			byName[o.Name] = o
		}
		checks := []struct {
			name, status, reason string
		}{
			{"w", "error", "kind not served"},
			{"orphan", "missing", ""},
			{"", "error", "generateName"},
			{"edge-reader", "unchanged", ""},
			{"big", "unchanged", ""},
		}
		for _, c := range checks {
			o, ok := byName[c.name]
			if !ok {
				t.Errorf("%s: %q not reported", mode, c.name)
				continue
			}
			if o.Status != c.status || !strings.Contains(o.Reason, c.reason) {
				t.Errorf("%s: %q: status %q reason %q; want %q containing %q", mode, c.name, o.Status, o.Reason, c.status, c.reason)
			}
		}
		if !strings.Contains(r.stderr, "cluster-scoped") {
			t.Errorf("%s: no warning about the namespace of a cluster-scoped object:\n%s", mode, r.stderr)
		}
	}
}

// An HPA scales through the scale subresource as kube-controller-manager:
// the built-in hpa-replicas rule keeps that from counting as drift; a
// person scaling is still drift.
func TestHPAReplicasIgnored(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "hpa"
	kubectl(t, cp, "", "create", "namespace", ns)
	dir := writeFiles(t, map[string]string{"web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ` + ns + `}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`})
	kubectl(t, cp, "", "apply", "--server-side", "-f", dir)
	// What the HPA controller does, with its identity's field manager.
	cmd := cp.Kubectl(t.Context(), "patch", "-n", ns, "deployment/web", "--subresource=scale", "--type=merge",
		"-p", `{"spec":{"replicas":7}}`, "--field-manager=kube-controller-manager")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, mode := range []string{"server", "local"} {
		if r := runDrift(t, cp, "-f", dir, "--mode", mode); r.code != 0 {
			t.Errorf("%s: HPA scaling reported as drift (exit %d):\n%s", mode, r.code, r.stdout)
		}
		if r := runDrift(t, cp, "-f", dir, "--mode", mode, "--no-builtin-ignores"); r.code != 1 {
			t.Errorf("%s: without built-in rules the replicas change must show (exit %d)", mode, r.code)
		}
	}
}

func TestForbiddenKindPartialReport(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "rbac-partial"
	kubectl(t, cp, "", "create", "namespace", ns)
	dir := writeFiles(t, map[string]string{"objs.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: visible, namespace: ` + ns + `}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: hidden, namespace: ` + ns + `}
stringData: {k: v}
`})
	kubectl(t, cp, "", "apply", "--server-side", "-f", dir)
	kubectl(t, cp, "", "create", "role", "cm-reader", "-n", ns, "--verb=get,list", "--resource=configmaps")
	kubectl(t, cp, "", "create", "rolebinding", "cm-reader", "-n", ns, "--role=cm-reader", "--user=auditor")
	kc := filepath.Join(t.TempDir(), "auditor.kubeconfig")
	if err := cp.WriteUserKubeconfig(kc, "auditor"); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), []string{"kubectl-gitops-drift", "--kubeconfig", kc, "-f", dir, "--mode", "local", "-o", "json"},
		genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, NewCmd)
	if code != cli.ExitError {
		t.Errorf("exit %d, want 2", code)
	}
	rep := parseReport(t, out.String())
	statuses := map[string]string{}
	for _, o := range rep.Objects {
		statuses[o.Name] = o.Status
	}
	if statuses["visible"] != "unchanged" || statuses["hidden"] != "error" {
		t.Errorf("statuses %v: want visible unchanged, hidden error", statuses)
	}
	if !strings.Contains(errOut.String(), "warning: forbidden to read secrets") {
		t.Errorf("no forbidden warning:\n%s", errOut.String())
	}
}

func TestImmutableFieldChange(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := cp.Namespace(t, "immutable")
	dep := func(app string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ` + ns + `}
spec:
  selector: {matchLabels: {app: ` + app + `}}
  template:
    metadata: {labels: {app: ` + app + `}}
    spec: {containers: [{name: api, image: "nginx:1.27"}]}
`
	}
	kubectl(t, cp, dep("api"), "apply", "--server-side", "-f", "-")
	dir := writeFiles(t, map[string]string{"api.yaml": dep("api-v2")})
	r := runDrift(t, cp, "-f", dir, "-o", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
	}
	rep := parseReport(t, r.stdout)
	if len(rep.Objects) != 1 || rep.Objects[0].Status != "modified" || !strings.Contains(rep.Objects[0].Reason, "immutable") {
		t.Errorf("want a modified object whose reason names the immutable field: %+v", rep.Objects)
	}
}

func TestUnreachableServer(t *testing.T) {
	dir := writeFiles(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), []string{"kubectl-gitops-drift", "--kubeconfig", os.DevNull, "-s", "https://127.0.0.1:1", "-f", dir, "--request-timeout", "5s"},
		genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, NewCmd)
	if code != cli.ExitError {
		t.Errorf("exit %d, want 2", code)
	}
	if lines := strings.Split(strings.TrimSpace(errOut.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "127.0.0.1:1") {
		t.Errorf("want one line naming the server, got:\n%s", errOut.String())
	}
}

func TestBadManifestNamesFileAndLine(t *testing.T) {
	dir := writeFiles(t, map[string]string{"bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n"})
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), []string{"kubectl-gitops-drift", "--kubeconfig", os.DevNull, "-f", dir},
		genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, NewCmd)
	if code != cli.ExitError {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "bad.yaml:7") {
		t.Errorf("error does not name bad.yaml:7:\n%s", errOut.String())
	}
}

// RBAC subjects are an atomic list: a subject someone adds must show as
// drift in both modes, though the items have a name (which makes other lists
// associative).
func TestAtomicListChange(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "atomic"
	kubectl(t, cp, "", "create", "namespace", ns)
	dir := writeFiles(t, map[string]string{"rb.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewers, namespace: ` + ns + `}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: team-a}]
`})
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", dir)
	for _, mode := range []string{"server", "local"} {
		if r := runDrift(t, cp, "-f", dir, "--mode", mode); r.code != 0 {
			t.Fatalf("%s: in sync but exit %d:\n%s", mode, r.code, r.stdout)
		}
	}
	kubectl(t, cp, "", "patch", "-n", ns, "rolebinding/viewers", "--type=json",
		"-p", `[{"op":"add","path":"/subjects/-","value":{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"mallory"}}]`)
	for _, mode := range []string{"server", "local"} {
		r := runDrift(t, cp, "-f", dir, "--mode", mode, "-o", "json")
		if r.code != 1 {
			t.Errorf("%s: exit %d, want 1", mode, r.code)
			continue
		}
		got := drifted(parseReport(t, r.stdout))
		if len(got) != 1 || !strings.Contains(got[0], "RoleBinding/viewers") || !strings.Contains(got[0], "subjects") || !strings.Contains(got[0], "kubectl-patch") {
			t.Errorf("%s: want one subjects change by kubectl-patch, got %v", mode, got)
		}
	}
}
