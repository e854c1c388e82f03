package promote

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
		Use:   "promote",
		Short: "Promote versions between environments through Git commits",
		Long: `Promote application versions between environments (dev → staging → prod) by Git commits:
automatic for low-risk stages, approval-gated through a pull request for production, gated on
live health, with history and rollback.`,
		Example: "  " + env.Name + " --help\n  " + env.Name + " version -o json",
	}
}
