package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// Lifecycle is what every command's options implement, as kubectl's do:
// Complete resolves inputs (flags, arguments, kubeconfig), Validate checks
// them without side effects and returns usage errors, Run does the work.
type Lifecycle interface {
	Complete(ctx context.Context, cmd *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// RunE adapts o to cobra's RunE: Complete, Validate and Run with the
// command's context (cancelled by SIGINT/SIGTERM), stopping at the first
// error.
func RunE(o Lifecycle) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if err := o.Complete(ctx, cmd, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(ctx)
	}
}
