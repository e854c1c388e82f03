package drift

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/fleet"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// FleetReportKind identifies the -o json / -o yaml schema of a fleet run.
const FleetReportKind = "DriftFleetReport"

// fleetDrain bounds the wait, after the matrix is shown, for the checks
// stopped at --context-timeout to clean up: longer than a git process may
// take to exit once interrupted.
const fleetDrain = 10 * time.Second

// FleetFlags select several clusters (kube contexts) to compare at once.
type FleetFlags struct {
	Contexts       []string
	AllContexts    bool
	Parallel       int
	ContextTimeout time.Duration

	// Set by Complete: the contexts to check, in order, and whether
	// --parallel or --context-timeout was given.
	contexts   []string
	fleetTuned bool
	// fetched holds the checkouts and OCI artifacts of a fleet run, shared
	// by every cluster's sources: each repository and revision is fetched
	// once per run, not once per cluster.
	fetched *desired.Cache
}

// addFleetFlags registers --contexts, --all-contexts, --parallel and
// --context-timeout.
func (o *Options) addFleetFlags(f *pflag.FlagSet) {
	f.StringSliceVar(&o.Contexts, "contexts", nil, "Compare with the clusters of these kubeconfig contexts (a,b,c) and print a matrix of source × cluster")
	f.BoolVar(&o.AllContexts, "all-contexts", false, "Compare with the cluster of every context in the kubeconfig and print a matrix")
	f.IntVar(&o.Parallel, "parallel", fleet.DefaultParallel, "With --contexts or --all-contexts: clusters compared at once")
	f.DurationVar(&o.ContextTimeout, "context-timeout", fleet.DefaultTimeout, "With --contexts or --all-contexts: time allowed for each cluster; a cluster taking longer is an error cell, the others go on")
}

func (o *Options) fleetMode() bool { return len(o.Contexts) > 0 || o.AllContexts }

// completeFleet resolves the contexts from the kubeconfig, and -o text.
func (o *Options) completeFleet() error {
	if !o.fleetMode() {
		return nil
	}
	if o.Output.Format == "text" {
		o.Output.Format = "summary"
	}
	raw, err := o.env.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	if o.AllContexts {
		for name := range raw.Contexts {
			o.contexts = append(o.contexts, name)
		}
		sort.Strings(o.contexts)
		if len(o.contexts) == 0 {
			return cli.Usagef("--all-contexts: the kubeconfig has no contexts")
		}
		return nil
	}
	seen := map[string]bool{}
	for _, c := range o.Contexts {
		c = strings.TrimSpace(c)
		if c == "" || seen[c] {
			continue
		}
		if _, ok := raw.Contexts[c]; !ok {
			return cli.Usagef("--contexts: context %q not found in the kubeconfig", c)
		}
		seen[c] = true
		o.contexts = append(o.contexts, c)
	}
	return nil
}

// validateFleet checks the fleet flags.
func (o *Options) validateFleet() error {
	if !o.fleetMode() {
		if o.fleetTuned {
			return cli.Usagef("--parallel and --context-timeout apply to --contexts or --all-contexts")
		}
		return nil
	}
	switch {
	case len(o.Contexts) > 0 && o.AllContexts:
		return cli.Usagef("only one of --contexts or --all-contexts can be specified")
	case o.env.ConfigFlags.Context != nil && *o.env.ConfigFlags.Context != "":
		return cli.Usagef("--context selects one cluster: use --contexts %s instead", *o.env.ConfigFlags.Context)
	case o.Parallel < 1:
		return cli.Usagef("--parallel must be at least 1")
	case o.ContextTimeout <= 0:
		return cli.Usagef("--context-timeout must be positive")
	case o.Output.Is("name", "wide"):
		return cli.Usagef("-o %s is about the objects of one cluster: with --contexts or --all-contexts use text, json, yaml or markdown", o.Output.Format)
	}
	return nil
}

// sourceLabel names the -f/-k desired state in the matrix.
func (o *Options) sourceLabel() string {
	if o.Kustomize != "" {
		return "-k " + o.Kustomize
	}
	return "-f " + strings.Join(o.Filenames, ",")
}

