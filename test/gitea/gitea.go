package gitea

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/kubectl-gitops/kubectl-gitops/test/childproc"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// Admin is the administrator Start creates ("admin" is reserved by Gitea).
const Admin = "gitops"

// Server is a running Gitea.
type Server struct {
	URL      string // http://127.0.0.1:<port>, no trailing slash; also the web root
	APIURL   string // URL + "/api/v1"
	Admin    string // administrator's user name (Admin)
	Password string // administrator's password
	Token    string // administrator's API token, scope all
	Dir      string // work directory (config, database, repositories, log)
	// Startup is how long Start took (migrate, admin user, token, ready).
	Startup time.Duration
	// SSHPort is the port of the built-in SSH server (WithSSH), else 0;
	// SSHKnownHosts the known_hosts line of its host key
	// ("[127.0.0.1]:<port> ssh-ed25519 …").
	SSHPort       int
	SSHKnownHosts string

	log string
}

// dirPrefix names the temp directories; Start sweeps stale ones.
const dirPrefix = "kubectl-gitops-gitea-"

// Start runs a fresh Gitea on a free 127.0.0.1 port with a SQLite database
// in a temp directory: writes app.ini, runs `gitea migrate`, creates the
// administrator and an API token, starts `gitea web` and waits for
// /api/healthz. t.Cleanup stops it and removes the directory. Without a
// built binary the test is skipped (failed when KUBECTL_GITOPS_REQUIRE_CLUSTER
// is set).
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	bin := peertools.Require(t, peertools.Gitea, "gitea")
	began := time.Now()

	base := os.TempDir()
	childproc.SweepStale(base, dirPrefix)
	dir, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		t.Fatalf("creating gitea directory: %v", err)
	}
	s := &Server{Admin: Admin, Dir: dir, log: filepath.Join(dir, "gitea.log")}
	cleanups := []func(){func() { os.RemoveAll(dir) }}
	t.Cleanup(func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	})
	if err := childproc.Claim(dir); err != nil {
		t.Fatal(err)
	}

	ports, err := childproc.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	port := ports[0]
	s.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	s.APIURL = s.URL + "/api/v1"
	s.Password = randomHex(16)
	ini := appINI(dir, port)
	if o.ssh {
		s.SSHPort = ports[1]
		var sshINI string
		sshINI, s.SSHKnownHosts, err = sshServer(dir, s.SSHPort)
		if err != nil {
			t.Fatal(err)
		}
		const noSSH = "DISABLE_SSH = true\nSTART_SSH_SERVER = false\n"
		if !strings.Contains(ini, noSSH) {
			t.Fatal("app.ini: no SSH settings to replace")
		}
		ini = strings.Replace(ini, noSSH, sshINI, 1)
	}
	conf := filepath.Join(dir, "app.ini")
	if err := os.WriteFile(conf, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}

	env := giteaEnv(dir)
	run := func(args ...string) (stdout, stderr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		args = append(args, "--config", conf, "--work-path", dir)
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env, cmd.Dir = env, dir
		var outBuf, errBuf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
		if err := cmd.Run(); err != nil {
			t.Fatalf("gitea %s: %v\n%s", args[0], err, giteaOutput(outBuf.String(), errBuf.String()))
		}
		return outBuf.String(), errBuf.String()
	}
	run("migrate")
	run("admin", "user", "create", "--admin", "--username", Admin, "--password", s.Password,
		"--email", Admin+"@example.com", "--must-change-password=false")
	if s.Token, err = parseToken(run("admin", "user", "generate-access-token", "--username", Admin,
		"--token-name", "tests", "--scopes", "all", "--raw")); err != nil {
		t.Fatal(err)
	}

	logFile, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "web", "--config", conf, "--work-path", dir)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childproc.SysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting gitea web: %v", err)
	}
	done := make(chan struct{})
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		logFile.Close()
		close(done)
	}()
	cleanups = append(cleanups, func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})

	deadline := time.Now().Add(90 * time.Second)
	for !ready(s.URL+"/api/healthz", s.SSHPort) {
		select {
		case <-done:
			t.Fatalf("gitea web exited (%v):\n%s", exitErr, childproc.Tail(s.log, 30))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gitea not ready after 90s (healthz, and the SSH port when WithSSH):\n%s", childproc.Tail(s.log, 30))
		}
	}
	s.Startup = time.Since(began)
	t.Logf("gitea %s started in %s", s.URL, s.Startup.Round(time.Millisecond))
	return s
}

