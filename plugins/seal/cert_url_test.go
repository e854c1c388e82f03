package seal

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/hung"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
)

// Canaries for the credentials of a --cert URL.
const (
	canaryPassword = "canary-pw-7f3a"
	canaryToken    = "canary-tok-9c1e"
)

func certURL(hostport string) string {
	return "http://user:" + canaryPassword + "@" + hostport + "/v1/cert.pem?token=" + canaryToken
}

func assertNoURLSecrets(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{canaryPassword, canaryToken} {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("%s leaked: stdout %q stderr %q", s, r.stdout, r.stderr)
		}
	}
}

// TestCertURLHonoursRequestTimeout: a --cert server that accepts and never
// answers fails the command once --request-timeout passes (the client's
// timeout, not a hang), and neither the URL's password nor its query token
// is printed.
func TestCertURLHonoursRequestTimeout(t *testing.T) {
	f := newFixture(t)
	addr := hung.Listen(t, nil)
	for _, args := range [][]string{
		{"-f", f.secret, "--cert", certURL(addr), "--request-timeout", "1s"},
		{"reencrypt", "-f", f.secret, "--private-key", f.key, "--cert", certURL(addr), "--request-timeout", "1s"},
	} {
		// A watchdog far beyond the timeout: the command must end by its
		// own timeout, not by this context.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		r := runSealCtx(ctx, args...)
		if ctx.Err() != nil {
			t.Errorf("%s: still fetching when the watchdog fired: --request-timeout ignored", args[0])
		}
		cancel()
		if r.code != cli.ExitError {
			t.Errorf("%s: exit %d, want %d; stderr %q", args[0], r.code, cli.ExitError, r.stderr)
		}
		if !strings.Contains(r.stderr, "Client.Timeout exceeded") {
			t.Errorf("%s: stderr %q does not say the request timed out", args[0], r.stderr)
		}
		if !strings.Contains(r.stderr, "token=***") {
			t.Errorf("%s: stderr %q does not show the redacted URL", args[0], r.stderr)
		}
		assertNoURLSecrets(t, r)
	}
}

// TestCertURLCancelledByContext: Ctrl-C (the command's context) stops a
// --cert fetch that has no timeout (--request-timeout 0).
func TestCertURLCancelledByContext(t *testing.T) {
	f := newFixture(t)
	addr := hung.Listen(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	r := runSealCtx(ctx, "-f", f.secret, "--cert", certURL(addr), "--request-timeout", "0")
	if r.code == cli.ExitOK || ctx.Err() == nil {
		t.Fatalf("exit %d before the context ended", r.code)
	}
	if !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("stderr %q: want the interruption reported", r.stderr)
	}
	assertNoURLSecrets(t, r)
}

// runSealCtx runs the plugin in-process with ctx as the signal context and
// no cluster.
func runSealCtx(ctx context.Context, args ...string) result {
	r := clitest.Run(nil, NewCmd, clitest.Options{Binary: "kubectl-gitops-seal", Kubeconfig: os.DevNull, Ctx: ctx}, args...)
	return result{r.Code, r.Stdout, r.Stderr}
}

// TestCertURLErrorsRedacted: a --cert server answering 404 or garbage: the
// error names the URL without its password or token.
func TestCertURLErrorsRedacted(t *testing.T) {
	f := newFixture(t)
	for _, h := range []http.HandlerFunc{
		func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) },
		func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("not a certificate")) },
	} {
		srv := httptest.NewServer(h)
		r := runSeal(t, nil, "", "-f", f.secret, "--cert", certURL(strings.TrimPrefix(srv.URL, "http://")))
		srv.Close()
		if r.code != cli.ExitError || !strings.Contains(r.stderr, "cert.pem?token=***") {
			t.Errorf("exit %d stderr %q: want 2 and the redacted URL", r.code, r.stderr)
		}
		assertNoURLSecrets(t, r)
	}
}
