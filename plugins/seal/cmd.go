package seal

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
		Use:   "seal",
		Short: "Encrypt Secrets for Git with Sealed Secrets or SOPS, and scan for plaintext",
		Long: `Encrypt Secrets for Git in the formats the real tools read: Sealed Secrets (kubeseal, the
sealed-secrets controller) and SOPS with age (sops, Flux). Scan a repository for plaintext
secrets; re-encrypt, rotate and recover.`,
		Example: "  " + env.Name + " --help\n  " + env.Name + " version -o json",
	}
}
