package drift

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/driftwatch"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// watchBuffer is a bytes.Buffer safe for the loop's goroutine to write while
// the test reads.
type watchBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *watchBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *watchBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// scrape reads /metrics as series ("name{labels}") → value.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scraping: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// sum adds the series of a metric whose labels contain every matcher
// (`namespace="watch"`).
func sum(series map[string]float64, name string, matchers ...string) float64 {
	total := 0.0
	for s, v := range series {
		if s != name && !strings.HasPrefix(s, name+"{") {
			continue
		}
		ok := true
		for _, m := range matchers {
			ok = ok && strings.Contains(s, m)
		}
		if ok {
			total += v
		}
	}
	return total
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// eventually polls cond until it returns "" or the deadline passes.
func eventually(t *testing.T, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type kubeEvent struct {
	Type           string `json:"type"`
	Reason         string `json:"reason"`
	Message        string `json:"message"`
	Component      string `json:"reportingComponent"`
	InvolvedObject struct {
		Kind, Namespace, Name, UID string
	} `json:"involvedObject"`
}

// driftEvents lists the drift events in ns through kubectl.
func driftEvents(t *testing.T, cp *controlplane.ControlPlane, ns string) []kubeEvent {
	t.Helper()
	var list struct {
		Items []kubeEvent `json:"items"`
	}
	if err := json.Unmarshal([]byte(kubectl(t, cp, "", "get", "events", "-n", ns, "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	var out []kubeEvent
	for _, e := range list.Items {
		if e.Reason == driftwatch.ReasonDriftDetected || e.Reason == driftwatch.ReasonDriftResolved {
			out = append(out, e)
		}
	}
	return out
}

func count(events []kubeEvent, reason string) int {
	n := 0
	for _, e := range events {
		if e.Reason == reason {
			n++
		}
	}
	return n
}

// watchRun is a `drift watch` running in the test process.
type watchRun struct {
	addr   string
	errOut *watchBuffer
	cancel context.CancelFunc
	done   chan error
}

// startWatch runs watch in-process on the manifests in dir, every 200ms
// (below the CLI's minimum, which only the flag enforces), JSON logs, and
// waits until it listens. configure may change the options first.
func startWatch(t *testing.T, cp *controlplane.ControlPlane, dir string, configure func(*Options), wconf ...func(*watchOptions)) *watchRun {
	t.Helper()
	errOut := &watchBuffer{}
	env := cli.NewEnv("kubectl-gitops-drift", genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: errOut})
	*env.ConfigFlags.KubeConfig = cp.Kubeconfig
	o := NewOptions(env)
	o.Filenames = []string{dir}
	if configure != nil {
		configure(o)
	}
	w := &watchOptions{Options: o, Interval: 200 * time.Millisecond, ListenAddress: "127.0.0.1:0", Events: true, LogFormat: "json"}
	for _, f := range wconf {
		f(w)
	}
	addrs := make(chan string, 1)
	w.listening = func(a net.Addr) { addrs <- a.String() }
	if err := o.Complete(t.Context(), &cobra.Command{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &watchRun{errOut: errOut, cancel: cancel, done: make(chan error, 1)}
	go func() { run.done <- w.Run(ctx) }()
	t.Cleanup(cancel)
	select {
	case run.addr = <-addrs:
	case err := <-run.done:
		t.Fatalf("watch stopped: %v\n%s", err, errOut)
	case <-time.After(60 * time.Second):
		t.Fatal("watch never listened")
	}
	return run
}

// stop cancels the watch and checks that it returns nil and closes its port.
func (r *watchRun) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("watch did not stop after cancel")
	}
	if c, err := net.Dial("tcp", r.addr); err == nil {
		_ = c.Close()
		t.Error("the metrics server still accepts connections")
	}
}

const watchConfigMap = `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: watch}
data: {mode: production, level: info}
`

// TestWatchInProcess runs `drift watch` in the test process on a 200ms
// interval against the real API server, changes the cluster the ways people
// do, and follows the metrics over HTTP and the Events through kubectl.
func TestWatchInProcess(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "watch"
	kubectl(t, cp, "", "create", "namespace", ns)
	dir := writeFiles(t, map[string]string{"config.yaml": watchConfigMap, "other.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: untouched, namespace: watch}
data: {a: b}
`})
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", dir)

	run := startWatch(t, cp, dir, nil)
	addr := run.addr

	const gauge = "kubectl_gitops_drift_objects"
	cm := []string{`namespace="watch"`, `kind="ConfigMap"`, `source="files"`}
	checks := func() float64 { return sum(scrape(t, addr), driftwatch.MetricChecks) }
	eventually(t, "first check", func() string {
		m := scrape(t, addr)
		if sum(m, driftwatch.MetricChecks) < 1 {
			return "no check yet"
		}
		if n := sum(m, gauge, cm...); n != 0 {
			return fmt.Sprintf("%v drifted objects in a cluster in sync", n)
		}
		return ""
	})
	for _, p := range []string{"/healthz", "/readyz"} {
		if c := status(t, "http://"+addr+p); c != http.StatusOK {
			t.Errorf("GET %s = %d", p, c)
		}
	}
	if m := scrape(t, addr); sum(m, driftwatch.MetricLastSuccess, `source="files"`) == 0 || sum(m, driftwatch.MetricCheckDuration+"_count") < 1 {
		t.Errorf("no last-success time or duration:\n%v", m)
	}

	// A person changes a value: the gauge says human, one Warning event.
	kubectl(t, cp, "", "patch", "-n", ns, "configmap/app-config", "-p", `{"data":{"level":"debug"}}`)
	human := append([]string{`status="modified"`, `classification="human"`}, cm...)
	eventually(t, "drift in the metrics", func() string {
		if n := sum(scrape(t, addr), gauge, human...); n != 1 {
			return fmt.Sprintf("gauge %v, want 1", n)
		}
		return ""
	})
	var detected kubeEvent
	eventually(t, "DriftDetected event", func() string {
		for _, e := range driftEvents(t, cp, ns) {
			if e.Reason == driftwatch.ReasonDriftDetected {
				detected = e
				return ""
			}
		}
		return "no event"
	})
	if detected.Type != "Warning" || detected.Component != "kubectl-gitops" || detected.InvolvedObject.Name != "app-config" ||
		detected.InvolvedObject.Kind != "ConfigMap" || detected.InvolvedObject.UID == "" ||
		!strings.Contains(detected.Message, "data.level changed by kubectl-patch (human)") {
		t.Errorf("DriftDetected event: %+v", detected)
	}
	if out := kubectl(t, cp, "", "describe", "-n", ns, "configmap/app-config"); !strings.Contains(out, "DriftDetected") {
		t.Errorf("kubectl describe does not list the event:\n%s", out)
	}

	// It stays drifted for a few checks: no second event.
	after := checks()
	eventually(t, "three more checks", func() string {
		if checks() < after+3 {
			return "fewer than 3 checks"
		}
		return ""
	})
	if n := count(driftEvents(t, cp, ns), driftwatch.ReasonDriftDetected); n != 1 {
		t.Errorf("%d DriftDetected events while the drift stayed, want 1", n)
	}

	// Git's state is applied again: the gauge drops to 0, a Normal event.
	kubectl(t, cp, "", "apply", "--server-side", "--force-conflicts", "--field-manager=kustomize-controller", "-f", filepath.Join(dir, "config.yaml"))
	eventually(t, "drift cleared", func() string {
		m := scrape(t, addr)
		if n := sum(m, gauge, cm...); n != 0 {
			return fmt.Sprintf("gauge %v, want 0", n)
		}
		if _, ok := m[gauge+`{classification="human",kind="ConfigMap",namespace="watch",source="files",status="modified"}`]; !ok {
			return "the cleared series is gone instead of 0"
		}
		return ""
	})
	eventually(t, "DriftResolved event", func() string {
		for _, e := range driftEvents(t, cp, ns) {
			if e.Reason == driftwatch.ReasonDriftResolved && e.Type == "Normal" && e.InvolvedObject.Name == "app-config" {
				return ""
			}
		}
		return "no event"
	})

	// It drifts again, and another object goes missing: new events.
	kubectl(t, cp, "", "patch", "-n", ns, "configmap/app-config", "-p", `{"data":{"level":"trace"}}`)
	kubectl(t, cp, "", "delete", "-n", ns, "configmap/untouched")
	eventually(t, "second drift", func() string {
		m := scrape(t, addr)
		if n := sum(m, gauge, append([]string{`status="missing"`, `classification="unknown"`}, cm...)...); n != 1 {
			return fmt.Sprintf("missing gauge %v", n)
		}
		if n := sum(m, gauge, human...); n != 1 {
			return fmt.Sprintf("modified gauge %v", n)
		}
		perObject := map[string]int{}
		for _, e := range driftEvents(t, cp, ns) {
			if e.Reason == driftwatch.ReasonDriftDetected {
				perObject[e.InvolvedObject.Name]++
			}
		}
		if perObject["app-config"] != 2 || perObject["untouched"] != 1 {
			return fmt.Sprintf("DriftDetected events per object %v, want app-config 2, untouched 1", perObject)
		}
		return ""
	})

	run.stop(t)
	errOut := run.errOut

	// One JSON line per check, and the start and stop lines.
	var lines, checkLines int
	var last map[string]any
	for _, l := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		lines++
		if rec["msg"] == "check" {
			checkLines++
		}
		last = rec
	}
	if checkLines < 5 || last["msg"] != "stopped" {
		t.Errorf("%d log lines, %d check lines, last %v:\n%s", lines, checkLines, last, errOut)
	}
}

// TestWatchFlags checks watch's own flags and that it shares drift's.
func TestWatchFlags(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	dir := writeFiles(t, map[string]string{"cm.yaml": watchConfigMap})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--interval", "1s", "-f", dir}, "--interval must be at least 10s, not 1s"},
		{[]string{"-f", "-"}, "-f - cannot be used with watch"},
		{[]string{"-f", dir, "--log-format", "xml"}, `--log-format must be text or json, not "xml"`},
		{[]string{"-f", dir, "--listen-address", "9090"}, `invalid --listen-address "9090"`},
		{[]string{}, "must specify one of -f"},
		{[]string{"-f", dir, "-o", "json"}, "unknown shorthand flag: 'o'"},
		{[]string{"-f", dir, "--exit-code=false"}, "unknown flag: --exit-code"},
		{[]string{"-f", dir, "--check-timeout", "-1s"}, "--check-timeout must not be negative"},
		{[]string{"-f", dir, "--yes"}, "--yes only applies with --fix or --prune"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		code := cli.Run(context.Background(), append([]string{"kubectl-gitops-drift", "watch"}, tt.args...), streams, NewCmd)
		if code != cli.ExitUsage || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("watch %v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut.String(), tt.want)
		}
	}

	env := cli.NewEnv("kubectl-gitops-drift", genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	root := NewCmd(env)
	watch, _, err := root.Find([]string{"watch"})
	if err != nil || watch.Name() != "watch" {
		t.Fatalf("no watch subcommand: %v", err)
	}
	root.Flags().VisitAll(func(f *pflag.Flag) {
		got := watch.Flags().Lookup(f.Name)
		switch {
		case watchSharesFlag(f.Name) && got != f:
			t.Errorf("watch does not share drift's --%s", f.Name)
		case !watchSharesFlag(f.Name) && got != nil:
			t.Errorf("watch has drift's --%s", f.Name)
		}
	})
	for _, name := range []string{"interval", "check-timeout", "listen-address", "events", "log-format", "filename", "kustomize", "mode", "repo", "argocd-app", "flux-kustomization"} {
		if watch.Flags().Lookup(name) == nil {
			t.Errorf("watch lacks --%s", name)
		}
	}
	if def := watch.Flags().Lookup("listen-address").DefValue; def != "127.0.0.1:9090" {
		t.Errorf("--listen-address defaults to %q", def)
	}
}

// TestWatchBinarySignals runs the real binary and stops it with SIGTERM and
// SIGINT: it shuts down cleanly and exits 0.
func TestWatchBinarySignals(t *testing.T) {
	cp := controlplane.ForTest(t)
	bin := driftBinary(t)
	kubectl(t, cp, "", "create", "namespace", "watch-bin")
	cm := strings.ReplaceAll(watchConfigMap, "namespace: watch", "namespace: watch-bin")
	dir := writeFiles(t, map[string]string{"cm.yaml": cm})
	kubectl(t, cp, "", "apply", "--server-side", "-f", dir)

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "watch", "-f", dir, "--mode=local", "--interval=10s", "--listen-address=127.0.0.1:0",
				"--log-format=json", "--kubeconfig", cp.Kubeconfig)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			lines := make(chan map[string]any, 100)
			var logMu sync.Mutex
			var log strings.Builder
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					logMu.Lock()
					log.WriteString(sc.Text() + "\n")
					logMu.Unlock()
					var rec map[string]any
					if json.Unmarshal(sc.Bytes(), &rec) == nil {
						lines <- rec
					}
				}
				close(lines)
				exited <- cmd.Wait()
			}()
			defer cmd.Process.Kill() //nolint:errcheck // already exited when the test passes

			metricsURL := regexp.MustCompile(`^http://([^/]+)/metrics$`)
			var addr string
			deadline := time.After(60 * time.Second)
			for addr == "" {
				select {
				case rec, ok := <-lines:
					if !ok {
						t.Fatalf("exited before listening:\n%s", log.String())
					}
					if m := metricsURL.FindStringSubmatch(fmt.Sprint(rec["metrics"])); rec["msg"] == "watching" && m != nil {
						addr = m[1]
					}
				case <-deadline:
					t.Fatal("no 'watching' log line")
				}
			}
			eventually(t, "ready", func() string {
				if c := status(t, "http://"+addr+"/readyz"); c != http.StatusOK {
					return fmt.Sprintf("/readyz %d", c)
				}
				return ""
			})
			if c := status(t, "http://"+addr+"/healthz"); c != http.StatusOK {
				t.Errorf("/healthz %d", c)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			go func() {
				for range lines { // drain
				}
			}()
			select {
			case err := <-exited:
				if err != nil {
					logMu.Lock()
					t.Errorf("after %s: %v (want exit 0)\n%s", sig, err, log.String())
					logMu.Unlock()
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("still running 30s after %s", sig)
			}
			logMu.Lock()
			defer logMu.Unlock()
			if !strings.Contains(log.String(), `"msg":"stopped"`) {
				t.Errorf("no 'stopped' line:\n%s", log.String())
			}
			if c, err := net.Dial("tcp", addr); err == nil {
				_ = c.Close()
				t.Error("port still open after exit")
			}
		})
	}
}
