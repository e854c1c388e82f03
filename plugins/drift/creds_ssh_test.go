package drift

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// TestFluxGitRepositorySSHSecretRef: a private repository on a real SSH
// server (Gitea's built-in one), readable only with a deploy key, is
// cloned through a Flux GitRepository (ssh:// URL) whose spec.secretRef
// holds the key (encrypted: identity, identity.pub, password) and the
// server's known_hosts, as source-controller clones it. The key and its
// passphrase appear in no output of any -o and no file left in TMPDIR; a
// known_hosts that does not list the server's host key is an error of the
// source saying so.
func TestFluxGitRepositorySSHSecretRef(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("KUBECTL_GITOPS_REQUIRE_CLUSTER") != "" {
			t.Fatal("no ssh client: apt-get install openssh-client")
		}
		t.Skip("no ssh client (apt-get install openssh-client)")
	}
	cp := controlplane.ForTest(t)
	srv := gitea.Start(t, gitea.WithSSH())
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// The user's own ssh configuration is not used: it would accept any
	// host key.
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte("Host *\n  StrictHostKeyChecking no\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	repo := newFleetRepo(t)
	cloneURL, _ := srv.CreateRepo(t, "fleet")
	gitRun(t, repo.bare, "push", "--quiet", cloneURL, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")
	srv.API(t, http.MethodPatch, "/repos/"+srv.Admin+"/fleet", map[string]any{"private": true}, nil)

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "deploy", []byte(credsCanary))
	if err != nil {
		t.Fatal(err)
	}
	identity := string(pem.EncodeToMemory(block))
	sshPub, _ := ssh.NewPublicKey(pub)
	authorized := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	srv.AddDeployKey(t, "fleet", "flux", authorized)
	// The key's lines, as the Secret holds it and decrypted.
	canaries := []string{credsCanary}
	plain, _ := ssh.MarshalPrivateKey(priv, "")
	for _, text := range []string{identity, string(pem.EncodeToMemory(plain))} {
		for line := range strings.Lines(text) {
			if line = strings.TrimSpace(line); !strings.HasPrefix(line, "-----") {
				canaries = append(canaries, line)
			}
		}
	}
	leaks := func(t *testing.T, what, s string) {
		t.Helper()
		for _, c := range canaries {
			if strings.Contains(s, c) {
				t.Errorf("%s holds the key or its passphrase (%q):\n%s", what, c, s)
				return
			}
		}
	}

	const ns = "creds-ssh"
	kubectl(t, cp, "", "create", "namespace", ns)
	indent := func(s string) string { return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ") }
	objects := func(knownHosts string) string {
		return `apiVersion: v1
kind: Secret
metadata: {name: git-ssh, namespace: ` + ns + `}
type: Opaque
stringData:
  identity: |
` + indent(identity) + `
  identity.pub: "` + authorized + `"
  password: ` + credsCanary + `
  known_hosts: |
` + indent(knownHosts) + `
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: ` + ns + `}
spec:
  interval: 1m
  url: "` + srv.SSHURL("fleet") + `"
  ref: {branch: main}
  secretRef: {name: git-ssh}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: ` + ns + `}
spec:
  interval: 10m
  prune: true
  path: ./flux/apps
  targetNamespace: ` + ns + `
  sourceRef: {kind: GitRepository, name: fleet}
`
	}
	const src = "flux/" + ns + "/apps"
	args := []string{"--flux-kustomization", ns + "/apps"}

	kubectl(t, cp, objects(srv.SSHKnownHosts), "apply", "-f", "-")
	checkFluxCredsRun(t, cp, ns, src, args, leaks)

	t.Run("a known_hosts without the server's host key", func(t *testing.T) {
		_, other, _ := ed25519.GenerateKey(rand.Reader)
		otherPub, _ := ssh.NewPublicKey(other.Public())
		kh := strings.Fields(srv.SSHKnownHosts)[0] + " " + string(ssh.MarshalAuthorizedKey(otherPub))
		kubectl(t, cp, objects(kh), "apply", "-f", "-")
		r := runDrift(t, cp, append(args, "-o", "json")...)
		got := driftBySource(parseSources(t, r))[src]
		if r.code != cli.ExitError || !strings.Contains(got, "presented a host key that the known_hosts of Secret "+ns+"/git-ssh (spec.secretRef) does not list") {
			t.Errorf("exit %d, drift %q", r.code, got)
		}
		leaks(t, "the error", r.stdout+r.stderr)
	})

	// Nothing left in TMPDIR: no checkout, no key directory, no file
	// holding the key.
	assertNoCheckouts(t, tmp)
	_ = filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), "kubectl-gitops-ssh-") {
			t.Errorf("SSH key directory left behind: %s", p)
		}
		if !d.IsDir() {
			data, _ := os.ReadFile(p)
			leaks(t, p, string(data))
		}
		return nil
	})
}
