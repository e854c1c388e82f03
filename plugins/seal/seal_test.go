package seal

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
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
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	kc := os.DevNull
	if cp != nil {
		kc = cp.Kubeconfig
	}
	argv := append([]string{"kubectl-gitops-seal", "--kubeconfig", kc}, args...)
	code := cli.Run(context.Background(), argv, streams, NewCmd)
	return result{code, out.String(), errOut.String()}
}
