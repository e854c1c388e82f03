package drift

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// StatusKind identifies the `drift status` -o json / -o yaml schema.
const StatusKind = "DriftStatus"

var statusOutputs = []string{"table", "wide", "json", "yaml", "name"}

// statusOptions are the options of `drift status`.
type statusOptions struct {
	*Options
	output    cli.OutputFlag
	noHeaders bool
}

// newStatusCmd builds `drift status`: every Argo CD Application and Flux
// Kustomization, the operator's view next to ours.
func newStatusCmd(env *cli.Env) *cobra.Command {
	o := NewOptions(env)
	o.AllArgoApps, o.AllFlux = true, true
	s := &statusOptions{Options: o, output: cli.NewOutputFlag("table", statusOutputs...)}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every Argo CD Application, Flux Kustomization and HelmRelease: the operator's view next to the drift found",
		Long: `Show every Argo CD Application, Flux Kustomization and HelmRelease in the cluster (all
namespaces, or the one -n names), each compared with its Git revision as 'drift --all-argocd-apps --all-flux' does,
in one table: the operator's own view (Argo CD sync and health, Flux Ready) next to ours
(objects modified, missing and extraneous, and the managers that drifted them).

Exit status: 0 all in sync, 1 drift found, 2 when a source could not be compared (after
showing the others). --exit-code=false exits 0 on drift.`,
		Example: fmt.Sprintf(`  # Everything the operators manage, at a glance
  %[1]s status

  # One namespace, with the Applications' repository mirrored locally
  %[1]s status -n team-a --repo-override https://git.internal/org/fleet.git=file:///srv/mirror/fleet.git

  # For a dashboard or a script
  %[1]s status -o json`, env.Name),
		Args: cobra.NoArgs,
		RunE: cli.RunE(s),
	}
	f := cmd.Flags()
	s.output.AddFlag(cmd, f, "Output format: "+strings.Join(statusOutputs, ", "))
	f.BoolVar(&s.noHeaders, "no-headers", false, "When using the table output format, don't print headers (default print headers).")
	f.StringVar(&o.Mode, "mode", o.Mode, "How to compute what Git would change: server, local or hybrid")
	f.StringVar(&o.FieldManager, "field-manager", "", "Field manager to dry-run apply with (default: detected)")
	f.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "Requests in flight at once")
	f.StringVar(&o.IgnoreFile, "ignore-file", "", "Ignore rules added to every source's own; default "+DefaultIgnoreFile+" when present")
	f.BoolVar(&o.NoBuiltinIgnores, "no-builtin-ignores", false, "Do not apply the built-in ignore rules")
	f.StringVar(&o.ArgoNamespace, "argocd-namespace", o.ArgoNamespace, "Argo CD's namespace (argocd-cm is read there)")
	f.StringArrayVar(&o.RepoOverrides, "repo-override", nil, "Fetch ORIGINAL_URL from LOCAL_URL instead, ORIGINAL_URL=LOCAL_URL (repeatable)")
	f.BoolVar(&o.AppliedRevision, "applied-revision", false, "Compare with the commit each operator last synced or applied")
	f.BoolVar(&o.ExitCode, "exit-code", true, "Exit 1 when drift is found (false: exit 0)")
	return cmd
}

// Validate checks status's flags (not drift's: status has no sources).
func (s *statusOptions) Validate() error {
	if !validMode(s.Mode) {
		return cli.Usagef("--mode must be server, local or hybrid, not %q", s.Mode)
	}
	if err := s.output.Validate(); err != nil {
		return err
	}
	if s.Concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1")
	}
	return nil
}

