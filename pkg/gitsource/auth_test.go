package gitsource

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const authCanary = "canary-s3cr3t-7f3a"

// serveAuthHTTP serves the repositories under base with the real git
// http-backend, behind basic auth for flux:<authCanary> or the bearer
// token authCanary.
func serveAuthHTTP(t *testing.T, base string) *httptest.Server {
	t.Helper()
	execPath := gitT(t, base, "--exec-path")
	backend := &cgi.Handler{Path: filepath.Join(execPath, "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + base, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_CONFIG_NOSYSTEM=1"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		basic := ok && u == "flux" && p == authCanary
		if !basic && r.Header.Get("Authorization") != "Bearer "+authCanary {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// recorder records the Authorization headers it receives.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (rc *recorder) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.seen = append(rc.seen, r.Header.Get("Authorization"))
		rc.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (rc *recorder) credentials() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, h := range rc.seen {
		if h != "" {
			out = append(out, h)
		}
	}
	return out
}

// TestFetchWithSecretCredentials: a repository behind basic auth (or a
// bearer token) is fetched with a Secret's credentials, which appear in no
// argument of git (a wrapper on PATH records them), no file of the
// checkout or the user's credential store, and no error; without them the
// server refuses.
func TestFetchWithSecretCredentials(t *testing.T) {
	r := newRepo(t)
	srv := serveAuthHTTP(t, filepath.Dir(r.bare))
	url := srv.URL + "/" + filepath.Base(r.bare)

	// A git wrapper recording its arguments, and a credential helper that
	// would store what git is told.
	bin, logDir := t.TempDir(), t.TempDir()
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	wrapper := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + filepath.Join(logDir, "argv") + "\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	store := filepath.Join(logDir, "store")
	global := filepath.Join(logDir, "gitconfig")
	if err := os.WriteFile(global, []byte("[credential]\n\thelper = store --file="+store+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", global)

	basic := base64.StdEncoding.EncodeToString([]byte("flux:" + authCanary))
	for _, auth := range []*Auth{
		{Secret: "flux-system/basic", Username: "flux", Password: authCanary},
		{Secret: "flux-system/token", BearerToken: authCanary},
	} {
		tmp := t.TempDir()
		co, err := Fetch(t.Context(), Spec{URL: url, Revision: "main", Path: "apps/web", TempDir: tmp, Auth: auth})
		if err != nil {
			t.Fatalf("%s: %v", auth.Secret, err)
		}
		if co.Commit != r.second || read(t, co, "v.txt") != "2" {
			t.Errorf("%s: commit %s", auth.Secret, co.Commit)
		}
		_ = filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if data, _ := os.ReadFile(p); strings.Contains(string(data), authCanary) || strings.Contains(string(data), basic) {
					t.Errorf("%s: %s holds the credentials", auth.Secret, p)
				}
			}
			return nil
		})
		if err := co.Close(); err != nil {
			t.Fatal(err)
		}
		tag, err := ResolveSemverAuth(t.Context(), url, "~1.0", auth)
		if err != nil || tag != "v1.0.0" {
			t.Errorf("%s: ResolveSemverAuth = %q, %v", auth.Secret, tag, err)
		}
	}
	argv, err := os.ReadFile(filepath.Join(logDir, "argv"))
	if err != nil || !strings.Contains(string(argv), "fetch") {
		t.Fatalf("the wrapper saw no fetch: %v\n%s", err, argv)
	}
	if strings.Contains(string(argv), authCanary) || strings.Contains(string(argv), basic) {
		t.Errorf("the credentials are in git's arguments:\n%s", argv)
	}
	if data, err := os.ReadFile(store); err == nil {
		t.Errorf("the user's credential helper stored something: %q", data)
	}

	// Without credentials: refused, and the error names the repository.
	_, err = Fetch(t.Context(), Spec{URL: url, Revision: "main", TempDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), srv.Listener.Addr().String()) {
		t.Errorf("anonymous fetch: %v", err)
	}
}

// TestCredentialsStayOnTheirHost: a server that redirects elsewhere does
// not take the credentials there; plain http to another host than a
// loopback address, and transports other than http(s), are refused before
// git runs.
func TestCredentialsStayOnTheirHost(t *testing.T) {
	r := newRepo(t)
	target := serveAuthHTTP(t, filepath.Dir(r.bare))
	// Another host ("localhost" is not 127.0.0.1 for git) serving the
	// same repository to anyone, and recording what it is sent.
	var elsewhere recorder
	execPath := gitT(t, r.bare, "--exec-path")
	open := &cgi.Handler{Path: filepath.Join(execPath, "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(r.bare), "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_CONFIG_NOSYSTEM=1"}}
	other := httptest.NewServer(elsewhere.handler(open))
	t.Cleanup(other.Close)
	var named recorder
	redirector := httptest.NewServer(named.handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+req.URL.RequestURI(), http.StatusFound)
	})))
	t.Cleanup(redirector.Close)
	auth := &Auth{Secret: "flux-system/basic", Username: "flux", Password: authCanary}
	_, err := Fetch(t.Context(), Spec{URL: redirector.URL + "/" + filepath.Base(r.bare), Revision: "main", TempDir: t.TempDir(), Auth: auth})
	if err == nil {
		t.Error("fetched through a redirect to another host")
	}
	if len(named.credentials()) == 0 {
		t.Error("the repository's own host got no credentials")
	}
	if got := elsewhere.credentials(); len(got) > 0 {
		t.Errorf("another host got the credentials: %v", got)
	}

	for _, url := range []string{
		"http://git.example.com/org/repo.git",
		"http://192.168.0.10/org/repo.git",
		"ssh://git@127.0.0.1/org/repo.git",
		"git@127.0.0.1:org/repo.git",
		"file://" + r.bare,
	} {
		tmp := t.TempDir()
		_, err := Fetch(t.Context(), Spec{URL: url, TempDir: tmp, Auth: auth})
		if !errors.Is(err, ErrCredentialsRefused) || !strings.Contains(err.Error(), "flux-system/basic") || strings.Contains(err.Error(), authCanary) {
			t.Errorf("%s: %v", url, err)
		}
		assertEmpty(t, tmp)
		if _, err := ResolveSemverAuth(t.Context(), url, "1.x", auth); !errors.Is(err, ErrCredentialsRefused) {
			t.Errorf("ResolveSemverAuth %s: %v", url, err)
		}
	}
	for _, bad := range []*Auth{{Secret: "ns/s", BearerToken: "a\r\nX-Injected: 1"}} {
		_, err := Fetch(t.Context(), Spec{URL: target.URL + "/x.git", TempDir: t.TempDir(), Auth: bad})
		if !errors.Is(err, ErrCredentialsRefused) || strings.Contains(err.Error(), "Injected") {
			t.Errorf("header injection: %v", err)
		}
	}
}

