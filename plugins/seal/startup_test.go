package seal

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestStartupInitWork guards the start-up cost of one seal call, which
// scripts pay once per Secret: the seal path's own packages must not do
// work at package initialisation (compiling regular expressions, building
// tables) that most calls never use. It reads the Go runtime's own account
// (GODEBUG=inittrace=1) of the built binary, in bytes allocated, not time.
func TestStartupInitWork(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "kubectl-gitops-seal")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kubectl-gitops-seal").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--help")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("seal --help: %v\n%s", err, out)
	}
	const budget = 4 << 10 // bytes allocated by one package's init
	re := regexp.MustCompile(`(?m)^init (github\.com/kubectl-gitops/kubectl-gitops/(?:plugins/seal|pkg/sealing|pkg/sopsfile|pkg/secretscan)) @.*, (\d+) bytes, (\d+) allocs$`)
	ms := re.FindAllStringSubmatch(string(out), -1)
	if len(ms) == 0 && !regexp.MustCompile(`(?m)^init `).Match(out) {
		t.Fatalf("no inittrace output: the check cannot run\n%s", out)
	}
	for _, m := range ms {
		if n, _ := strconv.Atoi(m[2]); n > budget {
			t.Errorf("init of %s allocates %s bytes (%s allocs); want at most %d: compile or build it on first use", m[1], m[2], m[3], budget)
		}
	}
}
