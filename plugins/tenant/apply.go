package tenant

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// FieldManager is the server-side apply field manager of `tenant apply`.
const FieldManager = "kubectl-gitops-tenant"

// applyOptions are the options of `tenant apply`.
type applyOptions struct {
	env            *cli.Env
	dir            *string
	names          []string
	dryRun         bool
	forceConflicts bool
}

func newApplyCmd(env *cli.Env, dir *string) *cobra.Command {
	o := &applyOptions{env: env, dir: dir}
	cmd := &cobra.Command{
		Use:   "apply NAME...",
		Short: "Server-side apply a tenant's directory, namespaces first (bootstrapping without an operator)",
		Long: `Server-side apply the objects of DIR/NAME (its kustomization) to the cluster: Namespaces
first, then built-in kinds, then the Argo CD and Flux objects. For bootstrapping a cluster
before a GitOps operator takes over; normally the operator applies the directory.

With --dry-run the server validates every object without persisting it; objects in a
namespace that does not exist yet cannot be checked and are reported as such.`,
		Example: fmt.Sprintf(`  %[1]s apply team-a
  %[1]s apply team-a team-b --dry-run --context prod`, env.Name),
		Args: cobra.MinimumNArgs(1),
		RunE: cli.RunE(o),
	}
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "Server-side dry run: validate every object, persist nothing")
	cmd.Flags().BoolVar(&o.forceConflicts, "force-conflicts", false, "Take over fields owned by another field manager")
	return cmd
}

// Complete takes the tenants' names.
func (o *applyOptions) Complete(_ context.Context, _ *cobra.Command, args []string) error {
	o.names = args
	return nil
}

// Validate checks the flags.
func (o *applyOptions) Validate() error {
	return nil
}

// Run applies the tenants' objects, Namespaces first.
func (o *applyOptions) Run(ctx context.Context) error {
	tenants, err := loadDir(*o.dir)
	if err != nil {
		return err
	}
	dirs := map[string]string{}
	for _, name := range o.names {
		t, _, err := findTenant(tenants, name, *o.dir)
		if err != nil {
			return err
		}
		dirs[name] = filepath.Join(*o.dir, filepath.FromSlash(t.Dir()))
	}
	cfg, err := o.env.ConfigFlags.ToRESTConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	client, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	var objs []*unstructured.Unstructured
	for _, name := range o.names {
		set, err := manifest.Load(ctx, manifest.Options{Kustomize: dirs[name]})
		if err != nil {
			return fmt.Errorf("reading tenant %s: %w", name, err)
		}
		for _, obj := range set.Objects {
			objs = append(objs, obj.Obj)
		}
	}
	return applyObjects(ctx, o.env, client, objs, o.dryRun, o.forceConflicts)
}

func applyObjects(ctx context.Context, env *cli.Env, client *cluster.Client, objs []*unstructured.Unstructured, dryRun, force bool) error {
	sort.SliceStable(objs, func(i, j int) bool { return kindOrder(objs[i]) < kindOrder(objs[j]) })
	suffix := ""
	if dryRun {
		suffix = " (server dry run)"
	}
	pending := map[string]bool{} // namespaces only created in this dry run
	var failed int
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		ref := describe(gvk, o.GetNamespace(), o.GetName())
		m, err := client.Mapping(ctx, gvk)
		if err != nil {
			if errors.Is(err, cluster.ErrKindNotServed) {
				err = fmt.Errorf("%w (is its operator's CRD installed?)", err)
			}
			fmt.Fprintf(env.Streams.ErrOut, "error: %s: %v\n", ref, err)
			failed++
			continue
		}
		if dryRun && gvk.Kind == "Namespace" && gvk.Group == "" {
			if _, err := client.Get(ctx, m, "", o.GetName()); apierrors.IsNotFound(err) {
				pending[o.GetName()] = true
			}
		}
		_, err = client.Apply(ctx, m, o, cluster.ApplyOptions{FieldManager: FieldManager, Force: force, DryRun: dryRun})
		switch {
		case err == nil:
			fmt.Fprintf(env.Streams.Out, "%s serverside-applied%s\n", ref, suffix)
		case dryRun && pending[o.GetNamespace()] && apierrors.IsNotFound(err):
			fmt.Fprintf(env.Streams.Out, "%s not checked: namespace %s does not exist yet%s\n", ref, o.GetNamespace(), suffix)
		default:
			fmt.Fprintf(env.Streams.ErrOut, "%s\n", cli.FormatError(fmt.Errorf("applying %s: %w", ref, err)))
			failed++
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d object(s) could not be applied (see above)", failed, len(objs))
	}
	return nil
}

func describe(gvk schema.GroupVersionKind, ns, name string) string {
	kind := gvk.Kind
	if gvk.Group != "" {
		kind += "." + gvk.Group
	}
	if ns != "" {
		return fmt.Sprintf("%s %s/%s", kind, ns, name)
	}
	return fmt.Sprintf("%s %s", kind, name)
}
