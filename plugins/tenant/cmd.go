package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Main runs the plugin binary and returns its exit code.
func Main(argv []string) int {
	return cli.Main(argv, NewCmd)
}

// DefaultDir is the tenants directory of the GitOps repository.
const DefaultDir = "tenants"

// NewCmd builds the plugin's root command.
func NewCmd(env *cli.Env) *cobra.Command {
	dir := DefaultDir
	root := &cobra.Command{
		Use:   "tenant",
		Short: "Generate hardened multi-tenant GitOps manifests and verify isolation",
		Long: `Generate hardened multi-tenant manifests (namespaces with Pod Security, owner and reconciler
RBAC, quotas, NetworkPolicies, an Argo CD AppProject, Flux sources) into a GitOps repository,
one directory per tenant, and verify a tenant's isolation against the live cluster with
SubjectAccessReview.

The tenants directory (--dir, default ./tenants) holds one directory per tenant with a
kustomization.yaml, and a kustomization.yaml listing the tenants. Generated files carry a
checksum; a file edited by hand is not overwritten without --force.`,
		Example: fmt.Sprintf(`  # One tenant for Argo CD and Flux, written to ./tenants/team-a
  %[1]s create team-a -n team-a -n team-a-staging --admin-group team-a-admins \
      --operator both --repo https://github.com/example/team-a.git

  # Every tenant of a declarative file (idempotent)
  %[1]s render -f tenants.yaml

  # Prove that team-a is isolated on the live cluster
  %[1]s verify team-a`, env.Name),
	}
	root.PersistentFlags().StringVar(&dir, "dir", dir, "The tenants directory of the GitOps repository")
	_ = root.MarkPersistentFlagDirname("dir")
	root.AddCommand(
		newCreateCmd(env, &dir),
		newRenderCmd(env, &dir),
		newListCmd(env, &dir),
		newDeleteCmd(env, &dir),
		newApplyCmd(env, &dir),
		newVerifyCmd(env, &dir),
		newLockdownCmd(env),
	)
	return root
}

// flagOf maps a spec field of a tenant built from flags to its flag.
var flagOf = []struct{ field, flag string }{
	{"namespaces", "--namespace"},
	{"owners.users", "--admin-user"},
	{"owners.groups", "--admin-group"},
	{"owners", "--admin-group/--admin-user"},
	{"operator", "--operator"},
	{"repos", "--repo"},
	{"quota", "--quota"},
	{"limits", "--limit"},
	{"podSecurity", "--pod-security"},
	{"ingressNamespace", "--ingress-namespace"},
	{"extraResources", "--allow-resource"},
	{"reconcilerServiceAccount", "--reconciler-service-account"},
	{"argocd.namespace", "--argocd-namespace"},
	{"flux.branch", "--flux-branch"},
	{"flux.path", "--flux-path"},
	{"flux.interval", "--flux-interval"},
	{"flux.environments", "--envs"},
	{"name", "NAME"},
}

// flagErrors rewrites the field errors of a tenant built from flags in
// terms of the flags, as a usage error.
func flagErrors(err error) error {
	var list tenancy.ErrorList
	if !errors.As(err, &list) {
		return err
	}
	msgs := make([]string, 0, len(list))
	for _, e := range list {
		if e.File != "" {
			msgs = append(msgs, e.Error())
			continue
		}
		field := e.Field
		for _, m := range flagOf {
			if rest, ok := strings.CutPrefix(field, m.field); ok {
				if strings.HasPrefix(rest, "[") {
					_, rest, _ = strings.Cut(rest, "]")
				}
				field = m.flag + strings.Replace(rest, ".", " ", 1)
				break
			}
		}
		msgs = append(msgs, field+": "+e.Msg)
	}
	// A usage error is printed on one line.
	return &cli.UsageError{Err: errors.New(strings.Join(msgs, "; "))}
}

// specErrors reports the errors of a tenants file, one per line (exit 2).
func specErrors(err error) error {
	var list tenancy.ErrorList
	if errors.As(err, &list) && len(list) > 1 {
		return fmt.Errorf("%d errors in the tenant spec:\n%w", len(list), err)
	}
	return err
}

// outputs.
const (
	outputText = ""
	outputYAML = "yaml"
	outputJSON = "json"
	outputWide = "wide"
	outputName = "name"
)

// tenantSummary is a tenant as list prints it.
type tenantSummary struct {
	Name       string   `json:"name"`
	Namespaces []string `json:"namespaces"`
	Operator   string   `json:"operator"`
	Owners     []string `json:"owners"`
	Repos      []string `json:"repos,omitempty"`
	// Dir is the tenant's directory, for a tenant this tool wrote.
	Dir string `json:"dir,omitempty"`
	// Managed is false for a tenant this tool did not write, found in a
	// foreign tenant directory or on the cluster; Sources say where.
	Managed bool     `json:"managed"`
	Sources []string `json:"sources,omitempty"`
}

// listOptions are the options of `tenant list`.
type listOptions struct {
	env       *cli.Env
	dir       *string
	output    cli.OutputFlag
	noHeaders bool
}

