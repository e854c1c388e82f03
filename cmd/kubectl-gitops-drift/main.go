// Command kubectl-gitops-drift is the `kubectl gitops drift` plugin.
package main

import (
	"os"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/drift"
)

func main() {
	jsonneteval.Worker() // the jsonnet evaluator, when started as one
	os.Exit(drift.Main(os.Args))
}
