package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/version"
)

func TestDisplayName(t *testing.T) {
	tests := []struct{ argv0, want string }{
		{"kubectl-gitops-drift", "kubectl gitops drift"},
		{"/usr/local/bin/kubectl-gitops-drift", "kubectl gitops drift"},
		{"kubectl-gitops_drift", "kubectl gitops-drift"},
		{`C:\bin\kubectl-gitops-seal.exe`, "kubectl gitops seal"},
		{"kubectl-gitops", "kubectl gitops"},
		{"drift.test", "drift.test"},
		{"kubectl-", "kubectl-"},
		// Flux v2.9 and Argo CD v3 run HOST-gitops with the full path as
		// argv[0]; the dispatcher passes HOST-gitops-VERB to a verb.
		{"flux-gitops", "flux gitops"},
		{"/home/u/.fluxcd/plugins/flux-gitops", "flux gitops"},
		{"flux-gitops-drift", "flux gitops drift"},
		{"argocd-gitops", "argocd gitops"},
		{"/usr/local/bin/argocd-gitops", "argocd gitops"},
		{"argocd-gitops-promote", "argocd gitops promote"},
		{`C:\Users\u\.fluxcd\plugins\flux-gitops.exe`, "flux gitops"},
		{`C:\bin\argocd-gitops-seal.EXE`, "argocd gitops seal"},
		{"flux-", "flux-"},
		{"fluxgitops", "fluxgitops"},
	}
	for _, tt := range tests {
		if got := DisplayName(strings.ReplaceAll(tt.argv0, `\`, "/")); got != tt.want {
			t.Errorf("DisplayName(%q) = %q, want %q", tt.argv0, got, tt.want)
		}
	}
}

func TestColorEnabled(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name string
		w    any
		env  map[string]string
		want bool
	}{
		{"buffer is not a terminal", &bytes.Buffer{}, nil, false},
		{"pipe is not a terminal", w, nil, false},
		{"NO_COLOR wins", w, map[string]string{"NO_COLOR": "1"}, false},
		{"dumb terminal", w, map[string]string{"TERM": "dumb"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := colorEnabled(tt.w.(interface{ Write([]byte) (int, error) }), env(tt.env)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	// A real terminal, when the test has one, is the only true case.
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !colorEnabled(tty, env(nil)) {
			t.Error("colour disabled on /dev/tty")
		}
		if colorEnabled(tty, env(map[string]string{"NO_COLOR": "x"})) {
			t.Error("colour enabled on /dev/tty with NO_COLOR")
		}
	}
}

func TestFormatError(t *testing.T) {
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"wrapped not found", fmt.Errorf("reading live object: %w", apierrors.NewNotFound(gr, "web")),
			`Error from server (NotFound): reading live object: deployments.apps "web" not found`},
		{"forbidden", apierrors.NewForbidden(gr, "web", errors.New("no")),
			`Error from server (Forbidden): deployments.apps "web" is forbidden: no`},
		{"unauthorized", fmt.Errorf("listing: %w", apierrors.NewUnauthorized("bad token")),
			`error: You must be logged in to the server (bad token)`},
		{"connection refused", fmt.Errorf("listing: %w", &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api", Err: syscall.ECONNREFUSED}),
			`The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?`},
		{"other connection error", &url.Error{Op: "Get", URL: "https://x/api", Err: errors.New("tls: bad certificate")},
			`Unable to connect to the server: tls: bad certificate`},
		{"plain", errors.New("reading manifests: open x.yaml: no such file"), "error: reading manifests: open x.yaml: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatError(tt.err); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestExitCodeOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{&FindingsError{Summary: "2 drifted"}, ExitFindings},
		{fmt.Errorf("wrapped: %w", &FindingsError{}), ExitFindings},
		{Usagef("bad --mode %q", "x"), ExitUsage},
		{fmt.Errorf("x: %w", &UsageError{Err: errors.New("y")}), ExitUsage},
		{errors.New("boom"), ExitFailure},
		{fmt.Errorf("listing: %w", context.Canceled), ExitInterrupted},
	}
	for _, tt := range tests {
		if got := ExitCodeOf(tt.err); got != tt.want {
			t.Errorf("ExitCodeOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// testPlugin is a plugin with one subcommand that returns whatever err is.
func testPlugin(err error, seen *Env) NewCommand {
	return func(env *Env) *cobra.Command {
		if seen != nil {
			*seen = *env
		}
		root := &cobra.Command{Use: "drift", Short: "test plugin"}
		root.AddCommand(&cobra.Command{
			Use:  "check",
			Args: cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error { return err },
		})
		return root
	}
}

func run(t *testing.T, ctx context.Context, newCmd NewCommand, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code = Run(ctx, append([]string{"/usr/bin/kubectl-gitops-drift"}, args...), streams, newCmd)
	return code, out.String(), errOut.String()
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		args       []string
		wantCode   int
		wantOut    []string
		wantErr    []string
		wantErrNot []string
	}{
		{name: "help shows the kubectl display name", args: []string{"--help"}, wantCode: 0,
			wantOut: []string{`Use "kubectl gitops drift <command> --help"`, "completion", "version"}},
		{name: "options lists the kubeconfig flags as kubectl options does", args: []string{"options"}, wantCode: 0,
			wantOut: []string{"The following options can be passed to any command:", "    --context='':\n\t", "    -n, --namespace='':\n\t", "    --kubeconfig='':\n\t"}},
		{name: "subcommand help", args: []string{"check", "--help"}, wantCode: 0,
			wantOut: []string{"Usage:\n  kubectl gitops drift check [flags] [options]\n", `Use "kubectl gitops drift options" for a list of global command-line options`}},
		{name: "unknown flag", args: []string{"check", "--frobnicate"}, wantCode: ExitUsage,
			wantErr: []string{"error: unknown flag: --frobnicate\nSee 'kubectl gitops drift check --help' for usage.\n"}},
		{name: "unknown command with suggestion", args: []string{"chek"}, wantCode: ExitUsage,
			wantErr:    []string{`unknown command "ch…" for "kubectl gitops drift" (did you mean check?)`, "See 'kubectl gitops drift --help' for usage."},
			wantErrNot: []string{"\t", "Did you mean this"}},
		{name: "extra argument", args: []string{"check", "x"}, wantCode: ExitUsage,
			wantErr: []string{`unknown command "…" for "kubectl gitops drift check"`}},
		{name: "kubeconfig flags after the verb", args: []string{"check", "--context", "prod", "-n", "team-a", "--kubeconfig", "/nonexistent"}, wantCode: 0},
		{name: "findings", err: &FindingsError{Summary: "2 objects drifted"}, args: []string{"check"}, wantCode: ExitFindings,
			wantErr: []string{"2 objects drifted\n"}, wantErrNot: []string{"error:"}},
		{name: "usage error from Validate", err: Usagef("--mode must be server or local, not %q", "x"), args: []string{"check"}, wantCode: ExitUsage,
			wantErr: []string{`error: --mode must be server or local, not "x"`, "See 'kubectl gitops drift check --help'"}},
		{name: "multi-line usage error printed whole", err: &UsageError{Err: errors.New("a.yaml:3: bad\nb.yaml:7: worse")}, args: []string{"check"}, wantCode: ExitUsage,
			wantErr: []string{"error: a.yaml:3: bad\nb.yaml:7: worse\nSee 'kubectl gitops drift check --help'"}},
		{name: "failure", err: errors.New("reading manifests: boom"), args: []string{"check"}, wantCode: ExitFailure,
			wantErr: []string{"error: reading manifests: boom\n"}, wantErrNot: []string{"See '"}},
		{name: "version text", args: []string{"version", "--client"}, wantCode: 0, wantOut: []string{"kubectl gitops drift version "}},
		{name: "version with an unreachable server", args: []string{"version", "--server", "https://127.0.0.1:1"}, wantCode: ExitFailure,
			wantOut: []string{"kubectl gitops drift version "},
			wantErr: []string{"The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n"}},
		{name: "version bad format", args: []string{"version", "--client", "-o", "xml"}, wantCode: ExitUsage,
			wantErr: []string{`error: unable to match a printer suitable for the output format "x…", allowed formats are: json,yaml` + "\n"}},
		{name: "completion bash", args: []string{"completion", "bash"}, wantCode: 0,
			wantOut: []string{"kubectl-gitops-drift", "__start_kubectl-gitops-drift"}},
		{name: "completion zsh", args: []string{"completion", "zsh"}, wantCode: 0, wantOut: []string{"#compdef kubectl-gitops-drift"}},
		{name: "completion fish", args: []string{"completion", "fish"}, wantCode: 0, wantOut: []string{"complete -c kubectl-gitops-drift"}},
		{name: "completion powershell", args: []string{"completion", "powershell"}, wantCode: 0, wantOut: []string{"Register-ArgumentCompleter"}},
		{name: "completion of a flag value", args: []string{"__complete", "version", "-o", ""}, wantCode: 0, wantOut: []string{"json\nyaml\n:4\n"}},
	}
	t.Setenv("KUBECONFIG", os.DevNull) // never the developer's own clusters
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, context.Background(), testPlugin(tt.err, nil), tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			for _, w := range tt.wantErrNot {
				if strings.Contains(errOut, w) {
					t.Errorf("stderr has %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace on stderr:\n%s", errOut)
			}
		})
	}
}

func TestRunKubeconfigFlagsReachTheEnv(t *testing.T) {
	var env Env
	code, _, errOut := run(t, context.Background(), testPlugin(nil, &env), "check", "--context", "prod", "-n", "team-a")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := *env.ConfigFlags.Context; got != "prod" {
		t.Errorf("--context = %q", got)
	}
	if ns, _, err := env.ConfigFlags.ToRawKubeConfigLoader().Namespace(); err != nil || ns != "team-a" {
		t.Errorf("namespace = %q, %v", ns, err)
	}
	if env.Name != "kubectl gitops drift" || env.Binary != "kubectl-gitops-drift" {
		t.Errorf("names: %q %q", env.Name, env.Binary)
	}
}

func TestRunVersionJSON(t *testing.T) {
	code, out, errOut := run(t, context.Background(), testPlugin(nil, nil), "version", "--client", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r version.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r.ClientVersion != version.Get() {
		t.Errorf("got %+v, want %+v", r.ClientVersion, version.Get())
	}
	if r.ServerVersion != nil {
		t.Errorf("server version with --client: %+v", r.ServerVersion)
	}
}

func TestRunCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, errOut := run(t, ctx, testPlugin(ctx.Err(), nil), "check")
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d: %s", code, ExitInterrupted, errOut)
	}
	if errOut != "error: interrupted\n" {
		t.Errorf("stderr %q", errOut)
	}
}

// TestClientFollowsThePolicy checks that the CLI's client (the
// version command, --namespace completion) is built under pkg/cluster's
// policy: no client-side rate limiter, --request-timeout as the
// per-request timeout. The server is never contacted.
func TestClientFollowsThePolicy(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
users:
- name: u
  user: {token: t}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := NewEnv("kubectl-gitops-drift", genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	*env.ConfigFlags.KubeConfig = kubeconfig
	*env.ConfigFlags.Timeout = "9s"
	cl, err := env.Client()
	if err != nil {
		t.Fatal(err)
	}
	rc := cl.RESTClient()
	if rl := rc.GetRateLimiter(); rl != nil {
		t.Errorf("client-side rate limiter %T (%v QPS), want none", rl, rl.QPS())
	}
	if rc.Client.Timeout != 9*time.Second {
		t.Errorf("request timeout %v, want --request-timeout's 9s", rc.Client.Timeout)
	}
}