// Option changes what Start runs.
type Option func(*options)

type options struct{ ssh bool }

// WithSSH starts Gitea's built-in SSH server too (Go, no sshd needed) on
// 127.0.0.1:SSHPort, user "git", with a new Ed25519 host key whose
// known_hosts line is SSHKnownHosts.
func WithSSH() Option { return func(o *options) { o.ssh = true } }

// sshServer writes a new Ed25519 host key under dir and returns the
// [server] settings of the built-in SSH server on port and the
// known_hosts line of the key.
func sshServer(dir string, port int) (ini, knownHosts string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return "", "", err
	}
	keyFile := filepath.Join(dir, "ssh_host_ed25519_key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", "", err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	ini = fmt.Sprintf(`DISABLE_SSH = false
START_SSH_SERVER = true
BUILTIN_SSH_SERVER_USER = git
SSH_DOMAIN = 127.0.0.1
SSH_LISTEN_HOST = 127.0.0.1
SSH_PORT = %[1]d
SSH_LISTEN_PORT = %[1]d
SSH_SERVER_HOST_KEYS = %[2]s
SSH_CREATE_AUTHORIZED_KEYS_FILE = false
`, port, keyFile)
	return ini, knownhosts.Line([]string{fmt.Sprintf("127.0.0.1:%d", port)}, sshPub), nil
}

// SSHURL is the ssh:// clone URL of the administrator's repository repo
// (WithSSH).
func (s *Server) SSHURL(repo string) string {
	return fmt.Sprintf("ssh://git@127.0.0.1:%d/%s/%s.git", s.SSHPort, s.Admin, repo)
}

// AddDeployKey adds the public key authorizedKey (authorized_keys format)
// as a read-only deploy key of the administrator's repository repo.
func (s *Server) AddDeployKey(t testing.TB, repo, title, authorizedKey string) {
	t.Helper()
	s.API(t, http.MethodPost, "/repos/"+url.PathEscape(s.Admin)+"/"+url.PathEscape(repo)+"/keys",
		map[string]any{"title": title, "key": authorizedKey, "read_only": true}, nil)
}

// appINI is a minimal, offline, single-user configuration.
func appINI(dir string, port int) string {
	return fmt.Sprintf(`APP_NAME = kubectl-gitops tests
RUN_MODE = prod
WORK_PATH = %[1]s
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[2]d
DOMAIN = 127.0.0.1
ROOT_URL = http://127.0.0.1:%[2]d/
APP_DATA_PATH = %[1]s/data
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = %[1]s/data/gitea.db

[repository]
ROOT = %[1]s/repos
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = %[3]s
INTERNAL_TOKEN = %[4]s

[oauth2]
ENABLED = false

[service]
DISABLE_REGISTRATION = true
DEFAULT_KEEP_EMAIL_PRIVATE = true

[mailer]
ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[queue]
TYPE = channel

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[cron.update_checker]
ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[log]
MODE = console
LEVEL = warn
ROOT_PATH = %[1]s/log
`, dir, port, randomHex(32), randomHex(32))
}

// giteaEnv isolates Gitea (and the git it runs) from the caller's
// configuration.
func giteaEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || strings.HasPrefix(k, "GITEA_") || k == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+filepath.Join(dir, "home"),
		"GITEA_WORK_DIR="+dir,
		"GITEA_CUSTOM="+filepath.Join(dir, "custom"),
		"GIT_CONFIG_NOSYSTEM=1",
	)
}

