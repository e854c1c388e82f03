package gitsource

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// sshKey is a new Ed25519 key: its private key (PEM, OpenSSH format,
// encrypted with passphrase unless it is ""), its public key
// (authorized_keys format) and the lines of the private key's body, which
// must never show anywhere.
func sshKey(t *testing.T, passphrase string) (private, public string, canaries []string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, authCanary)
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, authCanary, []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	// The decrypted key as this package writes it: its lines are secret too.
	plain, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	private = string(pem.EncodeToMemory(block))
	for _, text := range []string{private, string(pem.EncodeToMemory(plain))} {
		for line := range strings.Lines(text) {
			if line = strings.TrimSpace(line); !strings.HasPrefix(line, "-----") {
				canaries = append(canaries, line)
			}
		}
	}
	return private, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))), append(canaries, authCanary)
}

// leaked returns the first canary found in s.
func leaked(s string, canaries []string) string {
	for _, c := range canaries {
		if c != "" && strings.Contains(s, c) {
			return c
		}
	}
	return ""
}

// assertNoLeftovers fails when a file under dir holds a canary, or an SSH
// key directory is left.
func assertNoLeftovers(t *testing.T, dir string, canaries []string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), "kubectl-gitops-ssh-") {
			t.Errorf("SSH key directory left behind: %s", p)
		}
		if !d.IsDir() {
			if data, _ := os.ReadFile(p); leaked(string(data), canaries) != "" {
				t.Errorf("%s holds the key or its passphrase", p)
			}
		}
		return nil
	})
}

// sshWrapper puts an ssh on PATH that records its arguments in the
// returned file, then runs the real ssh with extra arguments first.
func sshWrapper(t *testing.T, extra ...string) (argv string) {
	t.Helper()
	real, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no ssh client (apt-get install openssh-client)")
	}
	bin, logs := t.TempDir(), t.TempDir()
	argv = filepath.Join(logs, "argv")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + argv + "'\nexec '" + real + "' " + strings.Join(extra, " ") + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argv
}

// waitSSHStarted waits up to timeout for the ssh of sshWrapper to record
// its arguments in argv.
func waitSSHStarted(t *testing.T, argv string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if data, _ := os.ReadFile(argv); len(data) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("ssh did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestParseSSHURL: the SSH URLs git takes, and what it would read as an
// option or a remote helper refused.
func TestParseSSHURL(t *testing.T) {
	tests := []struct {
		url, user, host, err string
	}{
		{"ssh://git@github.com/org/repo.git", "git", "github.com", ""},
		{"ssh://github.com:2222/org/repo.git", "", "github.com", ""},
		{"git+ssh://git@[::1]:2222/org/repo.git", "git", "::1", ""},
		{"git@github.com:org/repo.git", "git", "github.com", ""},
		{"github.com:org/repo.git", "", "github.com", ""},
		{"ssh://-oProxyCommand=touch/repo", "", "", "invalid host"},
		{"ssh://-oProxyCommand=touch%20x/repo", "", "", "not a URL with a host"},
		{"ssh://git@-oProxyCommand=x/repo", "", "", "invalid host"},
		{"ssh://-oProxyCommand=x@host/repo", "", "", "invalid user"},
		{"git@-oProxyCommand=touch:repo", "", "", "invalid host"},
		{"-oProxyCommand=touch@host:repo", "", "", "invalid user"},
		{"ext::sh -c touch% /tmp/pwned", "", "", "a space or control character"},
		{"ext::sh%20-c%20x", "", "", "a git remote helper"},
		{"fd::3", "", "", "a git remote helper"},
		{"ssh://git:pw@host/repo", "", "", "a password"},
		{"ssh://host;touch/repo", "", "", "invalid host"},
		{"host\n-oProxyCommand=x:repo", "", "", "a space or control character"},
		{"https://github.com/org/repo.git", "", "", "not an SSH URL"},
		{"./dir:with/colon", "", "", "not an SSH URL"},
	}
	for _, tt := range tests {
		got, err := parseSSHURL(tt.url)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseSSHURL(%q) = %+v, %v; want error %q", tt.url, got, err, tt.err)
			}
			continue
		}
		if err != nil || got.user != tt.user || got.host != tt.host {
			t.Errorf("parseSSHURL(%q) = %+v, %v; want %s@%s", tt.url, got, err, tt.user, tt.host)
		}
	}
}

