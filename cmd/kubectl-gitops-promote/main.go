// Command kubectl-gitops-promote is the `kubectl gitops promote` plugin.
package main

import (
	"os"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/promote"
)

func main() {
	jsonneteval.Worker() // the jsonnet evaluator, when started as one
	os.Exit(promote.Main(os.Args))
}
