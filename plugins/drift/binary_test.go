package drift

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The real kubectl-gitops-drift binary is built once per test binary and
// flag set (not once per test): the tests that run it share it. The
// directory is removed when the tests end or are interrupted (controlplane
// Options.Cleanup: removeDriftBinaries).
var (
	driftBinMu    sync.Mutex
	driftBinDir   string
	driftBinBuild = map[string]func() (string, error){}
	// driftBinRemoved: removeDriftBinaries ran; nothing more is built.
	driftBinRemoved bool
)

// driftBinary returns the path of the real kubectl-gitops-drift binary,
// built with env added to the go command's environment (e.g.
// "CGO_ENABLED=0"). Each distinct env is built once; the binary is alone in
// a directory of mode 0755 (it can be bind-mounted as /usr/local/bin).
// Tests must not modify it.
func driftBinary(t *testing.T, env ...string) string {
	t.Helper()
	key := strings.Join(env, " ")
	driftBinMu.Lock()
	build, ok := driftBinBuild[key]
	if !ok {
		sub := len(driftBinBuild)
		build = sync.OnceValues(func() (string, error) { return buildDriftBinary(sub, env) })
		driftBinBuild[key] = build
	}
	driftBinMu.Unlock()
	bin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// buildDriftBinary builds the binary into the sub-th directory of
// driftBinDir.
func buildDriftBinary(sub int, env []string) (string, error) {
	driftBinMu.Lock()
	if driftBinRemoved {
		driftBinMu.Unlock()
		return "", errors.New("the test binaries were removed: the tests are over")
	}
	if driftBinDir == "" {
		dir, err := os.MkdirTemp("", "kubectl-gitops-drift-test-")
		if err != nil {
			driftBinMu.Unlock()
			return "", err
		}
		driftBinDir = dir
	}
	root := driftBinDir
	driftBinMu.Unlock()
	dir := filepath.Join(root, strconv.Itoa(sub))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kubectl-gitops-drift")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/kubectl-gitops-drift")
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %v: %w\n%s", env, err, out)
	}
	return bin, nil
}

// removeDriftBinaries removes what driftBinary built (controlplane's
// Cleanup: also when the tests are interrupted). A build finishing later
// finds no directory: driftBinaries starts no new one.
func removeDriftBinaries() {
	driftBinMu.Lock()
	defer driftBinMu.Unlock()
	if driftBinDir != "" {
		_ = os.RemoveAll(driftBinDir)
	}
	driftBinRemoved = true
}
