package drift

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/driftwatch"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

const (
	deployDir      = "../../deploy"
	serviceAccount = "system:serviceaccount:kubectl-gitops:kubectl-gitops-drift"
)

// deployObjects builds deploy/ with the cached kubectl's kustomize.
func deployObjects(t *testing.T, cp *controlplane.ControlPlane) []unstructured.Unstructured {
	t.Helper()
	var out []unstructured.Unstructured
	for _, doc := range strings.Split(kubectl(t, cp, "", "kustomize", deployDir), "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("kustomize output: %v\n%s", err, doc)
		}
		if obj != nil {
			out = append(out, unstructured.Unstructured{Object: obj})
		}
	}
	return out
}

// TestWatchDeployManifests checks deploy/: the API server accepts every
// manifest (server-side dry-run), the Deployment runs watch with flags the
// binary accepts, hardened as documented, probing the endpoints it serves.
func TestWatchDeployManifests(t *testing.T) {
	cp := controlplane.ForTest(t)
	// A dry-run cannot create the namespace the others go to.
	kubectl(t, cp, "", "apply", "--server-side", "-f", filepath.Join(deployDir, "namespace.yaml"))
	out := kubectl(t, cp, "", "apply", "-k", deployDir, "--server-side", "--dry-run=server")
	for _, want := range []string{"deployment.apps/kubectl-gitops-drift serverside-applied (server dry run)",
		"clusterrole.rbac.authorization.k8s.io/kubectl-gitops-drift serverside-applied (server dry run)",
		"service/kubectl-gitops-drift serverside-applied (server dry run)"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	// The namespace warns about pods breaking the restricted Pod Security
	// standard: the Deployment's template must not.
	if strings.Contains(out, "PodSecurity") || strings.Contains(out, "violate") {
		t.Errorf("the Deployment breaks the restricted Pod Security standard:\n%s", out)
	}
	for _, f := range []string{"secrets-reader.yaml", "remediation.yaml"} {
		kubectl(t, cp, "", "apply", "--server-side", "--dry-run=server", "-f", filepath.Join(deployDir, "optional", f))
	}

	var deploy, svc *unstructured.Unstructured
	for _, obj := range deployObjects(t, cp) {
		switch obj.GetKind() {
		case "Deployment":
			deploy = &obj
		case "Service":
			svc = &obj
		}
	}
	if deploy == nil || svc == nil {
		t.Fatal("no Deployment or Service in deploy/")
	}
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers", len(containers))
	}
	c := containers[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	if len(args) == 0 || args[0] != "watch" {
		t.Fatalf("container args %v do not run watch", args)
	}
	for _, want := range []string{"--mode=local", "--listen-address=:9090"} {
		if !slices.Contains(args, want) {
			t.Errorf("args lack %s: %v", want, args)
		}
	}
	// The binary accepts exactly these flags: --help after them parses them
	// all first.
	var stdout, stderr bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr}
	if code := cli.Run(t.Context(), append(append([]string{"kubectl-gitops-drift"}, args...), "--help"), streams, NewCmd); code != 0 {
		t.Errorf("the binary rejects the Deployment's args %v: exit %d\n%s", args, code, stderr.String())
	}

	checks := []struct {
		path []string
		want any
	}{
		{[]string{"securityContext", "readOnlyRootFilesystem"}, true},
		{[]string{"securityContext", "allowPrivilegeEscalation"}, false},
		{[]string{"livenessProbe", "httpGet", "path"}, "/healthz"},
		{[]string{"readinessProbe", "httpGet", "path"}, "/readyz"},
		{[]string{"ports"}, []any{map[string]any{"name": "metrics", "containerPort": int64(9090)}}},
	}
	for _, ch := range checks {
		got, _, _ := unstructured.NestedFieldNoCopy(c, ch.path...)
		if fmt.Sprint(got) != fmt.Sprint(ch.want) {
			t.Errorf("container %s = %v, want %v", strings.Join(ch.path, "."), got, ch.want)
		}
	}
	if _, ok, _ := unstructured.NestedMap(c, "resources", "limits"); !ok {
		t.Error("no resource limits")
	}
	if nonRoot, _, _ := unstructured.NestedBool(deploy.Object, "spec", "template", "spec", "securityContext", "runAsNonRoot"); !nonRoot {
		t.Error("pod not runAsNonRoot")
	}
	if port, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports"); fmt.Sprint(port) != "[map[name:metrics port:9090 targetPort:metrics]]" {
		t.Errorf("service ports %v", port)
	}

	// The ServiceMonitor (its CRD is not installed here) scrapes that port.
	data, err := os.ReadFile(filepath.Join(deployDir, "optional", "servicemonitor.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var sm unstructured.Unstructured
	if err := yaml.Unmarshal(data, &sm.Object); err != nil {
		t.Fatal(err)
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	if sm.GetKind() != "ServiceMonitor" || len(endpoints) != 1 || endpoints[0].(map[string]any)["port"] != "metrics" ||
		sel["app.kubernetes.io/name"] != svc.GetLabels()["app.kubernetes.io/name"] {
		t.Errorf("ServiceMonitor does not select the Service's metrics port: %v", sm.Object)
	}
}

// TestWatchDeployRBAC applies deploy/'s RBAC and checks, as the
// ServiceAccount, that it is enough for watch --mode=local (a check with
// drift and events) and no more: no writes, no Secrets, and --mode=server
// is refused its dry-run.
func TestWatchDeployRBAC(t *testing.T) {
	cp := controlplane.ForTest(t)
	kubectl(t, cp, "", "apply", "--server-side", "-f", filepath.Join(deployDir, "namespace.yaml"), "-f", filepath.Join(deployDir, "rbac.yaml"))

	canI := []struct {
		verb, resource string
		want           string
	}{
		{"list", "configmaps", "yes"},
		{"get", "deployments.apps", "yes"},
		{"list", "applications.argoproj.io", "yes"},
		{"list", "kustomizations.kustomize.toolkit.fluxcd.io", "yes"},
		{"create", "events", "yes"},
		{"patch", "configmaps", "no"},
		{"delete", "deployments.apps", "no"},
		{"create", "configmaps", "no"},
		{"get", "secrets", "no"},
		{"patch", "events", "no"},
		{"escalate", "clusterroles.rbac.authorization.k8s.io", "no"},
		{"impersonate", "users", "no"},
	}
	for _, c := range canI {
		cmd := cp.Kubectl(t.Context(), "auth", "can-i", c.verb, c.resource, "--all-namespaces", "--as", serviceAccount)
		out, _ := cmd.Output() // exit 1 for "no"
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("can %s %s: %q, want %q", c.verb, c.resource, got, c.want)
		}
	}

	ns := "watch-rbac"
	kubectl(t, cp, "", "create", "namespace", ns)
	cm := strings.ReplaceAll(watchConfigMap, "namespace: watch", "namespace: "+ns)
	dir := writeFiles(t, map[string]string{"cm.yaml": cm})
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", dir)
	kubectl(t, cp, "", "patch", "-n", ns, "configmap/app-config", "-p", `{"data":{"level":"debug"}}`)

	// One-off runs as the ServiceAccount: local mode works, server mode is
	// refused the dry-run patch.
	if r := runDrift(t, cp, "--as", serviceAccount, "-f", dir, "--mode=local", "-o", "json"); r.code != cli.ExitFindings {
		t.Errorf("local mode as the ServiceAccount: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if r := runDrift(t, cp, "--as", serviceAccount, "-f", dir, "--mode=server", "-o", "json"); r.code != cli.ExitError || !strings.Contains(r.stdout, "forbidden") {
		t.Errorf("server mode as the ServiceAccount: exit %d, want 2 with forbidden\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// The loop as the ServiceAccount: drift in the metrics, an event, no error.
	run := startWatch(t, cp, dir, func(o *Options) {
		*o.env.ConfigFlags.Impersonate = serviceAccount
		o.Mode = "local"
	})
	eventually(t, "drift seen as the ServiceAccount", func() string {
		m := scrape(t, run.addr)
		if n := sum(m, driftwatch.MetricDriftObjects, `namespace="`+ns+`"`, `status="modified"`); n != 1 {
			return fmt.Sprintf("gauge %v", n)
		}
		if n := sum(m, driftwatch.MetricCheckErrors); n != 0 {
			return fmt.Sprintf("%v check errors:\n%s", n, run.errOut)
		}
		if count(driftEvents(t, cp, ns), driftwatch.ReasonDriftDetected) != 1 {
			return "no DriftDetected event"
		}
		return ""
	})
	run.stop(t)
	if strings.Contains(run.errOut.String(), "recording event") {
		t.Errorf("event errors:\n%s", run.errOut)
	}
}
