package seal

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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

// TestSealBinaryLinksNoClientsetOrScheme guards the other half of a seal
// call's start-up: package initialisation of what the binary links. client-go's
// typed clientset, its scheme (every built-in kind registered at init: a
// fifth of a seal call) and discovery (which imports that scheme) must not
// come back, through pkg/cluster, the CLI plumbing or the kubeconfig flags.
// It reads `go list -deps` of the binary's main package, and checks that
// the listing holds what it must (seal itself and client-go's rest), so it
// cannot pass on an empty or failed listing.
func TestSealBinaryLinksNoClientsetOrScheme(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../cmd/kubectl-gitops-seal").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	for _, must := range []string{"github.com/kubectl-gitops/kubectl-gitops/plugins/seal", "k8s.io/client-go/rest"} {
		if !deps[must] {
			t.Fatalf("go list -deps does not list %s: the check cannot run\n%s", must, out)
		}
	}
	forbidden := []string{
		"k8s.io/client-go/kubernetes",                          // the typed clientset (and kubernetes/typed/...)
		"k8s.io/client-go/discovery",                           // imports kubernetes/scheme
		"k8s.io/client-go/restmapper",                          // discovery's
		"k8s.io/cli-runtime/pkg/resource",                      // imports kubernetes/scheme
		"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster", // its discovery; pkg/cluster/lite is the seal path's
	}
	for p := range deps {
		for _, f := range forbidden {
			if (p == f || strings.HasPrefix(p, f+"/")) && !strings.HasPrefix(p, "github.com/kubectl-gitops/kubectl-gitops/pkg/cluster/lite") {
				t.Errorf("the seal binary links %s (forbidden: %s)", p, f)
			}
		}
	}
}
