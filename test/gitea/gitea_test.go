package gitea

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// token is shaped as Gitea's access tokens are (20 random bytes, hex).
const token = "c4a7e0f3d2b1a0998877665544332211deadbeef"

// rootWarning is what Gitea logs, to stdout, on every CLI run as root.
const rootWarning = "2026/12/07 19:59:29 modules/setting/setting.go:190:loadRunModeFrom() [E] You are running Gitea using the root user, and have purposely chosen to skip built-in protections around this. You have been warned against this."

// TestParseToken: Gitea's console logger writes stdout from its own
// goroutine, so a line it logged before printing the token can land after
// it; seen under CPU load (1 run in 60 with six busy loops on two cores).
func TestParseToken(t *testing.T) {
	for name, out := range map[string]string{
		"token only":      token,
		"log line before": rootWarning + "\n" + token,
		"log line after":  token + "\n" + rootWarning,
		"between lines":   rootWarning + "\n" + token + "\n" + rootWarning,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseToken(out, "")
			if err != nil {
				t.Fatal(err)
			}
			if got != token {
				t.Fatalf("token %q, want %q", got, token)
			}
		})
	}
}

// TestParseTokenErrorSaysWhatGiteaPrinted: without exactly one token line
// the error quotes Gitea's output with anything token-shaped masked.
func TestParseTokenErrorSaysWhatGiteaPrinted(t *testing.T) {
	for name, out := range map[string]string{
		"no token":       rootWarning,
		"token in text":  rootWarning + "\nAccess token was successfully created: " + token,
		"two tokens":     token + "\n" + strings.ToUpper(token[:1]) + token[1:] + "\n" + strings.Repeat("0", 40),
		"empty":          "",
		"token, no line": "x" + token,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseToken(out, "")
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, token) || strings.Contains(msg, strings.Repeat("0", 40)) {
				t.Fatalf("error leaks a token: %s", msg)
			}
			if out != "" && !strings.Contains(msg, "[E] You are running Gitea") && !strings.Contains(msg, "<token redacted>") {
				t.Fatalf("error does not say what gitea printed: %s", msg)
			}
		})
	}
}

// TestParseTokenErrorQuotesStderr: what Gitea printed to stderr is in the
// error too, masked the same way.
func TestParseTokenErrorQuotesStderr(t *testing.T) {
	_, err := parseToken(rootWarning, "Command error: database is locked "+token)
	if err == nil {
		t.Fatal("no error")
	}
	if msg := err.Error(); !strings.Contains(msg, "database is locked <token redacted>") || strings.Contains(msg, token) {
		t.Fatalf("error: %s", msg)
	}
}

// TestReadyWaitsForSSHPort: with WithSSH, Start must not return while only
// the web server answers; Gitea opens the SSH port on its own goroutine,
// so a healthy /api/healthz alone let TestFetchSSH dial a closed port.
func TestReadyWaitsForSSHPort(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer web.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sshPort := l.Addr().(*net.TCPAddr).Port
	if !ready(web.URL, sshPort) {
		t.Fatal("ready = false with healthz answering and the SSH port accepting")
	}
	if !ready(web.URL, 0) {
		t.Fatal("ready = false without SSH and healthz answering")
	}
	_ = l.Close() // the SSH server is not listening (yet)
	if ready(web.URL, sshPort) {
		t.Fatal("ready = true while the SSH port refuses connections")
	}
}
