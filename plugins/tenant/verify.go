package tenant

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// VerifyOptions are the options of `tenant verify`.
type VerifyOptions struct {
	env *cli.Env
	dir *string

	Name        string
	Filename    string
	Output      cli.OutputFlag
	Concurrency int
}

// verifyReport is the JSON document of verify.
type verifyReport struct {
	*tenancy.Report
	Isolated bool `json:"isolated"`
	Leaks    int  `json:"leaks"`
	Missing  int  `json:"missingAccess"`
	Guards   int  `json:"failedGuards"`
}

func newVerifyCmd(env *cli.Env, dir *string) *cobra.Command {
	o := &VerifyOptions{env: env, dir: dir, Concurrency: 16, Output: cli.NewOutputFlag(outputText, outputText, outputWide, outputJSON, outputYAML)}
	cmd := &cobra.Command{
		Use:   "verify NAME",
		Short: "Prove a tenant's isolation on the live cluster with SubjectAccessReviews",
		Long: `Verify a tenant against the live cluster. For each of its subjects (owner users and groups,
the reconciler ServiceAccount of each namespace, and for Flux the gotk:<ns>:reconciler user),
SubjectAccessReviews ask the API server's authorizer, concurrently, for a matrix of verbs and
resources:

  own       allowed: work in its own namespaces (pods, deployments, configmaps, secrets);
            denied: loosening its ResourceQuota and LimitRange (and, for the reconciler,
            NetworkPolicies and RBAC)
  foreign   denied in every namespace the tenant does not own: every live namespace,
            the other tenants' and the platform's (kube-system, kube-public,
            kube-node-lease, default, argocd, flux-system, kubectl-gitops), even
            those that do not exist yet
  cluster   denied: namespaces, nodes, clusterroles, clusterrolebindings, CRDs, webhooks,
            escalate, bind, impersonate, secrets across all namespaces

It also checks the guard objects live: PSA and tenant labels on the Namespaces, the
default-deny and other NetworkPolicies, the ResourceQuota, LimitRange and owner binding,
the AppProject's restrictions, the Flux Kustomizations' ServiceAccount, and Flux's
--no-cross-namespace-refs, --no-remote-bases and --default-service-account lockdown flags
when Flux runs in flux-system ('tenant lockdown' writes them).

The tenant comes from DIR/NAME/tenant.yaml, or -f tenants.yaml. Other tenants' namespaces
come from the same place; the live ones are listed from the cluster.

Exit status: 0 isolated; 1 a leak, a missing access or a missing or weakened guard, each
named; 2 on error.`,
		Example: fmt.Sprintf(`  %[1]s verify team-a
  %[1]s verify team-a -o wide       # every review, not just the matrix
  %[1]s verify team-a -o json --context prod`, env.Name),
		Args: cobra.ExactArgs(1),
		RunE: cli.RunE(o),
	}
	cmd.Flags().StringVarP(&o.Filename, "filename", "f", "", "Read tenants from this tenants.yaml instead of the tenants directory")
	o.Output.AddFlag(cmd, cmd.Flags(), "Output format: wide, json or yaml (default: the matrix)")
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", o.Concurrency, "SubjectAccessReviews in flight at once")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml")
	return cmd
}

// Complete takes the tenant's name.
func (o *VerifyOptions) Complete(_ context.Context, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	return nil
}

// Validate checks the flags.
func (o *VerifyOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if o.Concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1")
	}
	return nil
}

