// Command kubectl-gitops-seal is the `kubectl gitops seal` plugin.
package main

import (
	"os"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/seal"
)

func main() { os.Exit(seal.Main(os.Args)) }
