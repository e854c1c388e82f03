package seal

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, controlplane.Options{ControllerManager: true, CRDs: true}))
}

// canary is a secret value: it may appear only where plaintext was asked for.
const canary = "canary-s3cr3t-Zq8v"

type result struct {
	code           int
	stdout, stderr string
}

// runSeal runs the plugin in-process; with cp it targets the test cluster,
// without it, no cluster at all.
func runSeal(t *testing.T, cp *controlplane.ControlPlane, stdin string, args ...string) result {
	t.Helper()
	kc := os.DevNull
	if cp != nil {
		kc = cp.Kubeconfig
	}
	r := clitest.Run(t, NewCmd, clitest.Options{Binary: "kubectl-gitops-seal", Kubeconfig: kc, Stdin: strings.NewReader(stdin)}, args...)
	return result{r.Code, r.Stdout, r.Stderr}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestReadInputTooLarge: input over the bound is refused, not truncated
// (a truncated file would be encrypted in place).
func TestReadInputTooLarge(t *testing.T) {
	for _, tt := range []struct {
		size    int64
		wantErr bool
	}{{maxInput, false}, {maxInput + 1, true}} {
		b, err := readInput(context.Background(), "-", io.LimitReader(zeros{}, tt.size))
		if (err != nil) != tt.wantErr {
			t.Errorf("size %d: error %v, want error %v", tt.size, err, tt.wantErr)
		}
		if err == nil && int64(len(b)) != tt.size {
			t.Errorf("size %d: read %d bytes", tt.size, len(b))
		}
	}
}