// Run verifies the tenant and renders the report.
func (o *VerifyOptions) Run(ctx context.Context) error {
	var tenants []*tenancy.Tenant
	var err error
	where := *o.dir
	if o.Filename != "" {
		tenants, err = readTenantsFile(o.Filename)
		where = o.Filename
	} else {
		tenants, err = loadDir(*o.dir)
	}
	if err != nil {
		return err
	}
	t, others, err := findTenant(tenants, o.Name, where)
	if err != nil {
		return err
	}
	cfg, err := o.env.ConfigFlags.ToRESTConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	// No client-side rate limit (cluster.New): --concurrency bounds the
	// reviews in flight and the server's priority and fairness paces them.
	client, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	live, err := liveNamespaces(ctx, client)
	if err != nil {
		return err
	}
	rep, err := tenancy.Verify(ctx, t, tenancy.VerifyOptions{
		Reviewer: sarReviewer{client}, Getter: getter{client}, Others: others, ForeignNamespaces: live, Concurrency: o.Concurrency,
	})
	if err != nil {
		return err
	}
	// A review the server could not answer is an error, not a finding.
	var reviewErrs []string
	for _, r := range rep.Reviews {
		if r.Error != "" {
			reviewErrs = append(reviewErrs, r.Error)
		}
	}
	out := verifyReport{Report: rep, Isolated: rep.Isolated(), Leaks: len(rep.Leaks()),
		Missing: len(rep.Failures()) - len(rep.Leaks()) - len(reviewErrs), Guards: len(rep.FailedGuards())}
	switch o.Output.Format {
	case outputJSON, outputYAML:
		if err := cli.WriteData(o.env.Streams.Out, o.Output.Format, out); err != nil {
			return err
		}
	default:
		if err := renderVerify(o.env.Streams.Out, rep, o.Output.Format == outputWide); err != nil {
			return err
		}
	}
	if len(reviewErrs) > 0 {
		return fmt.Errorf("%d of %d SubjectAccessReviews failed, first: %s", len(reviewErrs), len(rep.Reviews), reviewErrs[0])
	}
	if !out.Isolated {
		return &cli.FindingsError{Summary: fmt.Sprintf("tenant %s is NOT isolated: %d leak(s), %d missing access, %d guard(s) missing or weakened",
			t.Name, out.Leaks, out.Missing, out.Guards)}
	}
	return nil
}

// liveNamespaces returns the names of every live namespace: each one the
// tenant does not own is foreign to it, labelled as a tenant's or not.
func liveNamespaces(ctx context.Context, c *cluster.Client) ([]string, error) {
	m, err := c.Mapping(ctx, schema.GroupVersionKind{Version: "v1", Kind: "Namespace"})
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	list, err := c.List(ctx, m, "", "")
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	out := make([]string, 0, len(list))
	for _, ns := range list {
		out = append(out, ns.GetName())
	}
	return out, nil
}

// sarReviewer answers reviews with SubjectAccessReview: the API server's
// own authorizer, so every RBAC binding (and any webhook authorizer) counts.
type sarReviewer struct{ c cluster.AccessReviewer }

// probeUser stands for "some member of the group" in a group's reviews.
const probeUser = "kubectl-gitops:verify:group-member"

func (s sarReviewer) Review(ctx context.Context, r tenancy.Review) (bool, string, error) {
	spec := authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: r.Namespace, Verb: r.Verb, Group: r.Group, Resource: r.Resource,
		},
	}
	switch r.Subject.Kind {
	case "Group":
		spec.User, spec.Groups = probeUser, []string{r.Subject.Name, "system:authenticated"}
	case "ServiceAccount":
		spec.User = r.Subject.String()
		spec.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + r.Subject.Namespace, "system:authenticated"}
	default:
		spec.User, spec.Groups = r.Subject.Name, []string{"system:authenticated"}
	}
	st, err := s.c.ReviewAccess(ctx, spec)
	if err != nil {
		return false, "", err
	}
	return st.Allowed, st.Reason, nil
}

// getter adapts the cluster client to tenancy.Getter.
type getter struct{ c *cluster.Client }

func (g getter) Get(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
	m, err := g.c.Mapping(ctx, gvk)
	if err != nil {
		return nil, err
	}
	return g.c.Get(ctx, m, ns, name)
}

