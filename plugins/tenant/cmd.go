package tenant

import (
	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Main runs the plugin binary and returns its exit code.
func Main(argv []string) int {
	return cli.Main(argv, NewCmd)
}

// NewCmd builds the plugin's root command.
func NewCmd(env *cli.Env) *cobra.Command {
	return &cobra.Command{
		Use:   "tenant",
		Short: "Generate hardened multi-tenant GitOps manifests and verify isolation",
		Long: `Generate hardened multi-tenant manifests (namespaces, RBAC, quotas, NetworkPolicy, Pod
Security, Argo CD AppProject, Flux tenant) into a GitOps repository, and verify a tenant's
isolation against the live RBAC with SubjectAccessReview.`,
		Example: "  " + env.Name + " --help\n  " + env.Name + " version -o json",
	}
}