// Run compares every operator source and prints the table.
func (s *statusOptions) Run(ctx context.Context) error {
	client, err := s.newClient(s.env.ConfigFlags)
	if err != nil {
		return err
	}
	reports, err := s.checkAll(ctx, client)
	if err != nil {
		return err
	}
	defer cleanupReports(reports)
	for _, r := range reports {
		for _, w := range r.Source.Warnings {
			fmt.Fprintf(s.Streams.ErrOut, "warning: %s: %s\n", r.Source.Name, w)
		}
		if r.Report != nil {
			for _, w := range r.Report.Warnings {
				fmt.Fprintf(s.Streams.ErrOut, "warning: %s: %s\n", r.Source.Name, w)
			}
			reportErrors(s.Streams.ErrOut, r.Report)
		}
	}
	st := toStatus(reports, s.Mode)
	if err := writeStatus(s.Streams.Out, st, s.output.Format, s.noHeaders); err != nil {
		return err
	}
	if len(st.Sources) == 0 {
		fmt.Fprintln(s.Streams.ErrOut, "No Argo CD Application or Flux Kustomization found.")
	}
	return resultAll(reports, s.ExitCode)
}

// JSONStatus is the `drift status` -o json / -o yaml schema.
type JSONStatus struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Mode       string             `json:"mode"`
	Sources    []JSONStatusSource `json:"sources"`
}

// JSONStatusSource is one Application or Kustomization.
type JSONStatusSource struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Object   *JSONSourceObject `json:"object,omitempty"`
	Operator *JSONOperator     `json:"operator,omitempty"`
	RepoURL  string            `json:"repoURL,omitempty"`
	Revision string            `json:"revision,omitempty"`
	Commit   string            `json:"commit,omitempty"`
	Path     string            `json:"path,omitempty"`
	// Drift is drifted, in-sync, skipped or error (Reason says why).
	Drift  string `json:"drift"`
	Reason string `json:"reason,omitempty"`
	// Summary counts the objects by status, when compared.
	Summary map[string]int `json:"summary,omitempty"`
	// Managers drifted the fields: the most recent owner of each changed
	// field, with the number of fields, most first.
	Managers []JSONManagerCount `json:"managers,omitempty"`
}

// JSONManagerCount is a manager and how many drifted fields it owns.
type JSONManagerCount struct {
	Manager string `json:"manager"`
	Class   string `json:"class,omitempty"`
	Fields  int    `json:"fields"`
}

// Drift states of a status row.
const (
	driftDrifted = "drifted"
	driftInSync  = "in-sync"
)

func toStatus(reports []sourceReport, mode string) JSONStatus {
	out := JSONStatus{APIVersion: ReportAPIVersion, Kind: StatusKind, Mode: mode, Sources: []JSONStatusSource{}}
	for _, js := range toSourcesJSON(reports, mode).Sources {
		row := JSONStatusSource{Name: js.Name, Type: js.Type, Object: js.Object, Operator: js.Operator,
			RepoURL: js.RepoURL, Revision: js.Revision, Commit: js.Commit, Path: js.Path, Drift: js.Status, Reason: js.Reason}
		out.Sources = append(out.Sources, row)
	}
	for i := range reports {
		rep := reports[i].Report
		if rep == nil {
			continue
		}
		row := &out.Sources[i]
		row.Summary = map[string]int{}
		for k, n := range rep.Counts() {
			row.Summary[string(k)] = n
		}
		row.Reason = objectErrors(rep)
		switch {
		case rep.Drifted():
			row.Drift = driftDrifted
		case rep.Errored():
			// Objects not compared may drift: in-sync would be a guess.
			row.Drift = sourceError
		default:
			row.Drift = driftInSync
		}
		row.Managers = driftManagers(rep)
	}
	return out
}

// objectErrors says how many of rep's objects could not be compared, and
// why the first could not; "" when all were.
func objectErrors(rep *compare.Report) string {
	var first *compare.ObjectReport
	n := 0
	for i := range rep.Objects {
		if o := &rep.Objects[i]; o.Status == compare.StatusError {
			if first == nil {
				first = o
			}
			n++
		}
	}
	if first == nil {
		return ""
	}
	name := first.Name
	if first.Namespace != "" {
		name = first.Namespace + "/" + name
	}
	return fmt.Sprintf("%d of %s could not be compared, first %s %s: %s", n, plural(len(rep.Objects), "object"), first.Kind, name, first.Reason)
}