// API sends a JSON request to the API as the administrator (path relative to
// /api/v1) and decodes a JSON answer into out (when non-nil). It returns the
// status code; non-2xx answers fail the test unless they are in allow.
func (s *Server) API(t testing.TB, method, path string, in, out any, allow ...int) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.APIURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+s.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	for _, a := range allow {
		ok = ok || resp.StatusCode == a
	}
	if !ok {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// CreateRepo creates an empty repository owned by the administrator and
// returns its clone URL carrying the administrator's credentials (for git
// push over HTTP) and its web URL.
func (s *Server) CreateRepo(t testing.TB, name string) (cloneURL, webURL string) {
	t.Helper()
	var repo struct {
		CloneURL string `json:"clone_url"`
		HTMLURL  string `json:"html_url"`
	}
	s.API(t, http.MethodPost, "/user/repos", map[string]any{
		"name": name, "private": false, "auto_init": false, "default_branch": "main",
	}, &repo)
	u, err := url.Parse(repo.CloneURL)
	if err != nil {
		t.Fatalf("clone URL %q: %v", repo.CloneURL, err)
	}
	u.User = url.UserPassword(s.Admin, s.Password)
	return u.String(), repo.HTMLURL
}

// SetCommitStatus reports state (pending, success, error, failure, warning,
// skipped) for context on commit sha of the administrator's repository repo.
func (s *Server) SetCommitStatus(t testing.TB, repo, sha, context, state string) {
	t.Helper()
	s.API(t, http.MethodPost, "/repos/"+url.PathEscape(s.Admin)+"/"+url.PathEscape(repo)+"/statuses/"+url.PathEscape(sha),
		map[string]any{"state": state, "context": context, "description": context + " " + state}, nil)
}

// Git runs the real git CLI in dir with the user's configuration shut out
// and a fixed identity, failing the test on error; it returns trimmed stdout.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = GitEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// GitEnv is the environment Git runs with: no global or system config, a
// fixed author and committer, no prompts.
func GitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
	)
}

// tokenLine is a line holding only an access token: Gitea prints 20 random
// bytes in hex (models/auth.NewAccessToken). tokenShaped is anything
// token-like, masked wherever Gitea's output is quoted.
var (
	tokenLine   = regexp.MustCompile(`(?m)^[0-9a-f]{40}$`)
	tokenShaped = regexp.MustCompile(`[0-9a-fA-F]{40,}`)
)

// parseToken returns the token `gitea admin user generate-access-token
// --raw` printed to stdout. That stdout is also where Gitea's console
// logger writes (as root, an [E] line on every run), from its own
// goroutine: a line logged before the token was printed may land after
// it, so neither "last line" nor "first line" is the token; the one line
// shaped as a token is. Its error quotes what Gitea printed, token-shaped
// strings masked.
func parseToken(stdout, stderr string) (string, error) {
	if m := tokenLine.FindAllString(stdout, -1); len(m) == 1 {
		return m[0], nil
	}
	return "", fmt.Errorf("gitea admin user generate-access-token printed no token (one line of 40 hex digits, printed once):\n%s", giteaOutput(stdout, stderr))
}

// giteaOutput quotes what a gitea command printed, anything shaped as an
// access token masked.
func giteaOutput(stdout, stderr string) string {
	return tokenShaped.ReplaceAllString(fmt.Sprintf("stdout:\n%s\nstderr:\n%s", stdout, stderr), "<token redacted>")
}

// ready reports whether Gitea answers healthURL and, when sshPort is not
// 0, accepts TCP connections on 127.0.0.1:sshPort: the built-in SSH server
// listens on its own goroutine, so a healthy web server does not mean the
// SSH port is open yet.
func ready(healthURL string, sshPort int) bool {
	if !healthy(healthURL) {
		return false
	}
	if sshPort == 0 {
		return true
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(sshPort)), 2*time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func healthy(u string) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
