package controlplane

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Environment variables that override where binaries and CRDs are found.
const (
	EnvBinDir = "KUBECTL_GITOPS_K8S_BIN"
	EnvCRDDir = "KUBECTL_GITOPS_CRDS"
	// EnvRequire makes a missing control plane fail the tests instead of
	// skipping them; `make test` and CI set it.
	EnvRequire = "KUBECTL_GITOPS_REQUIRE_CLUSTER"
)

// ErrNotBuilt reports that the control-plane binaries are not in the cache.
var ErrNotBuilt = errors.New("control-plane binaries are not built")

// Paths says where the control-plane binaries and CRDs are.
type Paths struct {
	BinDir string
	CRDDir string
}

// Locate finds the cached binaries and CRDs, asking hack/control-plane.sh for
// their cache paths unless the environment names them. It never builds: it
// returns ErrNotBuilt when something is missing.
func Locate(ctx context.Context) (Paths, error) {
	p := Paths{BinDir: os.Getenv(EnvBinDir), CRDDir: os.Getenv(EnvCRDDir)}
	if p.BinDir == "" || p.CRDDir == "" {
		script, err := findScript()
		if err != nil {
			return p, err
		}
		out, err := exec.CommandContext(ctx, "bash", script, "env").Output()
		if err != nil {
			return p, fmt.Errorf("running %s env: %w", script, err)
		}
		vals := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				vals[k] = v
			}
		}
		if p.BinDir == "" {
			p.BinDir = vals[EnvBinDir]
		}
		if p.CRDDir == "" {
			p.CRDDir = vals[EnvCRDDir]
		}
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"} {
		if _, err := os.Stat(filepath.Join(p.BinDir, b)); err != nil {
			return p, fmt.Errorf("%w: %s missing in %s (run 'make control-plane' or 'hack/control-plane.sh build')", ErrNotBuilt, b, p.BinDir)
		}
	}
	if _, err := os.Stat(filepath.Join(p.CRDDir, ".complete")); err != nil {
		return p, fmt.Errorf("%w: CRDs missing in %s (run 'hack/control-plane.sh crds')", ErrNotBuilt, p.CRDDir)
	}
	return p, nil
}

// findScript walks up from the working directory to hack/control-plane.sh.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding hack/control-plane.sh: %w", err)
	}
	for {
		p := filepath.Join(dir, "hack", "control-plane.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("finding hack/control-plane.sh: not found above the working directory (set %s and %s)", EnvBinDir, EnvCRDDir)
		}
		dir = parent
	}
}
