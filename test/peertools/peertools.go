package peertools

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Tool names as hack/peer-tools.sh knows them, and the binaries they hold.
const (
	SealedSecrets = "sealed-secrets" // kubeseal, controller
	Sops          = "sops"           // sops
	Age           = "age"            // age, age-keygen
	Gitea         = "gitea"          // gitea (a forge with a pull-request API)
	Flux          = "flux"           // flux (the Flux CLI v2.9.5)
	ArgoCD        = "argocd"         // argocd (the Argo CD CLI v3.2.11)
	Helm          = "helm"           // helm (the Helm CLI v4.3.2)
)

var envKeys = map[string]string{
	SealedSecrets: "KUBECTL_GITOPS_SEALED_SECRETS",
	Sops:          "KUBECTL_GITOPS_SOPS",
	Age:           "KUBECTL_GITOPS_AGE",
	Gitea:         "KUBECTL_GITOPS_GITEA",
	Flux:          "KUBECTL_GITOPS_FLUX",
	ArgoCD:        "KUBECTL_GITOPS_ARGOCD",
	Helm:          "KUBECTL_GITOPS_HELM",
}

var (
	once    sync.Once
	dirs    map[string]string
	loadErr error
)

// script finds hack/peer-tools.sh by walking up from the working directory.
func script() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "hack", "peer-tools.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("hack/peer-tools.sh not found above the working directory")
		}
		dir = parent
	}
}

func load() {
	dirs = map[string]string{}
	s, err := script()
	if err != nil {
		loadErr = err
		return
	}
	out, err := exec.Command("bash", s, "env").Output()
	if err != nil {
		loadErr = fmt.Errorf("%s env: %w", s, err)
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			dirs[k] = v
		}
	}
}

// Dir returns the directory holding a built tool, or an error saying how to
// build it.
func Dir(tool string) (string, error) {
	once.Do(load)
	if loadErr != nil {
		return "", loadErr
	}
	key, ok := envKeys[tool]
	if !ok {
		return "", fmt.Errorf("unknown peer tool %q", tool)
	}
	d := dirs[key]
	if d == "" {
		return "", fmt.Errorf("hack/peer-tools.sh env printed no %s", key)
	}
	if _, err := os.Stat(filepath.Join(d, ".complete")); err != nil {
		return "", fmt.Errorf("%s is not built (run: hack/peer-tools.sh build %s)", tool, tool)
	}
	return d, nil
}

// Require returns the path of binary (e.g. "kubeseal") from tool's
// directory. When it is missing the test is skipped, or failed when
// KUBECTL_GITOPS_REQUIRE_CLUSTER is set.
func Require(t testing.TB, tool, binary string) string {
	t.Helper()
	d, err := Dir(tool)
	if err == nil {
		p := filepath.Join(d, binary)
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("real %s not available: %v", binary, err)
	if os.Getenv("KUBECTL_GITOPS_REQUIRE_CLUSTER") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
