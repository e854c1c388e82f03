package tenant

import (
	"flag"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli/clitest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestHelpText holds the --help text of every tenant command to a golden file,
// byte for byte (go test -run TestHelpText -update rewrites it).
func TestHelpText(t *testing.T) {
	clitest.HelpGolden(t, "kubectl-gitops-tenant", NewCmd, "testdata/help.golden", *update)
}