// runFleet compares the desired state with every context's cluster and
// renders the matrix. Exit status: 2 when any cluster or source errored
// (after printing the rest), else 1 on drift, else 0.
func (o *Options) runFleet(ctx context.Context) error {
	raw, err := o.env.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	var files []compare.Desired
	if !o.sourceMode() {
		// Read -f/-k once, before any cluster: a bad manifest is a usage
		// error, not one error cell per cluster, and stdin is read once.
		if files, err = o.loadDesired(ctx); err != nil {
			return err
		}
	}
	label := o.sourceLabel()
	// Removed after the checks are drained (deferred calls run last
	// first).
	o.fetched = desired.NewCache()
	defer o.fetched.Close()
	// The clusters are checked concurrently and the loaders write their
	// notes to stderr: one writer, one write at a time.
	o.Streams.ErrOut = &lockedWriter{w: o.Streams.ErrOut}
	var mu sync.Mutex
	check := func(ctx context.Context, name string) ([]fleet.SourceResult, error) {
		cfg, err := clientcmd.NewNonInteractiveClientConfig(raw, name, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("loading context %s: %w", name, err)
		}
		// Bound every request too, not only the whole check.
		cfg.Timeout = o.ContextTimeout
		client, err := cluster.New(cfg)
		if err != nil {
			return nil, err
		}
		defer o.schemas.forget(client)
		var reports []sourceReport
		if o.sourceMode() {
			if reports, err = o.checkAll(ctx, client); err != nil {
				return nil, err
			}
			defer cleanupReports(reports)
		} else {
			s := o.filesSource(files)
			rep, err := o.compareSource(ctx, client, s)
			if err != nil {
				return nil, err
			}
			reports = []sourceReport{{Source: s, Report: rep}}
		}
		out := make([]fleet.SourceResult, 0, len(reports))
		mu.Lock()
		defer mu.Unlock()
		for _, r := range reports {
			src := r.Source.Name
			if src == "" {
				src = label
			}
			for _, w := range r.Source.Warnings {
				fmt.Fprintf(o.Streams.ErrOut, "warning: %s: %s: %s\n", name, src, w)
			}
			if r.Report != nil {
				for _, w := range r.Report.Warnings {
					fmt.Fprintf(o.Streams.ErrOut, "warning: %s: %s: %s\n", name, src, w)
				}
			}
			res := fleet.SourceResult{Source: src, Report: r.Report, Err: r.Err}
			if r.Err == nil && r.Report == nil {
				res.Skip = r.Source.Skip
			}
			out = append(out, res)
		}
		return out, nil
	}
	m := fleet.Run(ctx, o.contexts, fleet.Options{Parallel: o.Parallel, Timeout: o.ContextTimeout}, check)
	// The checks abandoned at --context-timeout (or on Ctrl-C) are
	// cancelled: once the matrix is shown, let them remove their clones
	// before the program exits.
	defer func() {
		if !m.Wait(fleetDrain) {
			fmt.Fprintf(o.Streams.ErrOut, "warning: checks stopped at --context-timeout did not end within %s: temporary clones may be left in %s\n", fleetDrain, os.TempDir())
		}
	}()
	if err := renderFleet(o.Streams.Out, m, o.Output.Format); err != nil {
		return err
	}
	return fleetResult(m, o.ExitCode)
}

// fleetResult maps a matrix to the exit-code contract.
func fleetResult(m *fleet.Matrix, exitOnDrift bool) error {
	if m.Errored() {
		n := 0
		for _, c := range m.Cells {
			if c.State == fleet.StateError {
				n++
			}
		}
		return fmt.Errorf("%d of %d cell(s) could not be checked (see the matrix)", n, len(m.Cells))
	}
	if m.Drifted() && exitOnDrift {
		return &cli.FindingsError{}
	}
	return nil
}

// FleetReport is the -o json / -o yaml schema of a fleet run.
type FleetReport struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	*fleet.Matrix
}

func renderFleet(w io.Writer, m *fleet.Matrix, format string) error {
	switch format {
	case "json", "yaml":
		return cli.WriteData(w, format, FleetReport{APIVersion: ReportAPIVersion, Kind: FleetReportKind, Matrix: m})
	case "markdown":
		return renderFleetMarkdown(w, m)
	default:
		return renderFleetText(w, m)
	}
}