func newListCmd(env *cli.Env, dir *string) *cobra.Command {
	o := &listOptions{env: env, dir: dir, output: cli.NewOutputFlag(outputText, outputText, outputJSON, outputYAML, outputName, outputWide)}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tenants of the tenants directory and those found elsewhere",
		Long: `List the tenants of the tenants directory (their tenant.yaml), then the tenants this tool did
not write: tenant directories without tenant.yaml whose Namespace manifests carry the
kubectl-gitops.io/tenant or toolkit.fluxcd.io/tenant label (Flux's multi-tenancy layout) and,
when a kubeconfig is configured, Namespaces, Flux Kustomizations and Argo CD AppProjects on the
cluster labelled with either. SOURCE says where each was found.`,
		Example: fmt.Sprintf(`  %[1]s list
  %[1]s list --dir clusters/prod/tenants -o json`, env.Name),
		Args: cobra.NoArgs,
		RunE: cli.RunE(o),
	}
	o.output.AddFlag(cmd, cmd.Flags(), "Output format: json, yaml, name (the tenant names, one per line) or wide (the table with REPOS and DIR) (default: a table)")
	cmd.Flags().BoolVar(&o.noHeaders, "no-headers", false, "When using the default or wide output format, don't print headers (default print headers).")
	return cmd
}

// Complete has nothing to resolve.
func (o *listOptions) Complete(context.Context, *cobra.Command, []string) error { return nil }

// Validate checks the flags.
func (o *listOptions) Validate() error {
	return o.output.Validate()
}

// Run lists the tenants.
func (o *listOptions) Run(ctx context.Context) error {
	tenants, err := loadDir(*o.dir)
	if err != nil {
		return err
	}
	sums := make([]tenantSummary, 0, len(tenants))
	for _, t := range tenants {
		var owners []string
		for _, g := range t.Owners.Groups {
			owners = append(owners, "group:"+g)
		}
		owners = append(owners, t.Owners.Users...)
		// Validation refuses URLs with credentials; the redactor
		// still stands between a repository file and the output.
		repos := make([]string, len(t.Repos))
		for i, r := range t.Repos {
			repos[i] = gitrepo.RedactURL(r)
		}
		sums = append(sums, tenantSummary{Name: t.Name, Namespaces: t.Namespaces, Operator: string(t.Operator),
			Owners: owners, Repos: repos, Dir: filepath.Join(*o.dir, filepath.FromSlash(t.Dir())), Managed: true})
	}
	claims, err := dirClaims(*o.dir)
	if err != nil {
		return err
	}
	client, err := liveClient(o.env)
	if err != nil {
		return err
	}
	if client != nil {
		live, err := liveTenantClaims(ctx, client)
		if err != nil {
			return fmt.Errorf("listing tenants on the cluster (give --kubeconfig /dev/null to work offline): %w", err)
		}
		claims = append(claims, live...)
	}
	for _, f := range tenancy.ForeignTenants(tenants, claims) {
		sums = append(sums, tenantSummary{Name: f.Name, Namespaces: f.Namespaces, Operator: string(f.Operator), Sources: f.Sources})
	}
	switch o.output.Format {
	case outputJSON, outputYAML:
		return cli.WriteData(o.env.Streams.Out, o.output.Format, sums)
	case outputName:
		// A tenant is no API object: its bare name, one per line,
		// as the other tenant commands take it.
		for _, s := range sums {
			fmt.Fprintln(o.env.Streams.Out, s.Name)
		}
		return nil
	}
	if len(sums) == 0 {
		fmt.Fprintf(o.env.Streams.ErrOut, "No tenants in %s.\n", *o.dir)
		return nil
	}
	tw := tabwriter.NewWriter(o.env.Streams.Out, 0, 4, 3, ' ', 0)
	if !o.noHeaders {
		header := "NAME\tNAMESPACES\tOPERATOR\tOWNERS\tSOURCE"
		if o.output.Format == outputWide {
			header += "\tREPOS\tDIR"
		}
		fmt.Fprintln(tw, header)
	}
	for _, s := range sums {
		source := "tenant.yaml"
		if !s.Managed {
			source = strings.Join(s.Sources, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s", s.Name, orDash(strings.Join(s.Namespaces, ",")), orDash(s.Operator),
			orDash(strings.Join(s.Owners, ",")), source)
		if o.output.Format == outputWide {
			fmt.Fprintf(tw, "\t%s\t%s", orDash(strings.Join(s.Repos, ",")), orDash(s.Dir))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// loadDir reads the spec (tenant.yaml) of every tenant in dir, sorted by
// name, and validates them together. A missing dir has no tenants.
func loadDir(dir string) ([]*tenancy.Tenant, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading tenants directory: %w", err)
	}
	// Tenants with environments live in base/ (Flux's multi-tenancy layout).
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if base, err := os.ReadDir(filepath.Join(dir, tenancy.BaseDir)); err == nil {
		for _, e := range base {
			if e.IsDir() {
				names = append(names, filepath.Join(tenancy.BaseDir, e.Name()))
			}
		}
	}
	var tenants []*tenancy.Tenant
	for _, name := range names {
		p := filepath.Join(dir, name, tenancy.FileSpec)
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading tenant spec: %w", err)
		}
		ts, err := tenancy.Parse(p, data)
		if err != nil {
			return nil, specErrors(err)
		}
		tenants = append(tenants, ts...)
	}
	sort.Slice(tenants, func(i, j int) bool { return tenants[i].Name < tenants[j].Name })
	if err := tenancy.Validate(tenants); err != nil {
		return nil, specErrors(err)
	}
	return tenants, nil
}

// findTenant returns the tenant called name and the others.
func findTenant(tenants []*tenancy.Tenant, name, where string) (*tenancy.Tenant, []*tenancy.Tenant, error) {
	var found *tenancy.Tenant
	var others []*tenancy.Tenant
	for _, t := range tenants {
		if t.Name == name {
			found = t
		} else {
			others = append(others, t)
		}
	}
	if found == nil {
		return nil, nil, cli.Usagef("no tenant %q in %s", name, where)
	}
	return found, others, nil
}