// TestAuthFromSecretSSH: an SSH Secret is read as source-controller reads
// it: identity and known_hosts required, password decrypting the key; a
// key or known_hosts that cannot be read, a URL with an option or a remote
// helper, are errors that hold no value of the Secret.
func TestAuthFromSecretSSH(t *testing.T) {
	plain, _, canaries := sshKey(t, "")
	encrypted, _, encCanaries := sshKey(t, authCanary)
	canaries = append(canaries, encCanaries...)
	const kh = "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	const url = "ssh://git@git.example.com/org/repo.git"
	tests := []struct {
		name string
		data map[string]string
		url  string
		want *Auth
		err  string
	}{
		{"plain key", map[string]string{"identity": plain, "identity.pub": "x", "known_hosts": kh}, url,
			&Auth{Secret: "ns/s", Identity: plain, KnownHosts: kh}, ""},
		{"encrypted key", map[string]string{"identity": encrypted, "known_hosts": kh, "password": authCanary}, "git@git.example.com:org/repo.git",
			&Auth{Secret: "ns/s", Identity: encrypted, KnownHosts: kh, Password: authCanary}, ""},
		{"plain key and a password", map[string]string{"identity": plain, "known_hosts": kh, "password": "unused"}, url,
			&Auth{Secret: "ns/s", Identity: plain, KnownHosts: kh, Password: "unused"}, ""},
		{"no identity", map[string]string{"known_hosts": kh, "username": "u", "password": authCanary}, url, nil,
			"secretRef ns/s: 'identity' is required for an SSH repository"},
		{"no known_hosts", map[string]string{"identity": plain}, url, nil,
			"secretRef ns/s: 'known_hosts' is required for an SSH repository"},
		{"encrypted without password", map[string]string{"identity": encrypted, "known_hosts": kh}, url, nil,
			"secretRef ns/s: the 'identity' is encrypted and 'password' is not set"},
		{"wrong password", map[string]string{"identity": encrypted, "known_hosts": kh, "password": "wrong"}, url, nil,
			"secretRef ns/s: 'password' does not decrypt the 'identity'"},
		{"not a key", map[string]string{"identity": "-----BEGIN OPENSSH PRIVATE KEY-----\n" + authCanary + "\n-----END OPENSSH PRIVATE KEY-----\n", "known_hosts": kh}, url, nil,
			"secretRef ns/s: the 'identity' is not a private key"},
		{"known_hosts garbage", map[string]string{"identity": plain, "known_hosts": kh + "host ssh-ed25519 " + authCanary + "\n"}, url, nil,
			"secretRef ns/s: 'known_hosts' from line 2: not a known_hosts entry"},
		{"known_hosts comments only", map[string]string{"identity": plain, "known_hosts": "# " + authCanary + "\n"}, url, nil,
			"secretRef ns/s: 'known_hosts' holds no host key"},
		{"ext::", map[string]string{"identity": plain, "known_hosts": kh}, "ext::sh%20-c%20touch%20x", nil,
			"secretRef ns/s: credentials refused: the SSH key is used only with an ssh:// or user@host:path URL: a git remote helper"},
		{"option host", map[string]string{"identity": plain, "known_hosts": kh}, "ssh://-oProxyCommand=x/repo", nil,
			"secretRef ns/s: credentials refused"},
	}
	for _, tt := range tests {
		data := map[string][]byte{}
		for k, v := range tt.data {
			data[k] = []byte(v)
		}
		got, warning, err := AuthFromSecret("ns/s", data, tt.url)
		if (err == nil) != (tt.err == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.err)) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
		}
		if err != nil && leaked(err.Error(), canaries) != "" {
			t.Errorf("%s: the error holds a value of the Secret: %v", tt.name, err)
		}
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
		if warning != "" {
			t.Errorf("%s: warning %q", tt.name, warning)
		}
	}
}

// TestSSHKnownHostsRewritten: what reaches ssh is the entries of the
// Secret's known_hosts written anew, a marker kept, comments and anything
// after a key dropped.
func TestSSHKnownHostsRewritten(t *testing.T) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	a := &Auth{Secret: "ns/s", KnownHosts: "# comment\n\n[h]:2222,10.0.0.1 " + key + " trailing -oProxyCommand=x\r\n@cert-authority *.example.com " + key + "\n"}
	got, err := a.knownHostsFile()
	want := "[h]:2222,10.0.0.1 " + key + "\n@cert-authority *.example.com " + key + "\n"
	if err != nil || string(got) != want {
		t.Errorf("knownHostsFile() = %q, %v; want %q", got, err, want)
	}
}

