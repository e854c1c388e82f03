package tenant

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// CreateOptions are the options of `tenant create`.
type CreateOptions struct {
	env *cli.Env
	dir *string

	Name             string
	Namespaces       []string
	AdminGroups      []string
	AdminUsers       []string
	Operator         string
	Repos            []string
	Quota            map[string]string
	Limits           map[string]string
	PodSecurity      string
	IngressNamespace string
	AllowResources   []string
	ReconcilerSA     string
	ArgoCDNamespace  string
	FluxBranch       string
	FluxPath         string
	FluxInterval     string
	Envs             []string
	Cluster          string
	Output           cli.OutputFlag
	DryRun           bool
	Force            bool

	tenant *tenancy.Tenant
	others []*tenancy.Tenant
	claims []tenancy.Claim
}

func newCreateCmd(env *cli.Env, dir *string) *cobra.Command {
	o := &CreateOptions{env: env, dir: dir, Output: cli.NewOutputFlag(outputText, outputText, outputYAML, outputJSON), Operator: string(tenancy.OperatorNone), PodSecurity: tenancy.PodSecurityRestricted}
	cmd := &cobra.Command{
		Use:   "create NAME --namespace NS... (--admin-group G... | --admin-user U...)",
		Short: "Generate one tenant into the tenants directory",
		Long: `Generate one hardened tenant into DIR/NAME (see 'render' for many tenants from a file):
Namespaces with Pod Security labels, RoleBindings of the owners to the 'admin' ClusterRole,
a reconciler ServiceAccount with a namespace-scoped Role, ResourceQuota, LimitRange,
default-deny NetworkPolicies with same-tenant and DNS exceptions, and, with --operator,
an Argo CD AppProject and/or Flux GitRepository and Kustomization.

Namespaces of other tenants cannot be reused: those of DIR (tenant.yaml, or the
kubectl-gitops.io/tenant or toolkit.fluxcd.io/tenant label of a Namespace manifest in a
tenant directory written by another tool) and, when a kubeconfig is configured, those whose
live Namespace carries either label with another tenant's name. With -o yaml or -o json the objects are
printed and nothing is written; --dry-run lists the files that would change.`,
		Example: fmt.Sprintf(`  # A tenant with two namespaces, reconciled by Argo CD and Flux
  %[1]s create team-a -n team-a -n team-a-staging --admin-group team-a-admins \
      --operator both --repo https://github.com/example/team-a.git

  # Custom quota and the baseline Pod Security level; print instead of writing
  %[1]s create team-b -n team-b --admin-user bob --quota requests.cpu=8,requests.memory=16Gi,pods=50 \
      --pod-security baseline -o yaml

  # Flux's multi-tenancy layout: tenants/base/dev-team, tenants/staging and tenants/production
  # overlays reconciling ./staging and ./production of the tenant's repository
  %[1]s create dev-team -n apps --admin-group dev-team --operator flux \
      --repo https://github.com/example/dev-team.git --envs staging,production

  # Let an ingress controller reach the tenant's pods
  %[1]s create team-c -n team-c --admin-group c --ingress-namespace ingress-nginx`, env.Name),
		Args: cobra.ExactArgs(1),
		RunE: cli.RunE(o),
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.Namespaces, "namespace", "n", nil, "Namespace of the tenant (repeatable; required)")
	f.StringSliceVar(&o.AdminGroups, "admin-group", nil, "Group bound to 'admin' in every namespace and to the AppProject's owner role (repeatable)")
	f.StringSliceVar(&o.AdminUsers, "admin-user", nil, "User bound to 'admin' in every namespace (repeatable)")
	f.StringVar(&o.Operator, "operator", o.Operator, "GitOps operator: none, argocd, flux or both")
	f.StringSliceVar(&o.Repos, "repo", nil, "Git repository the tenant deploys from (repeatable; Flux uses the first)")
	f.StringToStringVar(&o.Quota, "quota", nil, "ResourceQuota per namespace, e.g. requests.cpu=8,requests.memory=16Gi,pods=50 (replaces the default)")
	f.StringToStringVar(&o.Limits, "limit", nil, "LimitRange per container, e.g. default.cpu=500m,defaultRequest.memory=128Mi,max.memory=2Gi")
	f.StringVar(&o.PodSecurity, "pod-security", o.PodSecurity, "Pod Security level enforced: restricted or baseline")
	f.StringVar(&o.IngressNamespace, "ingress-namespace", "", "Namespace (of an ingress controller) allowed to connect to the tenant's pods")
	f.StringSliceVar(&o.AllowResources, "allow-resource", nil, "Extra namespaced resource the reconciler may manage, as resource.group (repeatable)")
	f.StringVar(&o.ReconcilerSA, "reconciler-service-account", "", "Name of the reconciler's ServiceAccount, Role and RoleBinding (default "+tenancy.ReconcilerName+"; e.g. the tenant's name, as in Flux's multi-tenancy layout)")
	f.StringVar(&o.ArgoCDNamespace, "argocd-namespace", tenancy.DefaultArgoCDNamespace, "Namespace of Argo CD, where the AppProject goes")
	f.StringVar(&o.FluxBranch, "flux-branch", tenancy.DefaultFluxBranch, "Branch of the tenant repository Flux follows")
	f.StringVar(&o.FluxPath, "flux-path", "", "Path in the repository (default ./ for one namespace, ./<namespace> for several)")
	f.StringVar(&o.FluxInterval, "flux-interval", tenancy.DefaultFluxInterval, "Flux reconciliation interval")
	f.StringSliceVar(&o.Envs, "envs", nil, "Environments (e.g. staging,production): write DIR/base/NAME and an overlay DIR/<env> per environment patching the Flux Kustomization's path to ./<env>, as Flux's multi-tenancy layout does (needs --operator flux or both)")
	f.StringVar(&o.Cluster, "cluster", "", clusterFlagUsage)
	o.Output.AddFlag(cmd, f, "Print the objects as yaml or json instead of writing files")
	f.BoolVar(&o.DryRun, "dry-run", false, "List the files that would be written; write nothing")
	f.BoolVar(&o.Force, "force", false, "Overwrite generated files that were edited by hand")
	ops := make([]string, len(tenancy.Operators))
	for i, op := range tenancy.Operators {
		ops[i] = string(op)
	}
	_ = cmd.RegisterFlagCompletionFunc("operator", cobra.FixedCompletions(ops, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("pod-security", cobra.FixedCompletions([]string{"restricted", "baseline"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete builds the tenant from the flags and reads the other tenants.
// A namespace already given to another tenant, in the tenants directory
// (tenant.yaml, or the tenant label of a Namespace manifest in a directory
// this tool did not write) or on the cluster of the kubeconfig (the tenant
// label of the live Namespace), cannot be taken.
func (o *CreateOptions) Complete(ctx context.Context, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	t := &tenancy.Tenant{
		Name: o.Name, Namespaces: o.Namespaces,
		Owners:   tenancy.Owners{Users: o.AdminUsers, Groups: o.AdminGroups},
		Operator: tenancy.Operator(o.Operator), Repos: o.Repos, Quota: o.Quota,
		PodSecurity: o.PodSecurity, IngressNamespace: o.IngressNamespace, ExtraResources: o.AllowResources,
		ReconcilerServiceAccount: o.ReconcilerSA,
		ArgoCD:                   tenancy.ArgoCDSettings{Namespace: o.ArgoCDNamespace},
		Flux: tenancy.FluxSettings{Branch: o.FluxBranch, Path: o.FluxPath, Interval: o.FluxInterval,
			Environments: o.Envs},
	}
	if len(o.Limits) > 0 {
		l := &tenancy.Limits{}
		for k, v := range o.Limits {
			section, res, ok := strings.Cut(k, ".")
			var m *map[string]string
			switch section {
			case "default":
				m = &l.Default
			case "defaultRequest":
				m = &l.DefaultRequest
			case "max":
				m = &l.Max
			case "min":
				m = &l.Min
			}
			if !ok || m == nil || res == "" {
				return cli.Usagef("--limit %s: want default|defaultRequest|max|min.RESOURCE=QUANTITY, e.g. default.cpu=500m", k)
			}
			if *m == nil {
				*m = map[string]string{}
			}
			(*m)[res] = v
		}
		t.Limits = l
	}
	o.tenant = t
	all, err := loadDir(*o.dir)
	if err != nil {
		return err
	}
	for _, other := range all {
		if other.Name != o.Name {
			o.others = append(o.others, other)
		}
	}
	if o.claims, err = dirClaims(*o.dir); err != nil {
		return err
	}
	client, err := liveClient(o.env)
	if err != nil {
		return err
	}
	if client != nil {
		live, err := liveNamespaceClaims(ctx, client, o.Namespaces)
		if err != nil {
			return fmt.Errorf("checking namespace ownership on the cluster (give --kubeconfig /dev/null to work offline): %w", err)
		}
		o.claims = append(o.claims, live...)
	}
	return nil
}

// Validate checks the flags and the tenant against the others.
func (o *CreateOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if err := tenancy.Validate(append(append([]*tenancy.Tenant{}, o.others...), o.tenant)); err != nil {
		return flagErrors(err)
	}
	if err := tenancy.CheckClaims(o.tenant, o.claims); err != nil {
		return flagErrors(err)
	}
	return nil
}

// Run prints or writes the tenant.
func (o *CreateOptions) Run(context.Context) error {
	if o.Output.Format != outputText {
		groups, err := tenancy.Generate(o.tenant)
		if err != nil {
			return err
		}
		return printObjects(o.env, tenancy.Objects(groups), o.Output.Format)
	}
	w := &writer{root: *o.dir, force: o.Force, dryRun: o.DryRun, out: o.env.Streams.Out}
	if err := w.checkWire(o.Cluster, []*tenancy.Tenant{o.tenant}); err != nil {
		return err
	}
	if err := w.writeTenants([]*tenancy.Tenant{o.tenant}); err != nil {
		return err
	}
	if o.Cluster != "" {
		if err := w.wire(o.Cluster, []*tenancy.Tenant{o.tenant}); err != nil {
			return err
		}
	}
	w.summary()
	return nil
}

const clusterFlagUsage = "Cluster directory (e.g. clusters/staging) to wire the tenants into: its tenants.yaml Flux Kustomization (with a flux-system directory) or an entry of its kustomization.yaml; else print what to add"

// renderOptions are the options of `tenant render`.
type renderOptions struct {
	env        *cli.Env
	dir        *string
	filename   string
	clusterDir string
	dryRun     bool
	force      bool
}

func newRenderCmd(env *cli.Env, dir *string) *cobra.Command {
	o := &renderOptions{env: env, dir: dir}
	cmd := &cobra.Command{
		Use:   "render -f tenants.yaml",
		Short: "Generate every tenant of a tenants.yaml file",
		Long: `Generate every tenant of a declarative tenants.yaml file into the tenants directory,
one directory per tenant, and list them in DIR/kustomization.yaml. The render is
idempotent: a second run changes no byte. Errors name the file, line and field.

The file format (docs/tenancy.md has every field):

  apiVersion: kubectl-gitops.io/v1alpha1
  kind: Tenants
  tenants:
  - name: team-a
    namespaces: [team-a, team-a-staging]
    owners: {groups: [team-a-admins], users: [alice]}
    operator: both                   # none, argocd, flux, both
    repos: [https://github.com/example/team-a.git]
    quota: {requests.cpu: "8", requests.memory: 16Gi, pods: "50"}
    limits: {default: {cpu: 500m, memory: 512Mi}, defaultRequest: {cpu: 100m, memory: 128Mi}}
    podSecurity: restricted          # or baseline
    ingressNamespace: ingress-nginx
    extraResources: [servicemonitors.monitoring.coreos.com]
    argocd: {namespace: argocd}
    flux: {branch: main, interval: 5m}`,
		Example: fmt.Sprintf(`  %[1]s render -f tenants.yaml
  %[1]s render -f tenants.yaml --dir clusters/prod/tenants --dry-run`, env.Name),
		Args: cobra.NoArgs,
		RunE: cli.RunE(o),
	}
	cmd.Flags().StringVarP(&o.filename, "filename", "f", "", "The tenants.yaml file")
	cmd.Flags().StringVar(&o.clusterDir, "cluster", "", clusterFlagUsage)
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "List the files that would be written; write nothing")
	cmd.Flags().BoolVar(&o.force, "force", false, "Overwrite generated files that were edited by hand")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml")
	return cmd
}

// Complete has nothing to resolve.
func (o *renderOptions) Complete(context.Context, *cobra.Command, []string) error { return nil }

// Validate checks the flags.
func (o *renderOptions) Validate() error {
	if o.filename == "" {
		return cli.Usagef("must specify -f tenants.yaml")
	}
	return nil
}

// Run writes every tenant of the file.
func (o *renderOptions) Run(context.Context) error {
	if o.filename == "" {
		return cli.Usagef("must specify -f tenants.yaml")
	}
	tenants, err := readTenantsFile(o.filename)
	if err != nil {
		return err
	}
	// Tenants already in the directory but not in the file must not
	// overlap either.
	existing, err := loadDir(*o.dir)
	if err != nil {
		return err
	}
	inFile := map[string]bool{}
	for _, t := range tenants {
		inFile[t.Name] = true
	}
	all := append([]*tenancy.Tenant{}, tenants...)
	for _, t := range existing {
		if !inFile[t.Name] {
			all = append(all, t)
		}
	}
	if err := tenancy.Validate(all); err != nil {
		return specErrors(err)
	}
	w := &writer{root: *o.dir, force: o.force, dryRun: o.dryRun, out: o.env.Streams.Out}
	if err := w.checkWire(o.clusterDir, tenants); err != nil {
		return err
	}
	if err := w.writeTenants(tenants); err != nil {
		return err
	}
	if o.clusterDir != "" {
		if err := w.wire(o.clusterDir, tenants); err != nil {
			return err
		}
	}
	w.summary()
	return nil
}

func readTenantsFile(name string) ([]*tenancy.Tenant, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading tenants file: %w", err)
	}
	tenants, err := tenancy.Parse(name, data)
	if err != nil {
		return nil, specErrors(err)
	}
	return tenants, nil
}

// deleteOptions are the options of `tenant delete`.
type deleteOptions struct {
	env    *cli.Env
	dir    *string
	name   string
	dryRun bool
	force  bool
}

func newDeleteCmd(env *cli.Env, dir *string) *cobra.Command {
	o := &deleteOptions{env: env, dir: dir}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Remove a tenant's directory and its entry in the tenants kustomization",
		Long: `Remove DIR/NAME and its entry in DIR/kustomization.yaml. Nothing is deleted from the
cluster: once the change is merged, the GitOps operator prunes the tenant's objects.`,
		Example: fmt.Sprintf(`  %[1]s delete team-a
  %[1]s delete team-a --dry-run`, env.Name),
		Args: cobra.ExactArgs(1),
		RunE: cli.RunE(o),
	}
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "List what would be removed; remove nothing")
	cmd.Flags().BoolVar(&o.force, "force", false, "Also remove files in the tenant's directory that were edited or added by hand")
	return cmd
}

// Complete takes the tenant's name.
func (o *deleteOptions) Complete(_ context.Context, _ *cobra.Command, args []string) error {
	o.name = args[0]
	return nil
}

// Validate checks the flags.
func (o *deleteOptions) Validate() error {
	return nil
}

// Run removes the tenant.
func (o *deleteOptions) Run(context.Context) error {
	tenants, err := loadDir(*o.dir)
	if err != nil {
		return err
	}
	t, _, err := findTenant(tenants, o.name, *o.dir)
	if err != nil {
		return err
	}
	w := &writer{root: *o.dir, force: o.force, dryRun: o.dryRun, out: o.env.Streams.Out}
	if err := w.deleteTenant(t); err != nil {
		return err
	}
	w.summary()
	return nil
}