// TestAuthFromSecret: the Secret's keys read as source-controller reads
// them; a warning or an error names the Secret, never its data (SSH:
// TestAuthFromSecretSSH).
func TestAuthFromSecret(t *testing.T) {
	const https = "https://git.example.com/org/repo.git"
	tests := []struct {
		name    string
		data    map[string]string
		url     string
		want    *Auth
		warning string
		err     string
	}{
		{"basic", map[string]string{"username": "flux", "password": authCanary}, https, &Auth{Secret: "ns/s", Username: "flux", Password: authCanary}, "", ""},
		{"bearer wins", map[string]string{"username": "flux", "password": "p", "bearerToken": authCanary}, https, &Auth{Secret: "ns/s", BearerToken: authCanary}, "", ""},
		{"username alone", map[string]string{"username": "flux"}, https, &Auth{Secret: "ns/s", Username: "flux"}, "", ""},
		{"password alone", map[string]string{"password": authCanary}, https, nil, "", "secretRef ns/s: 'password' requires 'username' to be set"},
		{"nothing to send", map[string]string{"other": "x"}, https, nil, "", ""},
		{"ca.crt", map[string]string{"username": "flux", "ca.crt": "pem"}, https, &Auth{Secret: "ns/s", Username: "flux"}, "the ca.crt of Secret ns/s (spec.secretRef) is not used", ""},
		{"ssh identity not a key", map[string]string{"identity": authCanary, "known_hosts": "h"}, "ssh://git@git.example.com/org/repo.git", nil, "", "secretRef ns/s: the 'identity' is not a private key (RSA, ECDSA or Ed25519, PEM or OpenSSH format) that can be read"},
		{"scp-like without known_hosts", map[string]string{"identity": authCanary}, "git@git.example.com:org/repo.git", nil, "", "secretRef ns/s: 'known_hosts' is required for an SSH repository (the server's host key is checked against it)"},
		{"git://", map[string]string{"username": "flux", "password": authCanary}, "git://git.example.com/org/repo.git", nil, "the credentials of Secret ns/s (spec.secretRef) are not used: only http(s) and SSH", ""},
		{"file:// with credentials", map[string]string{"password": authCanary}, "file:///srv/git/repo.git", nil, "the credentials of Secret ns/s (spec.secretRef) are not used: only http(s) and SSH", ""},
		{"file:// empty Secret", nil, "file:///srv/git/repo.git", nil, "", ""},
		{"file:// empty values", map[string]string{"username": "", "password": ""}, "file:///srv/git/repo.git", nil, "", ""},
		{"file:// other keys only", map[string]string{"other": "x"}, "file:///srv/git/repo.git", nil, "", ""},
		{"ssh without keys", map[string]string{"other": "x"}, "ssh://git@git.example.com/org/repo.git", nil, "", "secretRef ns/s: 'identity' is required for an SSH repository"},
	}
	for _, tt := range tests {
		data := map[string][]byte{}
		for k, v := range tt.data {
			data[k] = []byte(v)
		}
		got, warning, err := AuthFromSecret("ns/s", data, tt.url)
		if (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
		}
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
		if !strings.HasPrefix(warning, tt.warning) || (tt.warning == "") != (warning == "") || strings.Contains(warning, authCanary) {
			t.Errorf("%s: warning %q, want %q…", tt.name, warning, tt.warning)
		}
	}
}
