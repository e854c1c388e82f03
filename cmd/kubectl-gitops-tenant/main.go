// Command kubectl-gitops-tenant is the `kubectl gitops tenant` plugin.
package main

import (
	"os"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/tenant"
)

func main() { os.Exit(tenant.Main(os.Args)) }
