// Command kubectl-gitops-promote is the `kubectl gitops promote` plugin.
package main

import (
	"os"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/promote"
)

func main() { os.Exit(promote.Main(os.Args)) }
