// Command kubectl-gitops dispatches `kubectl gitops VERB` to the sibling
// binary kubectl-gitops-VERB.
package main

import (
	"os"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/dispatch"
)

func main() { os.Exit(dispatch.Main(os.Args)) }