// renderVerify prints the matrix: per subject and scope, the reviews that
// gave the wanted answer; then the guards; then every failure by name.
func renderVerify(w io.Writer, rep *tenancy.Report, wide bool) error {
	fmt.Fprintf(w, "Tenant %s: namespaces %s; foreign namespaces %s\n\n", rep.Tenant,
		strings.Join(rep.Namespaces, ", "), strings.Join(rep.ForeignNamespaces, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if wide {
		fmt.Fprintln(tw, "SUBJECT\tVERB\tRESOURCE\tNAMESPACE\tSCOPE\tWANT\tGOT\tRESULT")
		for _, r := range rep.Reviews {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Subject, r.Verb, r.GroupResource(), orAll(r.Namespace),
				r.Scope, allowWord(r.Want), gotWord(r), resultWord(r))
		}
	} else {
		type cell struct{ ok, total int }
		type row struct {
			subject string
			cells   map[tenancy.Scope]*cell
		}
		var rows []*row
		index := map[string]*row{}
		for _, r := range rep.Reviews {
			key := r.Subject.String()
			rw := index[key]
			if rw == nil {
				rw = &row{subject: key, cells: map[tenancy.Scope]*cell{}}
				index[key] = rw
				rows = append(rows, rw)
			}
			c := rw.cells[r.Scope]
			if c == nil {
				c = &cell{}
				rw.cells[r.Scope] = c
			}
			c.total++
			if r.OK() {
				c.ok++
			}
		}
		fmt.Fprintln(tw, "SUBJECT\tOWN NAMESPACES\tFOREIGN NAMESPACES\tCLUSTER\tRESULT")
		for _, rw := range rows {
			result := "isolated"
			var cols []string
			for _, s := range []tenancy.Scope{tenancy.ScopeOwn, tenancy.ScopeForeign, tenancy.ScopeCluster} {
				c := rw.cells[s]
				if c == nil {
					cols = append(cols, "-")
					continue
				}
				cols = append(cols, fmt.Sprintf("%d/%d ok", c.ok, c.total))
				if c.ok != c.total {
					result = "FAIL"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rw.subject, cols[0], cols[1], cols[2], result)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GUARD\tSTATUS\tDETAIL")
	for _, g := range rep.Guards {
		name := g.Kind + " " + g.Name
		if g.Namespace != "" {
			name = g.Kind + " " + g.Namespace + "/" + g.Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, g.Status, g.Message)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if fails := rep.Failures(); len(fails) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failures:")
		for _, r := range fails {
			switch {
			case r.Error != "":
				fmt.Fprintf(w, "  ERROR %s %s %s in %s: %s\n", r.Subject, r.Verb, r.GroupResource(), orAll(r.Namespace), r.Error)
			case r.Leak():
				reason := ""
				if r.Reason != "" {
					reason = " (" + r.Reason + ")"
				}
				fmt.Fprintf(w, "  LEAK %s can %s %s in %s%s\n", r.Subject, r.Verb, r.GroupResource(), where(r.Namespace), reason)
			default:
				fmt.Fprintf(w, "  MISSING %s cannot %s %s in %s\n", r.Subject, r.Verb, r.GroupResource(), where(r.Namespace))
			}
		}
	}
	for _, g := range rep.FailedGuards() {
		fmt.Fprintf(w, "  GUARD %s %s/%s %s: %s\n", g.Kind, g.Namespace, g.Name, g.Status, g.Message)
	}
	return nil
}

func orAll(ns string) string {
	if ns == "" {
		return "*"
	}
	return ns
}

func where(ns string) string {
	if ns == "" {
		return "the cluster (all namespaces)"
	}
	return "namespace " + ns
}

func allowWord(b bool) string {
	if b {
		return "allow"
	}
	return "deny"
}

func gotWord(r tenancy.ReviewResult) string {
	if r.Error != "" {
		return "error"
	}
	return allowWord(r.Allowed)
}

func resultWord(r tenancy.ReviewResult) string {
	switch {
	case r.OK():
		return "ok"
	case r.Leak():
		return "LEAK"
	case r.Error != "":
		return "ERROR"
	default:
		return "MISSING"
	}
}
