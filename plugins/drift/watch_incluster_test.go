package drift

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/driftwatch"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// inClusterCanary is a Secret value declared in Git: the watcher may not
// read Secrets (deploy/rbac.yaml), and must not print Git's value either.
const inClusterCanary = "canary-s3cr3t-7f3a"

// podSpec is what the test takes from deploy/'s Deployment (as `kubectl
// kustomize deploy/` renders it) to run the binary as the kubelet would.
type podSpec struct {
	namespace, serviceAccount string
	args                      []string
	env                       []string // NAME=value
	emptyDirs                 []string // mount paths
	runAsUser, runAsGroup     int64
	readOnlyRoot              bool
	readiness, liveness       string // the probes' paths
	memoryLimit               resource.Quantity
}

func parsePodSpec(t *testing.T, objs []unstructured.Unstructured) podSpec {
	t.Helper()
	for _, obj := range objs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		pod, _, _ := unstructured.NestedMap(obj.Object, "spec", "template", "spec")
		containers, _, _ := unstructured.NestedSlice(pod, "containers")
		if len(containers) != 1 {
			t.Fatalf("%d containers", len(containers))
		}
		c := containers[0].(map[string]any)
		p := podSpec{namespace: obj.GetNamespace()}
		p.serviceAccount, _, _ = unstructured.NestedString(pod, "serviceAccountName")
		p.args, _, _ = unstructured.NestedStringSlice(c, "args")
		env, _, _ := unstructured.NestedSlice(c, "env")
		for _, e := range env {
			m := e.(map[string]any)
			p.env = append(p.env, fmt.Sprint(m["name"])+"="+fmt.Sprint(m["value"]))
		}
		emptyDir := map[string]bool{}
		volumes, _, _ := unstructured.NestedSlice(pod, "volumes")
		for _, v := range volumes {
			m := v.(map[string]any)
			if _, ok := m["emptyDir"]; ok {
				emptyDir[fmt.Sprint(m["name"])] = true
			}
		}
		mounts, _, _ := unstructured.NestedSlice(c, "volumeMounts")
		for _, v := range mounts {
			m := v.(map[string]any)
			if emptyDir[fmt.Sprint(m["name"])] {
				p.emptyDirs = append(p.emptyDirs, fmt.Sprint(m["mountPath"]))
			}
		}
		// sigs.k8s.io/yaml decodes numbers as float64.
		uid, _, _ := unstructured.NestedFieldNoCopy(pod, "securityContext", "runAsUser")
		gid, _, _ := unstructured.NestedFieldNoCopy(pod, "securityContext", "runAsGroup")
		p.runAsUser, p.runAsGroup = asInt64(uid), asInt64(gid)
		p.readOnlyRoot, _, _ = unstructured.NestedBool(c, "securityContext", "readOnlyRootFilesystem")
		p.readiness, _, _ = unstructured.NestedString(c, "readinessProbe", "httpGet", "path")
		p.liveness, _, _ = unstructured.NestedString(c, "livenessProbe", "httpGet", "path")
		if limit, _, _ := unstructured.NestedString(c, "resources", "limits", "memory"); limit != "" {
			p.memoryLimit = resource.MustParse(limit)
		}
		if p.serviceAccount == "" || len(p.args) == 0 || p.args[0] != "watch" || p.runAsUser == 0 ||
			p.readiness == "" || p.liveness == "" || p.memoryLimit.IsZero() {
			t.Fatalf("unexpected Deployment: %+v", p)
		}
		return p
	}
	t.Fatal("no Deployment in deploy/")
	return podSpec{}
}

// deployArgs are the Deployment's args with the Git source flags replaced
// by sources (the example repository does not exist) and the port of
// --listen-address by port (9090 may be taken on this machine); the
// address keeps its form (every interface, as in a pod).
func deployArgs(t *testing.T, args []string, port string, sources ...string) []string {
	t.Helper()
	var out []string
	replaced := false
	for _, a := range args {
		name, value, _ := strings.Cut(a, "=")
		switch name {
		case "--repo", "--revision", "--path", "--all-argocd-apps", "--all-flux":
			if !replaced {
				out, replaced = append(out, sources...), true
			}
		case "--listen-address":
			host, _, err := net.SplitHostPort(value)
			if err != nil {
				t.Fatalf("deployment: %s: %v", a, err)
			}
			out = append(out, "--listen-address="+net.JoinHostPort(host, port))
		default:
			out = append(out, a)
		}
	}
	if !replaced {
		t.Fatalf("no source flag in the Deployment's args %v", args)
	}
	return out
}

