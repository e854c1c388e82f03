// Command kubectl-gitops-repo is the `kubectl gitops repo` plugin.
package main

import (
	"os"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/repo"
)

func main() { os.Exit(repo.Main(os.Args)) }