// driftManagers counts, over the drifted fields of rep, the manager that
// last wrote each.
func driftManagers(rep *compare.Report) []JSONManagerCount {
	counts := map[string]*JSONManagerCount{}
	for i := range rep.Objects {
		o := &rep.Objects[i]
		if o.Status != compare.StatusModified {
			continue
		}
		for _, c := range o.Changes {
			if len(c.Owners) == 0 {
				continue
			}
			m := c.Owners[0]
			mc := counts[m.Manager]
			if mc == nil {
				mc = &JSONManagerCount{Manager: m.Manager, Class: string(m.Class)}
				counts[m.Manager] = mc
			}
			mc.Fields++
		}
	}
	out := make([]JSONManagerCount, 0, len(counts))
	for _, mc := range counts {
		out = append(out, *mc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Fields != out[j].Fields {
			return out[i].Fields > out[j].Fields
		}
		return out[i].Manager < out[j].Manager
	})
	return out
}

func writeStatus(w io.Writer, st JSONStatus, format string, noHeaders bool) error {
	switch format {
	case "json", "yaml":
		return cli.WriteData(w, format, st)
	case "name":
		return writeStatusNames(w, st)
	}
	// wide: the table with where each source's manifests came from, before
	// NOTE (free text, always last).
	wide := format == "wide"
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if !noHeaders {
		header := "SOURCE\tSYNC\tHEALTH\tREADY\tDRIFT\tMODIFIED\tMISSING\tEXTRANEOUS\tWHO\t"
		if wide {
			header += "REVISION\tCOMMIT\tAPPLIED\tPATH\t"
		}
		fmt.Fprintln(tw, header+"NOTE")
	}
	for _, s := range st.Sources {
		var op JSONOperator
		if s.Operator != nil {
			op = *s.Operator
		}
		if op.Suspended {
			op.Ready = strings.TrimSpace(op.Ready + " (suspended)")
		}
		count := func(k compare.Status) string {
			if s.Summary == nil {
				return "-"
			}
			return strconv.Itoa(s.Summary[string(k)])
		}
		var who []string
		for i, m := range s.Managers {
			if i == 3 {
				who = append(who, fmt.Sprintf("+%d more", len(s.Managers)-3))
				break
			}
			who = append(who, m.Manager)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", s.Name, dash(op.Sync), dash(op.Health), dash(op.Ready), s.Drift,
			count(compare.StatusModified), count(compare.StatusMissing), count(compare.StatusExtraneous),
			dash(strings.Join(who, ",")))
		if wide {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t", dash(s.Revision), dash(s.Commit), dash(op.Revision), dash(s.Path))
		}
		fmt.Fprintln(tw, dash(oneLine(s.Reason)))
	}
	return tw.Flush()
}

// statusGroups are the API groups of the operators' objects a status row
// can stand for.
var statusGroups = map[string]schema.GroupVersionKind{
	gitopsapi.ApplicationGVK.Kind:   gitopsapi.ApplicationGVK,
	gitopsapi.KustomizationGVK.Kind: gitopsapi.KustomizationGVK,
	gitopsapi.HelmReleaseGVK.Kind:   gitopsapi.HelmReleaseGVK,
}

// writeStatusNames writes the operator's object of each row as kubectl get
// -o name prints it (application.argoproj.io/web: no namespace, as kubectl
// prints none even with -A).
func writeStatusNames(w io.Writer, st JSONStatus) error {
	p := &printers.NamePrinter{}
	for _, s := range st.Sources {
		if s.Object == nil {
			continue
		}
		gvk, ok := statusGroups[s.Object.Kind]
		if !ok {
			return fmt.Errorf("printing %s: no API group known for kind %q", s.Name, s.Object.Kind)
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		u.SetName(s.Object.Name)
		if err := p.PrintObj(u, w); err != nil {
			return fmt.Errorf("printing %s: %w", s.Name, err)
		}
	}
	return nil
}

// oneLine joins s's lines. NOTE is the last column: it is not cut, as
// the cause of an error (git's message after the command that failed) is
// often at the end of a long reason.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
