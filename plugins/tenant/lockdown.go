package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// lockdownOptions are the options of `tenant lockdown`.
type lockdownOptions struct {
	env    *cli.Env
	dir    string
	dryRun bool
}

func newLockdownCmd(env *cli.Env) *cobra.Command {
	o := &lockdownOptions{env: env}
	cmd := &cobra.Command{
		Use:   "lockdown [FLUX_SYSTEM_DIR]",
		Short: "Add Flux's multi-tenancy lockdown patches to the flux-system kustomization",
		Long: `Add to FLUX_SYSTEM_DIR/kustomization.yaml (clusters/<env>/flux-system, as flux bootstrap
writes it) the patches of Flux's multi-tenancy reference (fluxcd/flux2-multi-tenancy) that lock
the controllers down for tenants:

  --no-cross-namespace-refs=true     kustomize-, helm-, notification-, image-reflector- and
                                     image-automation-controller
  --no-remote-bases=true             kustomize-controller
  --default-service-account=default  kustomize- and helm-controller
  spec.serviceAccountName: kustomize-controller on the flux-system Kustomization, which
                                     would otherwise run as "default" too

The file is edited in place (comments and other entries kept); a patch that already adds the
same value is not added again. Without FLUX_SYSTEM_DIR the patches are printed, to be added by
hand. 'tenant verify' checks the kustomize-controller flags on the cluster.`,
		Example: fmt.Sprintf(`  %[1]s lockdown clusters/staging/flux-system
  %[1]s lockdown clusters/staging/flux-system --dry-run
  %[1]s lockdown                                # print the patches`, env.Name),
		Args: cobra.MaximumNArgs(1),
		RunE: cli.RunE(o),
	}
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "List the patches that would be added; write nothing")
	return cmd
}

// Complete takes FLUX_SYSTEM_DIR, if given.
func (o *lockdownOptions) Complete(_ context.Context, _ *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.dir = args[0]
	}
	return nil
}

// Validate checks the flags.
func (o *lockdownOptions) Validate() error {
	return nil
}

// Run prints the patches, or adds them to the kustomization.
func (o *lockdownOptions) Run(context.Context) error {
	if o.dir == "" {
		data, err := tenancy.LockdownSnippet()
		if err != nil {
			return err
		}
		_, err = o.env.Streams.Out.Write(data)
		return err
	}
	p := o.dir
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		p = filepath.Join(p, tenancy.FileKustomization)
	}
	old, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return cli.Usagef("no flux-system kustomization at %s (give the directory flux bootstrap wrote, e.g. clusters/staging/flux-system)", p)
	}
	if err != nil {
		return fmt.Errorf("reading flux-system kustomization: %w", err)
	}
	data, added, err := tenancy.EditLockdown(old)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if len(added) == 0 {
		fmt.Fprintf(o.env.Streams.Out, "%s is locked down already\n", p)
		return nil
	}
	suffix := ""
	if o.dryRun {
		suffix = " (dry run)"
	}
	for _, a := range added {
		fmt.Fprintf(o.env.Streams.Out, "%s: added patch %s %s to %s %s%s\n", p, a.Path, a.Value, a.Kind, a.Name, suffix)
	}
	if o.dryRun {
		return nil
	}
	return writeAtomic(p, data)
}