// giteaSSHRepo starts Gitea with its SSH server, pushes newRepo's
// history to a private repository "fleet" whose only SSH access is a
// read-only deploy key, and returns the server, the repo and the key.
func giteaSSHRepo(t *testing.T, passphrase string) (*gitea.Server, repo, string, []string) {
	t.Helper()
	srv := gitea.Start(t, gitea.WithSSH())
	r := newRepo(t)
	cloneURL, _ := srv.CreateRepo(t, "fleet")
	gitT(t, r.bare, "push", "--quiet", cloneURL, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")
	srv.API(t, http.MethodPatch, "/repos/"+srv.Admin+"/fleet", map[string]any{"private": true}, nil)
	private, public, canaries := sshKey(t, passphrase)
	srv.AddDeployKey(t, "fleet", "drift", public)
	return srv, r, private, canaries
}

// TestFetchSSH: a private repository on a real SSH server (Gitea's) is
// fetched with the key of a Secret, encrypted with its password, the
// server's host key checked against the Secret's known_hosts: over ssh://
// and scp-like URLs, a checkout and a semver range. The key and its
// passphrase appear in no argument of ssh or git, no error, no file left;
// ssh runs with strict host key checking and none of the user's
// configuration. A host key that known_hosts does not list, or a key the
// server does not know, fail with a clear error.
func TestFetchSSH(t *testing.T) {
	srv, r, private, canaries := giteaSSHRepo(t, authCanary)
	// ResolveSemverAuth's key directory goes to TMPDIR.
	tmpdir := t.TempDir()
	t.Setenv("TMPDIR", tmpdir)
	port := strconv.Itoa(srv.SSHPort)
	// The user's ssh configuration would send another key and accept any
	// host key: it is not read.
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte("Host *\n  StrictHostKeyChecking no\n  ProxyCommand false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	argv := sshWrapper(t)
	auth := &Auth{Secret: "flux-system/ssh", Identity: private, KnownHosts: srv.SSHKnownHosts + "\n", Password: authCanary}

	tmp := t.TempDir()
	co, err := Fetch(t.Context(), Spec{URL: srv.SSHURL("fleet"), Revision: "main", Path: "apps/web", TempDir: tmp, Auth: auth})
	if err != nil {
		t.Fatalf("Fetch over SSH: %v", err)
	}
	if co.Commit != r.second || read(t, co, "v.txt") != "2" {
		t.Errorf("commit %s, want %s", co.Commit, r.second)
	}
	assertNoLeftovers(t, tmp, canaries)
	if err := co.Close(); err != nil {
		t.Fatal(err)
	}
	tag, err := ResolveSemverAuth(t.Context(), srv.SSHURL("fleet"), "~1.0", auth)
	if err != nil || tag != "v1.0.0" {
		t.Errorf("ResolveSemverAuth over SSH = %q, %v", tag, err)
	}

	t.Run("scp-like URL", func(t *testing.T) {
		// An scp-like URL has no port: the wrapper gives ssh Gitea's.
		sshWrapper(t, "-p", port)
		tmp := t.TempDir()
		co, err := Fetch(t.Context(), Spec{URL: "git@127.0.0.1:" + srv.Admin + "/fleet.git", Revision: "v1.0.0", TempDir: tmp, Auth: auth})
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if co.Commit != r.first {
			t.Errorf("commit %s, want %s", co.Commit, r.first)
		}
		assertNoLeftovers(t, tmp, canaries)
		_ = co.Close()
	})

	t.Run("a host key known_hosts does not list", func(t *testing.T) {
		other, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		otherPub, _ := ssh.NewPublicKey(other)
		for name, kh := range map[string]string{
			"another key for the host": "[127.0.0.1]:" + port + " " + string(ssh.MarshalAuthorizedKey(otherPub)),
			"another host":             strings.Replace(srv.SSHKnownHosts, "[127.0.0.1]", "[127.0.0.2]", 1),
		} {
			bad := *auth
			bad.KnownHosts = kh
			tmp := t.TempDir()
			_, err := Fetch(t.Context(), Spec{URL: srv.SSHURL("fleet"), TempDir: tmp, Auth: &bad})
			t.Logf("%s: %v", name, err)
			if !errors.Is(err, ErrHostKeyVerification) || !strings.Contains(err.Error(), "known_hosts of Secret flux-system/ssh") {
				t.Errorf("%s: %v, want %v", name, err, ErrHostKeyVerification)
			}
			if err != nil && leaked(err.Error(), canaries) != "" {
				t.Errorf("%s: the error holds the key: %v", name, err)
			}
			assertNoLeftovers(t, tmp, canaries)
			assertEmpty(t, tmp)
			if _, err := ResolveSemverAuth(t.Context(), srv.SSHURL("fleet"), "1.x", &bad); !errors.Is(err, ErrHostKeyVerification) {
				t.Errorf("%s: ResolveSemverAuth: %v", name, err)
			}
		}
	})

	t.Run("a key the server does not know", func(t *testing.T) {
		unknown, _, more := sshKey(t, "")
		tmp := t.TempDir()
		_, err := Fetch(t.Context(), Spec{URL: srv.SSHURL("fleet"), TempDir: tmp, Auth: &Auth{Secret: "ns/unknown", Identity: unknown, KnownHosts: srv.SSHKnownHosts}})
		if err == nil || !strings.Contains(err.Error(), "Permission denied") || leaked(err.Error(), more) != "" {
			t.Errorf("unknown key: %v", err)
		}
		assertEmpty(t, tmp)
	})

	data, err := os.ReadFile(argv)
	if err != nil {
		t.Fatalf("ssh was not run through the wrapper: %v", err)
	}
	for _, want := range []string{"-F /dev/null", "StrictHostKeyChecking=yes", "IdentitiesOnly=yes", "GlobalKnownHostsFile=/dev/null", "BatchMode=yes"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("ssh ran without %s:\n%s", want, data)
		}
	}
	if c := leaked(string(data), canaries); c != "" {
		t.Errorf("ssh's arguments hold %q:\n%s", c, data)
	}
	assertNoLeftovers(t, tmpdir, canaries)
}

// TestSSHOptionsNotInjected: a Secret cannot make ssh run a command or
// take options: an identity with text after the key, a known_hosts with
// an option-looking line, a URL whose host or user looks like an option
// or names a remote helper. ssh is never started for a refused URL.
func TestSSHOptionsNotInjected(t *testing.T) {
	private, _, _ := sshKey(t, "")
	marker := filepath.Join(t.TempDir(), "pwned")
	argv := sshWrapper(t)
	kh := "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	for _, url := range []string{
		"ssh://-oProxyCommand=touch%20" + marker + "/repo",
		"-oProxyCommand=touch " + marker + ":repo",
		"git@-oProxyCommand=touch:repo",
		"ext::sh -c touch% " + marker,
		"ext::sh%20-c%20touch%20" + marker,
	} {
		_, err := Fetch(t.Context(), Spec{URL: url, TempDir: t.TempDir(), Auth: &Auth{Secret: "ns/s", Identity: private, KnownHosts: kh}})
		if err == nil {
			t.Errorf("%q: fetched", url)
		}
	}
	if data, err := os.ReadFile(argv); err == nil {
		t.Errorf("ssh ran for a refused URL:\n%s", data)
	}
	// Text after the key and a line of known_hosts that is no entry: the
	// key is read (what follows it never reaches ssh), the known_hosts
	// refused.
	a := &Auth{Secret: "ns/s", Identity: private + "\n-oProxyCommand=touch " + marker + "\n", KnownHosts: kh}
	key, err := a.privateKeyPEM()
	if err != nil || strings.Contains(string(key), "ProxyCommand") {
		t.Errorf("privateKeyPEM = %q, %v", key, err)
	}
	a.KnownHosts = kh + "-oProxyCommand=touch " + marker + "\n"
	if _, err := Fetch(t.Context(), Spec{URL: "ssh://git@127.0.0.1:1/repo", TempDir: t.TempDir(), Auth: a}); err == nil || !strings.Contains(err.Error(), "'known_hosts' from line 2") {
		t.Errorf("known_hosts with an option line: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a command of the Secret ran")
	}
}

