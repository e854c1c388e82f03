package lite_test

import (
	"os"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, controlplane.Options{}))
}
