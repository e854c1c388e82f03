package drift

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
		Use:   "drift",
		Short: "Compare the live cluster with the desired state in Git",
		Long: `Compare the live cluster with the desired state in Git: what differs, who changed it
(managedFields), what is missing or extraneous. Exits 0 when in sync, 1 when drift is found,
and 2 or more on errors, like 'kubectl diff'.`,
		Example: "  " + env.Name + " --help\n  " + env.Name + " version -o json",
	}
}