// cellText renders a cell: "in sync", "drifted: 1 modified, 2 missing",
// "2 missing", "1 extraneous", "skipped", "error".
func cellText(c fleet.Cell) string {
	switch c.State {
	case fleet.StateInSync:
		return "in sync"
	case fleet.StateError:
		return "error"
	case fleet.StateSkipped:
		if c.Error == fleet.NotOnCluster {
			return "-"
		}
		return "skipped"
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{c.Counts.Modified, "modified"}, {c.Counts.Missing, "missing"}, {c.Counts.Extraneous, "extraneous"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if c.State == fleet.StateDrifted {
		return "drifted: " + strings.Join(parts, ", ")
	}
	return strings.Join(parts, ", ")
}

func sourceName(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func renderFleetText(w io.Writer, m *fleet.Matrix) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "SOURCE\t%s\n", strings.Join(m.Clusters, "\t"))
	for _, s := range m.Sources {
		row := []string{sourceName(s)}
		for _, cl := range m.Clusters {
			c, _ := m.Cell(s, cl)
			row = append(row, cellText(c))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	errs := fleetErrors(m)
	if len(errs) > 0 {
		fmt.Fprintln(w, "\nErrors:")
		for _, e := range errs {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	_, err := fmt.Fprintln(w, "\n"+fleetSummary(m))
	return err
}

// fleetErrors lists the error cells: "cluster: message" when a cluster
// failed the same way for every source, "cluster (source): message"
// otherwise.
func fleetErrors(m *fleet.Matrix) []string {
	type key struct{ cluster, err string }
	count := map[key]int{}
	for _, c := range m.Cells {
		if c.State == fleet.StateError {
			count[key{c.Cluster, c.Error}]++
		}
	}
	var out []string
	done := map[key]bool{}
	for _, c := range m.Cells {
		k := key{c.Cluster, c.Error}
		if c.State != fleet.StateError || done[k] {
			continue
		}
		if count[k] == len(m.Sources) {
			done[k] = true
			out = append(out, c.Cluster+": "+c.Error)
			continue
		}
		out = append(out, c.Cluster+" ("+sourceName(c.Source)+"): "+c.Error)
	}
	return out
}

func fleetSummary(m *fleet.Matrix) string {
	counts := map[fleet.State]int{}
	for _, c := range m.Cells {
		counts[c.State]++
	}
	line := fmt.Sprintf("%s × %s: %d in sync, %d drifted, %d missing, %d extraneous, %d errors",
		plural(len(m.Sources), "source"), plural(len(m.Clusters), "cluster"), counts[fleet.StateInSync], counts[fleet.StateDrifted],
		counts[fleet.StateMissing], counts[fleet.StateExtraneous], counts[fleet.StateError])
	if n := counts[fleet.StateSkipped]; n > 0 {
		line += fmt.Sprintf(", %d skipped", n)
	}
	return line
}

func renderFleetMarkdown(w io.Writer, m *fleet.Matrix) error {
	var b strings.Builder
	b.WriteString("### kubectl gitops drift: fleet\n\n")
	b.WriteString(fleetSummary(m) + "\n\n")
	b.WriteString("| Source |")
	for _, cl := range m.Clusters {
		b.WriteString(" " + mdEscape(cl) + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(m.Clusters)) + "\n")
	for _, s := range m.Sources {
		b.WriteString("| " + mdEscape(sourceName(s)) + " |")
		for _, cl := range m.Clusters {
			c, _ := m.Cell(s, cl)
			text := mdEscape(cellText(c))
			if c.State != fleet.StateInSync && c.Error != fleet.NotOnCluster {
				text = "**" + text + "**"
			}
			b.WriteString(" " + text + " |")
		}
		b.WriteString("\n")
	}
	if errs := fleetErrors(m); len(errs) > 0 {
		b.WriteString("\n**Errors**\n\n")
		for _, e := range errs {
			b.WriteString("- " + mdEscape(e) + "\n")
		}
	}
	var drifted []string
	for _, c := range m.Cells {
		for _, o := range c.Objects {
			id := o.APIVersion + " " + o.Kind + " "
			if o.Namespace != "" {
				id += o.Namespace + "/"
			}
			where := c.Cluster
			if len(m.Sources) > 1 {
				where += " (" + sourceName(c.Source) + ")"
			}
			drifted = append(drifted, fmt.Sprintf("- %s: `%s%s`: %s", mdEscape(where), id, o.Name, o.Status))
		}
	}
	if len(drifted) > 0 {
		b.WriteString("\n<details><summary>Drifted objects</summary>\n\n" + strings.Join(drifted, "\n") + "\n\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