// podProcess is the binary running as the Deployment's container would.
type podProcess struct {
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	log    strings.Builder
	exited chan error
}

func (p *podProcess) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *podProcess) running() bool {
	select {
	case err := <-p.exited:
		p.exited <- err
		return false
	default:
		return true
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes: unshare,
// sh, env and setpriv exec one another, so the pid is the binary's.
func (p *podProcess) peakRSS(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// stop sends SIGTERM (what the kubelet sends) and waits for exit 0.
func (p *podProcess) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.exited <- err
		if err != nil {
			t.Errorf("after SIGTERM: %v (want exit 0)\n%s", err, tail(p.logs()))
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("still running 30s after SIGTERM")
	}
}

// runInPod starts bin as deploy/'s container: in a private mount
// namespace (unshare, root) with the ServiceAccount's token, ca.crt and
// namespace at the in-cluster path (a read-only tmpfs), the binary at
// /usr/local/bin (as in the image), each emptyDir a tmpfs at its mount
// path, every other mount read-only (readOnlyRootFilesystem), run as the
// pod's user and group, with only the container's env plus what the
// kubelet adds (KUBERNETES_SERVICE_HOST/PORT, PATH, HOSTNAME): no
// kubeconfig anywhere, so client-go must use the in-cluster
// configuration.
func runInPod(t *testing.T, cp *controlplane.ControlPlane, bin, saDir string, spec podSpec, args []string) *podProcess {
	t.Helper()
	u, err := url.Parse(cp.Server)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(u.Host)
	var script strings.Builder
	script.WriteString(`set -e
mount -t tmpfs -o mode=0755 none /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
mount --bind "$SA" /run/secrets/kubernetes.io/serviceaccount
mount -o remount,bind,ro /run/secrets/kubernetes.io/serviceaccount
mount --bind "$BINDIR" /usr/local/bin
`)
	for _, d := range spec.emptyDirs {
		fmt.Fprintf(&script, "mount -t tmpfs -o mode=1777,size=1g none %q\n", d)
	}
	if spec.readOnlyRoot {
		// Per mount (bind remount), in this namespace only: never the
		// file systems themselves.
		script.WriteString("mount -o remount,bind,ro /\nmount -o remount,bind,ro /usr/local/bin\n")
		// The emulation holds: the root is not writable, even to root.
		script.WriteString("if touch /.rw-probe 2>/dev/null; then echo 'the root file system is writable' >&2; exit 97; fi\n")
	}
	fmt.Fprintf(&script, `exec env -i %s setpriv --reuid=%d --regid=%d --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all /usr/local/bin/kubectl-gitops-drift "$@"`,
		strings.Join(append(append([]string{}, spec.env...),
			"KUBERNETES_SERVICE_HOST="+host, "KUBERNETES_SERVICE_PORT="+port,
			"PATH=/usr/local/bin:/usr/bin:/bin", "HOSTNAME=kubectl-gitops-drift-7d9f-abcde"), " "),
		spec.runAsUser, spec.runAsGroup)

	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", script.String(), "sh"}, args...)...)
	cmd.Env = []string{"SA=" + saDir, "BINDIR=" + filepath.Dir(bin), "PATH=" + os.Getenv("PATH")}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the binary: %v", err)
	}
	p := &podProcess{cmd: cmd, exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.running() {
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("binary log:\n%s", tail(p.logs()))
		}
	})
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--listen-address="); ok {
			_, lp, _ := net.SplitHostPort(v)
			p.addr = "127.0.0.1:" + lp
		}
	}
	eventually(t, "the readiness probe", func() string {
		if !p.running() {
			t.Fatalf("exited: %v\n%s", <-p.exited, p.logs())
		}
		resp, err := http.Get("http://" + p.addr + spec.readiness)
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Sprintf("%s %d\n%s", spec.readiness, resp.StatusCode, tail(p.logs()))
		}
		return ""
	})
	return p
}

