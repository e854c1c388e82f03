package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// binDir holds the freshly built kubectl-gitops binaries.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kubectl-gitops-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"../../cmd/kubectl-gitops", "../../cmd/kubectl-gitops-drift", "../../cmd/kubectl-gitops-promote",
		"../../cmd/kubectl-gitops-tenant", "../../cmd/kubectl-gitops-seal", "../../cmd/kubectl-gitops-repo")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building binaries: %v\n%s", err, out)
		return 1
	}
	// Cleanup: also when interrupted, where RunTests exits itself.
	return controlplane.RunTests(m, controlplane.Options{Cleanup: func() { _ = os.RemoveAll(dir) }})
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs name with args, PATH set to path (plus the system's for sh etc.)
// and KUBECONFIG to the test control plane's.
func run(t *testing.T, cp *controlplane.ControlPlane, path []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(),
		"PATH="+strings.Join(append(path, "/usr/bin", "/bin"), string(os.PathListSeparator)),
		"KUBECONFIG="+cp.Kubeconfig,
		"HOME="+t.TempDir(),
		"NO_COLOR=1",
	)
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", name, err)
	}
	return result{code, stdout.String(), stderr.String()}
}
