package drift

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/hung"
)

// hungServer is an API server that never answers: a TCP listener that
// accepts connections and reads nothing, or an HTTPS server that completes
// the TLS handshake and then holds every request. arrived receives a value
// each time a client reaches it.
type hungServer struct {
	url     string
	arrived chan struct{}
}

func newHungServer(t *testing.T, tlsHandshake bool) *hungServer {
	t.Helper()
	s := &hungServer{arrived: make(chan struct{}, 100)}
	done := make(chan struct{})
	note := func() {
		select {
		case s.arrived <- struct{}{}:
		default:
		}
	}
	if tlsHandshake {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			note()
			<-done
		}))
		srv.StartTLS()
		t.Cleanup(func() { close(done); srv.CloseClientConnections(); srv.Close() })
		s.url = srv.URL
		return s
	}
	s.url = "http://" + hung.Listen(t, note)
	return s
}

// kubeconfig writes a kubeconfig whose only cluster is s.
func (s *hungServer) kubeconfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: hung, cluster: {server: %q, insecure-skip-tls-verify: %t}}]
users: [{name: u, user: {token: canary-s3cr3t-7f3a}}]
contexts: [{name: hung, context: {cluster: hung, user: u, namespace: default}}]
current-context: hung
`, s.url, strings.HasPrefix(s.url, "https:"))
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitArrived waits until a client has reached s.
func (s *hungServer) waitArrived(t *testing.T) {
	t.Helper()
	select {
	case <-s.arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("the command never contacted the API server")
	}
}

// TestSignalAgainstHungAPIServer runs the real binary against an API
// server that never answers and interrupts it once it waits on the server:
// it must exit 130 because of the signal. Before, discovery ignored the
// signal and `drift -f` and `drift status` exited only after discovery's
// 32 s timeout (and survived a second Ctrl-C).
func TestSignalAgainstHungAPIServer(t *testing.T) {
	bin := driftBinary(t)
	dir := writeFiles(t, map[string]string{"cm.yaml": watchConfigMap})
	tests := []struct {
		name string
		args []string
		tls  bool
		sig  syscall.Signal
		want int
	}{
		{"drift -f, SIGINT, TCP", []string{"-f", dir}, false, syscall.SIGINT, 130},
		{"drift -f, SIGINT, after TLS", []string{"-f", dir}, true, syscall.SIGINT, 130},
		{"drift -f --mode=local, SIGTERM", []string{"-f", dir, "--mode=local"}, false, syscall.SIGTERM, 130},
		{"drift status, SIGINT, TCP", []string{"status"}, false, syscall.SIGINT, 130},
		{"drift status, SIGTERM, after TLS", []string{"status"}, true, syscall.SIGTERM, 130},
		{"version, SIGINT", []string{"version"}, true, syscall.SIGINT, 130},
		// watch stops cleanly (exit 0) on a signal, also during a hung check.
		{"watch, SIGTERM during a check", []string{"watch", "-f", dir, "--interval=10s", "--listen-address=127.0.0.1:0"}, false, syscall.SIGTERM, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newHungServer(t, tt.tls)
			cmd := exec.Command(bin, append(tt.args, "--kubeconfig", srv.kubeconfig(t))...)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer cmd.Process.Kill() //nolint:errcheck // already exited when the test passes
			srv.waitArrived(t)
			select {
			case err := <-exited:
				t.Fatalf("exited before the signal: %v\n%s", err, stderr.String())
			case <-time.After(200 * time.Millisecond): // still waiting on the server
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			signalled := time.Now()
			var err error
			select {
			case err = <-exited:
			case <-time.After(10 * time.Second):
				// Far below the 32 s discovery timeout it used to wait for.
				t.Fatalf("still running 10s after %s\nstderr: %s", tt.sig, stderr.String())
			}
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.want {
				t.Errorf("after %s: %v, want exit %d\nstderr: %s", tt.sig, err, tt.want, stderr.String())
			}
			t.Logf("exited %v after %s: %s", time.Since(signalled).Round(time.Millisecond), tt.sig, strings.TrimSpace(stderr.String()))
			if out := stdout.String() + stderr.String(); strings.Contains(out, "canary-s3cr3t-7f3a") {
				t.Errorf("the token is in the output:\n%s", out)
			}
		})
	}
}

// TestWatchCheckTimeoutAgainstHungAPIServer: a check that waits on a hung
// API server fails after --check-timeout (it used to run for discovery's
// 32 s), watch goes on, and SIGTERM stops it cleanly.
func TestWatchCheckTimeoutAgainstHungAPIServer(t *testing.T) {
	bin := driftBinary(t)
	dir := writeFiles(t, map[string]string{"cm.yaml": watchConfigMap})
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%t", useTLS), func(t *testing.T) {
			t.Parallel()
			srv := newHungServer(t, useTLS)
			cmd := exec.Command(bin, "watch", "-f", dir, "--interval=10s", "--check-timeout=2s",
				"--listen-address=127.0.0.1:0", "--log-format=json", "--kubeconfig", srv.kubeconfig(t))
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			w := startWatchLog(t, cmd)
			defer cmd.Process.Kill() //nolint:errcheck // already exited when the test passes
			logText, checks, exited := w.text, w.checks, w.exited
			srv.waitArrived(t)
			arrived := time.Now()
			select {
			case rec := <-checks:
				t.Logf("check line %v after %v", rec, time.Since(arrived).Round(time.Millisecond))
				if e := fmt.Sprint(rec["error"]); rec["level"] != "WARN" || !strings.Contains(e, "check did not finish within --check-timeout 2s") ||
					!strings.Contains(e, "context deadline exceeded") {
					t.Errorf("check line %v, want the check timeout as its error", rec)
				}
			case err := <-exited:
				t.Fatalf("watch exited: %v\n%s", err, logText())
			case <-time.After(15 * time.Second):
				// 2 s allowed; discovery's own timeout was 32 s.
				t.Fatalf("no check line 15s after the check began\n%s", logText())
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("after SIGTERM: %v, want exit 0\n%s", err, logText())
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10s after SIGTERM\n%s", logText())
			}
			if strings.Contains(logText(), "canary-s3cr3t-7f3a") {
				t.Errorf("the token is in the log:\n%s", logText())
			}
		})
	}
}

// watchLog follows a started `drift watch --log-format=json`: every stderr
// line into its text, the "check" records into checks (dropped when 100 wait
// unread), and the exit status into exited.
type watchLog struct {
	mu     sync.Mutex
	b      strings.Builder
	checks chan map[string]any
	exited chan error
}

// startWatchLog starts cmd and follows its standard error.
func startWatchLog(t *testing.T, cmd *exec.Cmd) *watchLog {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watchLog{checks: make(chan map[string]any, 100), exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			w.mu.Lock()
			w.b.WriteString(sc.Text() + "\n")
			w.mu.Unlock()
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "check" {
				select {
				case w.checks <- rec:
				default:
				}
			}
		}
		w.exited <- cmd.Wait()
	}()
	return w
}

// text is everything watch logged so far.
func (w *watchLog) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