// parseMetrics parses /metrics with Prometheus's own text-format parser
// (what a scrape uses) into series ("name{a="b",...}") → value.
func parseMetrics(t *testing.T, addr string) (map[string]float64, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scraping: %v", err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); expfmt.ResponseFormat(resp.Header).FormatType() != expfmt.TypeTextPlain {
		t.Fatalf("/metrics Content-Type %q is not the text format", ct)
	}
	var body strings.Builder
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(io.TeeReader(resp.Body, &body))
	if err != nil {
		t.Fatalf("/metrics is not valid Prometheus text format: %v", err)
	}
	fams := make([]*dto.MetricFamily, 0, len(families))
	for _, f := range families {
		fams = append(fams, f)
	}
	samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, fams...)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	out := map[string]float64{}
	for _, s := range samples {
		out[s.Metric.String()] = float64(s.Value)
	}
	return out, body.String()
}

// TestWatchInCluster runs the real binary exactly as deploy/ runs it in a
// pod (see runInPod), with exactly deploy/'s RBAC, against an Argo CD
// Application and a Flux Kustomization whose repository the test serves
// (git daemon and git http-backend). It checks both sources, serves
// /metrics that Prometheus's parser accepts, records Events, and is refused
// what the RBAC does not grant (a Secret Git declares; the patches and
// deletes of a --fix --prune policy until deploy/optional/remediation.yaml
// is applied, which also allows --mode=server) while it keeps running;
// with secrets-reader.yaml the Secret is compared and no value shows. It
// picks up a rotated token. `kubectl kustomize deploy/` passes strict
// server-side validation.
func TestWatchInCluster(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 {
		msg := "running the binary with the in-cluster configuration needs unshare and root (the token is read from a fixed path)"
		if os.Getenv("KUBECTL_GITOPS_REQUIRE_CLUSTER") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// A control plane of its own: the pod lists every Application and
	// Kustomization (--all-argocd-apps --all-flux), and other tests of this
	// package leave theirs (and the namespaces it creates) on the shared one.
	cp, err := controlplane.Start(t.Context(), controlplane.Options{ControllerManager: true, CRDs: true})
	if err != nil {
		t.Fatalf("starting a control plane: %v", err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	// Alone in a directory of mode 0755, mounted as /usr/local/bin.
	bin := driftBinary(t, "CGO_ENABLED=0") // static, as the image's

	// deploy/ as `kubectl apply -k` would send it, strictly validated.
	rendered := kubectl(t, cp, "", "kustomize", deployDir)
	objs := deployObjects(t, cp)
	spec := parsePodSpec(t, objs)
	for _, obj := range objs {
		if obj.GetKind() == "Namespace" {
			b, _ := yaml.Marshal(obj.Object)
			kubectl(t, cp, string(b), "apply", "--validate=strict", "-f", "-")
		}
	}
	out := kubectl(t, cp, rendered, "apply", "--dry-run=server", "--validate=strict", "-f", "-")
	if n := strings.Count(out, "(server dry run)"); n != len(objs) {
		t.Errorf("strict server dry-run: %d of %d objects accepted:\n%s", n, len(objs), out)
	}
	// The check can fail: an unknown field is refused.
	bad := strings.Replace(rendered, "  replicas: 1\n", "  replicas: 1\n  replica: 1\n", 1)
	if bad == rendered {
		t.Fatal("no replicas line to break")
	}
	cmd := cp.Kubectl(t.Context(), "apply", "--dry-run=server", "--validate=strict", "-f", "-")
	cmd.Stdin = strings.NewReader(bad)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), `unknown field "spec.replica"`) {
		t.Errorf("strict validation accepted an unknown field: %v\n%s", err, out)
	}
	kubectl(t, cp, rendered, "apply", "--validate=strict", "-f", "-")

	// The ServiceAccount's token, from the TokenRequest API.
	token := saToken(t, cp, spec)
	// The token volume: the test's directory, bound read-only at the
	// in-cluster path, so that the test can rotate the token as the
	// kubelet does.
	saDir := t.TempDir()
	if err := os.Chmod(saDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := cp.RESTConfig().CAData
	if len(ca) == 0 {
		var err error
		if ca, err = os.ReadFile(cp.RESTConfig().CAFile); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string][]byte{"token": []byte(token), "ca.crt": ca, "namespace": []byte(spec.namespace)} {
		writeAtomic(t, filepath.Join(saDir, name), data)
	}

	// The fleet: Argo CD at tag v2 (adds a Secret) over git://, Flux at
	// main over HTTP.
	repo := newFleetRepo(t)
	gitRun(t, repo.work, "checkout", "--quiet", "-b", "v2", repo.v1)
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: " + inClusterCanary + "}\n"
	if err := os.WriteFile(filepath.Join(repo.work, "apps/web/secret.yaml"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo.work, "add", "-A")
	gitRun(t, repo.work, "commit", "--quiet", "-m", "db secret")
	gitRun(t, repo.work, "tag", "v2")
	gitRun(t, repo.work, "push", "--quiet", repo.bare, "--tags")
	daemon := serveGitDaemon(t, repo.base)
	httpURL := serveGitHTTP(t, repo.base)

	for _, ns := range []string{"gitops-t", "argo-shop", "flux-shop"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	argoID := func(u *unstructured.Unstructured) map[string]string {
		gvk := u.GroupVersionKind()
		return map[string]string{"argocd.argoproj.io/tracking-id": "gitops-t_web:" + gvk.Group + "/" + gvk.Kind + ":argo-shop/" + u.GetName()}
	}
	for _, f := range []string{"apps/web/web.yaml", "apps/web/config.yaml", "apps/web/sub/svc.yaml"} {
		kubectl(t, cp, tracked(t, f, "argo-shop", nil, argoID), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	}
	kubectl(t, cp, `apiVersion: v1
kind: Secret
metadata: {name: db, namespace: argo-shop, annotations: {argocd.argoproj.io/tracking-id: "gitops-t_web:/Secret:argo-shop/db"}}
stringData: {password: other-value}
`, "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	fluxLabels := func(*unstructured.Unstructured) map[string]string {
		return map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "gitops-t"}
	}
	kubectl(t, cp, tracked(t, "flux/apps/cm.yaml", "flux-shop", fluxLabels, nil), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	kubectl(t, cp, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: gitops-t}
spec:
  project: default
  source: {repoURL: "`+daemon+`/fleet.git", targetRevision: v2, path: apps/web, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: argo-shop}
  ignoreDifferences: [{group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}]
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: gitops-t}
spec: {interval: 1m, url: "`+httpURL+`/fleet.git", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: gitops-t}
spec:
  interval: 10m
  prune: true
  path: ./flux/apps
  targetNamespace: flux-shop
  sourceRef: {kind: GitRepository, name: fleet}
`, "apply", "-f", "-")
	// People change things.
	kubectl(t, cp, "", "patch", "-n", "argo-shop", "configmap/app-config", "-p", `{"data":{"level":"debug"}}`)
	kubectl(t, cp, "", "patch", "-n", "flux-shop", "configmap/flux-config", "-p", `{"data":{"mode":"dev"}}`)
	kubectl(t, cp, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stray, namespace: argo-shop, annotations: {argocd.argoproj.io/tracking-id: 'gitops-t_web:/ConfigMap:argo-shop/stray'}}\n", "create", "-f", "-")
	stray := func() bool {
		out, err := cp.Kubectl(t.Context(), "get", "-n", "argo-shop", "configmap/stray", "-o", "name").CombinedOutput()
		if err != nil && !strings.Contains(string(out), "NotFound") {
			t.Fatalf("kubectl get configmap/stray: %v\n%s", err, out)
		}
		return err == nil
	}

	sources := []string{"--all-argocd-apps", "--all-flux"}
	argo, flux := "argocd/gitops-t/web", "flux/gitops-t/apps"
	noCanary := func(t *testing.T, what, s string) {
		t.Helper()
		if strings.Contains(s, inClusterCanary) {
			t.Errorf("%s shows the Secret's value from Git:\n%s", what, s)
		}
	}

	t.Run("read-only", func(t *testing.T) {
		p := runInPod(t, cp, bin, saDir, spec, deployArgs(t, spec.args, podPort(t), sources...))
		var series map[string]float64
		var body string
		eventually(t, "drift of both sources in the metrics", func() string {
			series, body = parseMetrics(t, p.addr)
			for _, m := range []string{`source="` + argo + `"`, `source="` + flux + `"`} {
				if n := sum(series, driftwatch.MetricDriftObjects, m, `status="modified"`); n < 1 {
					return fmt.Sprintf("%s: %v modified\n%s", m, n, body)
				}
			}
			return ""
		})
		if n := sum(series, driftwatch.MetricDriftObjects, `source="`+argo+`"`, `namespace="argo-shop"`, `kind="ConfigMap"`, `status="modified"`); n != 1 {
			t.Errorf("argo-shop ConfigMaps modified: %v\n%s", n, body)
		}
		if n := sum(series, driftwatch.MetricDriftObjects, `source="`+argo+`"`, `kind="Secret"`, `status="error"`); n != 1 {
			t.Errorf("the Secret Git declares is not an error (forbidden): %v\n%s", n, body)
		}
		eventually(t, "DriftDetected events", func() string {
			for _, ns := range []string{"argo-shop", "flux-shop"} {
				if count(driftEvents(t, cp, ns), driftwatch.ReasonDriftDetected) < 1 {
					return "no DriftDetected event in " + ns + "\n" + tail(p.logs())
				}
			}
			return ""
		})
		logs := p.logs()
		if !strings.Contains(logs, "forbidden to read secrets in namespace argo-shop") {
			t.Errorf("the log does not say reading the Secret is forbidden to the ServiceAccount:\n%s", tail(logs))
		}
		if strings.Contains(logs, "recording event") {
			t.Errorf("event errors:\n%s", tail(logs))
		}
		if !p.running() || status(t, "http://"+p.addr+spec.liveness) != http.StatusOK {
			t.Errorf("not running and healthy after the refusals:\n%s", tail(logs))
		}
		noCanary(t, "the log", logs)
		noCanary(t, "/metrics", body)
		// The process (git runs as its children) stays within the
		// container's memory limit, with a wide margin.
		if peak := p.peakRSS(t); peak*4 > spec.memoryLimit.Value() {
			t.Errorf("peak RSS %d MiB, more than a quarter of the limit %s", peak>>20, spec.memoryLimit.String())
		} else {
			t.Logf("peak RSS %d MiB (limit %s)", peak>>20, spec.memoryLimit.String())
		}
		p.stop(t)
	})

	fixArgs := append(deployArgs(t, spec.args, podPort(t), sources...), "--fix", "--prune", "--yes", "--force-conflicts")
	level := func() string {
		return kubectl(t, cp, "", "get", "-n", "argo-shop", "configmap/app-config", "-o", "jsonpath={.data.level}")
	}
	t.Run("--fix without remediation.yaml", func(t *testing.T) {
		p := runInPod(t, cp, bin, saDir, spec, fixArgs)
		eventually(t, "a failed remediation", func() string {
			if n := sum(parseMetricsQuiet(t, p.addr), driftwatch.MetricRemediations, `result="failed"`); n < 1 {
				return fmt.Sprintf("%v failed remediations\n%s", n, tail(p.logs()))
			}
			return ""
		})
		logs := p.logs()
		if !strings.Contains(logs, `configmaps \"app-config\" is forbidden`) || !strings.Contains(logs, `cannot patch resource \"configmaps\"`) {
			t.Errorf("the log does not say the patch is forbidden:\n%s", tail(logs))
		}
		if got := level(); got != "debug" || !stray() {
			t.Errorf("level %q, stray object there: %v: the watcher changed the cluster without remediation.yaml", got, stray())
		}
		if !strings.Contains(logs, `configmaps \"stray\" is forbidden`) || !strings.Contains(logs, `cannot delete resource \"configmaps\"`) {
			t.Errorf("the log does not say the prune is forbidden:\n%s", tail(logs))
		}
		if !p.running() || status(t, "http://"+p.addr+spec.liveness) != http.StatusOK {
			t.Errorf("not running and healthy after the refusals:\n%s", tail(logs))
		}
		noCanary(t, "the log", logs)
		p.stop(t)
	})

	t.Run("--fix with remediation.yaml", func(t *testing.T) {
		kubectl(t, cp, "", "apply", "--validate=strict", "-f", filepath.Join(deployDir, "optional", "remediation.yaml"))
		p := runInPod(t, cp, bin, saDir, spec, fixArgs)
		eventually(t, "app-config fixed, the stray object pruned", func() string {
			if got := level(); got != "info" || stray() {
				return fmt.Sprintf("level %q, stray there: %v\n%s", got, stray(), tail(p.logs()))
			}
			return ""
		})
		eventually(t, "remediation counted", func() string {
			if n := sum(parseMetricsQuiet(t, p.addr), driftwatch.MetricRemediations, `result="applied"`); n < 1 {
				return fmt.Sprintf("%v applied remediations\n%s", n, tail(p.logs()))
			}
			return ""
		})
		logs := p.logs()
		// Secrets are still not readable: remediation.yaml grants none.
		if !strings.Contains(logs, "forbidden to read secrets in namespace argo-shop") {
			t.Errorf("the Secret became readable:\n%s", tail(logs))
		}
		noCanary(t, "the log", logs)
		p.stop(t)
	})

	// remediation.yaml is also what --mode=server needs (its dry-run is a
	// patch to RBAC).
	t.Run("--mode=server with remediation.yaml", func(t *testing.T) {
		kubectl(t, cp, "", "patch", "-n", "argo-shop", "configmap/app-config", "-p", `{"data":{"level":"debug"}}`)
		args := deployArgs(t, spec.args, podPort(t), sources...)
		for i, a := range args {
			if strings.HasPrefix(a, "--mode=") {
				args[i] = "--mode=server"
			}
		}
		p := runInPod(t, cp, bin, saDir, spec, args)
		var body string
		eventually(t, "a server-side check", func() string {
			var series map[string]float64
			series, body = parseMetrics(t, p.addr)
			if n := sum(series, driftwatch.MetricDriftObjects, `source="`+argo+`"`, `kind="ConfigMap"`, `status="modified"`); n != 1 {
				return fmt.Sprintf("%v modified ConfigMaps\n%s\n%s", n, body, tail(p.logs()))
			}
			return ""
		})
		if n := sum(parseMetricsQuiet(t, p.addr), driftwatch.MetricDriftObjects, `status="error"`); n != 1 {
			t.Errorf("%v objects in error, want 1 (the Secret)\n%s", n, body)
		}
		for line := range strings.Lines(p.logs()) {
			if strings.Contains(line, "forbidden") && !strings.Contains(line, "secrets") {
				t.Errorf("refused with remediation.yaml: %s", line)
			}
		}
		if got := level(); got != "debug" {
			t.Errorf("the server-side dry-run changed the cluster: level %q", got)
		}
		p.stop(t)
	})

	t.Run("with secrets-reader.yaml", func(t *testing.T) {
		kubectl(t, cp, "", "apply", "--validate=strict", "-f", filepath.Join(deployDir, "optional", "secrets-reader.yaml"))
		p := runInPod(t, cp, bin, saDir, spec, deployArgs(t, spec.args, podPort(t), sources...))
		var body string
		eventually(t, "the Secret compared", func() string {
			var series map[string]float64
			series, body = parseMetrics(t, p.addr)
			if n := sum(series, driftwatch.MetricDriftObjects, `source="`+argo+`"`, `kind="Secret"`, `status="modified"`); n != 1 {
				return fmt.Sprintf("%v modified Secrets\n%s\n%s", n, body, tail(p.logs()))
			}
			return ""
		})
		var events string
		eventually(t, "an event for the Secret", func() string {
			events = kubectl(t, cp, "", "get", "events", "-n", "argo-shop", "--field-selector", "involvedObject.kind=Secret,involvedObject.name=db", "-o", "json")
			if !strings.Contains(events, driftwatch.ReasonDriftDetected) {
				return "no DriftDetected event for the Secret"
			}
			return ""
		})
		logs := p.logs()
		if strings.Contains(logs, "forbidden") {
			t.Errorf("still forbidden:\n%s", tail(logs))
		}
		for what, s := range map[string]string{"the log": logs, "/metrics": body, "the events": events} {
			noCanary(t, what, s)
			if strings.Contains(s, "other-value") {
				t.Errorf("%s shows the Secret's value in the cluster:\n%s", what, s)
			}
		}
		p.stop(t)
	})

	// The kubelet rotates the projected token (it expires): the binary must
	// read the file again, not keep the token it started with.
	t.Run("token rotation", func(t *testing.T) {
		kubectl(t, cp, "", "create", "secret", "generic", "token-holder", "-n", spec.namespace)
		first := saToken(t, cp, spec, "--bound-object-kind=Secret", "--bound-object-name=token-holder")
		writeAtomic(t, filepath.Join(saDir, "token"), []byte(first))
		args := deployArgs(t, spec.args, podPort(t), sources...)
		for i, a := range args {
			if strings.HasPrefix(a, "--interval=") {
				args[i] = "--interval=10s" // the flag's minimum: a few checks within the test
			}
		}
		p := runInPod(t, cp, bin, saDir, spec, args)
		eventually(t, "a first successful check", func() string {
			if m := parseMetricsQuiet(t, p.addr); sum(m, driftwatch.MetricLastSuccess, `source="`+argo+`"`) == 0 {
				return "no successful check\n" + tail(p.logs())
			}
			return ""
		})
		// Deleting the object the token is bound to invalidates it.
		kubectl(t, cp, "", "delete", "secret", "token-holder", "-n", spec.namespace)
		eventually(t, "the first token refused", func() string {
			if c := apiStatusWithToken(t, cp, ca, first); c != http.StatusUnauthorized {
				return fmt.Sprintf("the deleted binding's token still gets %d", c)
			}
			return ""
		})
		rotated := time.Now()
		writeAtomic(t, filepath.Join(saDir, "token"), []byte(saToken(t, cp, spec)))
		deadline := time.Now().Add(150 * time.Second) // client-go re-reads the file at least every minute
		for {
			m := parseMetricsQuiet(t, p.addr)
			a, f := sum(m, driftwatch.MetricLastSuccess, `source="`+argo+`"`), sum(m, driftwatch.MetricLastSuccess, `source="`+flux+`"`)
			if a > float64(rotated.Unix()) && f > float64(rotated.Unix()) {
				break
			}
			if !p.running() || time.Now().After(deadline) {
				t.Fatalf("no successful check with the rotated token (last successes %v, %v; rotated at %v)\n%s", a, f, rotated.Unix(), tail(p.logs()))
			}
			time.Sleep(time.Second)
		}
		if status(t, "http://"+p.addr+spec.liveness) != http.StatusOK {
			t.Errorf("not healthy after the rotation\n%s", tail(p.logs()))
		}
		// The refused token is a credential: never logged.
		if i := strings.LastIndexByte(first, '.'); strings.Contains(p.logs(), first[i+1:]) {
			t.Errorf("the log shows the token")
		}
		p.stop(t)
	})
}

func parseMetricsQuiet(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	m, _ := parseMetrics(t, addr)
	return m
}

// podPort is a free TCP port (for --listen-address).
func podPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func asInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 0
}

// saToken asks the TokenRequest API for a token of the pod's
// ServiceAccount, bound to the given objects (kubectl create token flags).
func saToken(t *testing.T, cp *controlplane.ControlPlane, spec podSpec, bound ...string) string {
	t.Helper()
	args := append([]string{"create", "token", spec.serviceAccount, "-n", spec.namespace, "--duration=1h"}, bound...)
	return strings.TrimSpace(kubectl(t, cp, "", args...))
}

// writeAtomic replaces path (readable by the pod's user) with a rename, as
// the kubelet updates a projected volume.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// apiStatusWithToken is the status of a request to the API server with
// only token as credentials.
func apiStatusWithToken(t *testing.T, cp *controlplane.ControlPlane, ca []byte, token string) int {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("no CA certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}, Timeout: 10 * time.Second}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, cp.Server+"/api/v1/namespaces/default/configmaps", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET with a token: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
