// Command gitops-multicall is the single-binary form of the suite for
// hosts that install one executable (Flux's plugin installer puts exactly one
// flux-gitops in ~/.fluxcd/plugins): the dispatcher with every verb compiled
// in. It runs the verb its name selects (a copy or symlink named
// kubectl-gitops-drift, flux-gitops-drift, …), else the verb given as its
// first argument. `make multicall` builds it as bin/multicall/kubectl-gitops;
// krew keeps the per-verb binaries.
package main

import (
	"os"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/dispatch"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/drift"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/promote"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/repo"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/seal"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/tenant"
)

func main() {
	jsonneteval.Worker() // the jsonnet evaluator, when started as one
	os.Exit(dispatch.MainWith(os.Args, map[string]func([]string) int{
		"drift":   drift.Main,
		"promote": promote.Main,
		"repo":    repo.Main,
		"seal":    seal.Main,
		"tenant":  tenant.Main,
	}))
}