// TestFetchSSHInterrupted: cancelling the context while ssh waits on a
// server that never answers stops it, and the key's directory, which
// exists (0700, the key 0600) while ssh runs, is gone.
func TestFetchSSHInterrupted(t *testing.T) {
	argv := sshWrapper(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); conns.Wait() })
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() { // Never answers: holds the connection.
				buf := make([]byte, 1024)
				for {
					if _, err := c.Read(buf); err != nil {
						_ = c.Close()
						return
					}
				}
			})
		}
	})
	private, _, canaries := sshKey(t, authCanary)
	tmp := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Fetch(ctx, Spec{URL: "ssh://git@" + ln.Addr().String() + "/org/repo.git", TempDir: tmp,
			Auth: &Auth{Secret: "ns/s", Identity: private, Password: authCanary, KnownHosts: "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"}})
		done <- err
	}()
	// Wait for ssh to run, then look at the key's directory.
	waitSSHStarted(t, argv, 30*time.Second)
	dirs, _ := filepath.Glob(filepath.Join(tmp, "kubectl-gitops-ssh-*"))
	if len(dirs) != 1 {
		t.Fatalf("key directories %v, want one", dirs)
	}
	for name, want := range map[string]os.FileMode{dirs[0]: 0o700 | os.ModeDir, filepath.Join(dirs[0], "identity"): 0o600, filepath.Join(dirs[0], "known_hosts"): 0o600} {
		if fi, err := os.Stat(name); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", name, fi.Mode(), err, want)
		}
	}
	if data, err := os.ReadFile(filepath.Join(dirs[0], "identity")); err != nil || strings.Contains(string(data), "ENCRYPTED") || strings.Contains(string(data), authCanary) {
		t.Errorf("the key file is not the decrypted key written anew (%v)", err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch = %v, want the context's error", err)
		}
		if err != nil && leaked(err.Error(), canaries) != "" {
			t.Errorf("the error holds the key: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Fetch did not return after the context was cancelled")
	}
	assertEmpty(t, tmp)
}
