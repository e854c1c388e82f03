package drift

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const binaryHelperEnv = "KUBECTL_GITOPS_DRIFT_BINARY_HELPER"

// TestDriftBinaryHelperProcess is TestInterruptRemovesDriftBinary's child:
// it builds the shared drift binary, prints its path and waits to be
// interrupted.
func TestDriftBinaryHelperProcess(t *testing.T) {
	if os.Getenv(binaryHelperEnv) != "1" {
		t.Skip("helper process for TestInterruptRemovesDriftBinary")
	}
	if _, err := os.Stdout.WriteString(driftBinary(t) + "\n"); err != nil {
		t.Fatal(err)
	}
	select {}
}

// TestInterruptRemovesDriftBinary: a drift test binary interrupted (Ctrl-C
// on go test) mid-test exits 130 and leaves no drift binary it built in the
// temporary directory: controlplane.RunTests, which exits itself on
// SIGINT, runs the package's cleanup first.
func TestInterruptRemovesDriftBinary(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestDriftBinaryHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), binaryHelperEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	bin := strings.TrimSpace(line)
	if err != nil || !filepath.IsAbs(bin) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper printed no binary path (%q): %v\n%s", line, err, stderr.String())
	}
	if _, err := os.Stat(bin); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the helper's binary: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("helper ended with %v, want exit 130\n%s", err, stderr.String())
	}
	// bin is <dir>/<n>/kubectl-gitops-drift: the whole <dir> goes.
	dir := filepath.Dir(filepath.Dir(bin))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s left behind after SIGINT (stat: %v)", dir, err)
		_ = os.RemoveAll(dir)
	}
}
