// Command kubectl-gitops-drift is the `kubectl gitops drift` plugin.
package main

import (
	"os"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/drift"
)

func main() { os.Exit(drift.Main(os.Args)) }
