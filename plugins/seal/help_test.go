package seal

import (
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
)

// TestHelpText holds the --help text of every seal command to a golden file,
// byte for byte (go test -run TestHelpText -update rewrites it).
func TestHelpText(t *testing.T) {
	clitest.HelpGolden(t, "kubectl-gitops-seal", NewCmd, "testdata/help.golden")
}
