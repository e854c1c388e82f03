package promote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/promoter"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// statusOutputs are status's formats: -o wide is its own, the table with
// FROM and FROM-VERSION on the right.
var statusOutputs = []string{"text", "wide", "json", "yaml"}

// statusOptions are the options of `promote status`.
type statusOptions struct {
	*common
	noLive, noHeaders bool
	wide              bool
}

func newStatusCmd(c *common) *cobra.Command {
	o := &statusOptions{common: c}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Versions in Git and live, per application and environment, and what is pending",
		Long: `Show a table of applications × environments: the version in Git, the version live in the
environment's cluster with its health, and whether the source environment has a version waiting
to be promoted. --no-live reads Git only.`,
		Example: fmt.Sprintf("  %[1]s status\n  %[1]s status -o wide\n  %[1]s status -o json\n  %[1]s status --no-live", c.env.Name),
		Args:    cobra.NoArgs,
		RunE:    cli.RunE(o),
	}
	c.Output.AllowIn(cmd, statusOutputs...)
	cmd.Flags().BoolVar(&o.noLive, "no-live", false, "Do not read the clusters: versions in Git only")
	cmd.Flags().BoolVar(&o.noHeaders, "no-headers", false, "When using the default output format, don't print headers (default print headers).")
	return cmd
}

// Complete has nothing to resolve before the repository is opened.
func (o *statusOptions) Complete(context.Context, *cobra.Command, []string) error { return nil }

// Validate checks -o against status's formats; wide is the text table with
// two more columns.
func (o *statusOptions) Validate() error {
	if err := cli.ValidateOutput(o.Output.Format, statusOutputs...); err != nil {
		return err
	}
	if o.wide = o.Output.Format == "wide"; o.wide {
		o.Output.Format = "text"
	}
	return nil
}

// Run prints the status.
func (o *statusOptions) Run(ctx context.Context) error {
	return runStatus(ctx, o.common, !o.noLive, o.noHeaders, o.wide)
}

// JSONStatus is the -o json / -o yaml schema of `promote status`.
type JSONStatus struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Rows       []JSONStatusRow `json:"rows"`
}

// JSONStatusRow is one application in one environment.
type JSONStatusRow struct {
	App           string `json:"app"`
	Environment   string `json:"environment"`
	Version       string `json:"version,omitempty"`
	Source        string `json:"source,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	Pending       bool   `json:"pending"`
	Live          string `json:"live,omitempty"`
	Checked       bool   `json:"checked"`
	Deployed      bool   `json:"deployed"`
	Healthy       bool   `json:"healthy"`
	Detail        string `json:"detail,omitempty"`
	Error         string `json:"error,omitempty"`
}

func runStatus(ctx context.Context, c *common, live, noHeaders, wide bool) error {
	s, err := c.open(ctx)
	if err != nil {
		return err
	}
	s.engine.Progress = warningsOnly(c.env.Streams.ErrOut)
	rows, err := s.engine.Status(ctx, live)
	if err != nil {
		return err
	}
	if c.Output.Format != "text" {
		j := JSONStatus{APIVersion: "gitops.kubectl-gitops.dev/v1alpha1", Kind: "PromotionStatus", Rows: []JSONStatusRow{}}
		for _, r := range rows {
			j.Rows = append(j.Rows, JSONStatusRow{App: r.App, Environment: r.Env, Version: r.Version, Source: r.Source,
				SourceVersion: r.SourceVersion, Pending: r.Pending, Live: r.Live, Checked: r.Checked, Deployed: r.Deployed, Healthy: r.Healthy, Detail: r.Detail, Error: r.Err})
		}
		return cli.WriteData(c.env.Streams.Out, c.Output.Format, j)
	}
	return writeStatus(c.env.Streams.Out, rows, live, cli.ColorEnabled(c.env.Streams.Out), noHeaders, wide)
}

// writeStatus writes the status table; wide adds FROM, the environment each
// one promotes from, and FROM-VERSION, its version, pending or not.
func writeStatus(w io.Writer, rows []promoter.LiveStatus, live, color, noHeaders, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "APP\tENV\tGIT"
	if live {
		header += "\tLIVE\tHEALTH"
	}
	header += "\tPENDING"
	if wide {
		header += "\tFROM\tFROM-VERSION"
	}
	if !noHeaders {
		fmt.Fprintln(tw, header)
	}
	for _, r := range rows {
		line := fmt.Sprintf("%s\t%s\t%s", r.App, r.Env, dash(r.Version))
		if live {
			var health string
			switch {
			case r.Err != "":
				health = paint(color, red, "error")
			case !r.Checked:
				health = "-"
			case r.Healthy:
				health = paint(color, green, "healthy")
			case !r.Deployed:
				health = "not deployed"
			default:
				health = paint(color, red, "unhealthy")
			}
			line += fmt.Sprintf("\t%s\t%s", dash(r.Live), health)
		}
		pending := "-"
		if r.Pending {
			pending = fmt.Sprintf("%s from %s", r.SourceVersion, r.Source)
			pending = paint(color, bold, pending)
		}
		line += "\t" + pending
		if wide {
			line += fmt.Sprintf("\t%s\t%s", dash(r.Source), dash(r.SourceVersion))
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	for _, r := range rows {
		if r.Err != "" {
			notes = append(notes, fmt.Sprintf("%s in %s: %s", r.App, r.Env, r.Err))
		} else if r.Checked && !r.Healthy && r.Detail != "" {
			notes = append(notes, fmt.Sprintf("%s in %s: %s", r.App, r.Env, r.Detail))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// historyOptions are the options of `promote history`.
type historyOptions struct {
	*common
	env string
	app string
}

func newHistoryCmd(c *common) *cobra.Command {
	o := &historyOptions{common: c}
	cmd := &cobra.Command{
		Use:               "history [APP]",
		Short:             "Past promotions, from the commits' Promoted-* trailers",
		Example:           fmt.Sprintf("  %[1]s history\n  %[1]s history web --env prod\n  %[1]s history -o json", c.env.Name),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: c.completeApps,
		RunE:              cli.RunE(o),
	}
	cmd.Flags().StringVar(&o.env, "env", "", "Only promotions into this environment")
	_ = cmd.RegisterFlagCompletionFunc("env", c.completeEnvs)
	return cmd
}

// Complete takes the application, if one is given.
func (o *historyOptions) Complete(_ context.Context, _ *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.app = args[0]
	}
	return nil
}

// Validate has nothing to check before the pipeline is read (Run checks
// the application and environment against it).
func (o *historyOptions) Validate() error { return nil }

// Run prints the promotions of the history.
func (o *historyOptions) Run(ctx context.Context) error {
	s, err := o.open(ctx)
	if err != nil {
		return err
	}
	f := promotion.Filter{Env: o.env}
	if o.app != "" {
		if _, ok := s.pipeline.App(o.app); !ok {
			return cli.Usagef("unknown application %q (the pipeline has %s)", o.app, join(s.pipeline.AppNames()))
		}
		f.App = o.app
	}
	if o.env != "" {
		if _, ok := s.pipeline.Env(o.env); !ok {
			return cli.Usagef("unknown environment %q (the pipeline has %s)", o.env, join(s.pipeline.Order()))
		}
	}
	s.engine.Progress = warningsOnly(o.common.env.Streams.ErrOut)
	// History reads only: no clean checkout needed, unlike Preflight.
	if err := s.engine.ResolveBranch(ctx); err != nil {
		return err
	}
	if err := s.engine.Fetch(ctx); err != nil {
		return err
	}
	entries, err := s.engine.History(ctx, f)
	if err != nil {
		return err
	}
	return writeHistory(o.common.env.Streams.Out, entries, o.Output.Format)
}

// JSONHistoryEntry is one promotion of `promote history -o json`.
type JSONHistoryEntry struct {
	Commit       string    `json:"commit"`
	Author       string    `json:"author"`
	Date         time.Time `json:"date"`
	Environment  string    `json:"environment"`
	From         string    `json:"from,omitempty"`
	Apps         []JSONApp `json:"apps"`
	SourceCommit string    `json:"sourceCommit,omitempty"`
	Health       []string  `json:"health,omitempty"`
	SkippedGates bool      `json:"skippedGates,omitempty"`
	Rollback     bool      `json:"rollback,omitempty"`
}

func writeHistory(w io.Writer, entries []promotion.Entry, format string) error {
	if format != "text" {
		out := []JSONHistoryEntry{}
		for _, e := range entries {
			j := JSONHistoryEntry{Commit: e.Commit, Author: e.Author, Date: e.Date, Environment: e.Env, From: e.From,
				SourceCommit: e.SourceCommit, Health: e.Health, SkippedGates: e.SkippedGates, Rollback: e.Rollback, Apps: []JSONApp{}}
			for _, a := range e.Apps {
				j.Apps = append(j.Apps, JSONApp{Name: a.App, From: a.Old, To: a.New})
			}
			out = append(out, j)
		}
		return cli.WriteData(w, format, out)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "No promotions found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATE\tENV\tCHANGE\tFROM\tCOMMIT\tAUTHOR\tNOTE")
	for _, e := range entries {
		var changes []string
		for _, a := range e.Apps {
			changes = append(changes, fmt.Sprintf("%s %s → %s", a.App, dash(a.Old), a.New))
		}
		note := ""
		switch {
		case e.Rollback:
			note = "rollback"
		case e.SkippedGates:
			note = "gates skipped"
		}
		from := e.From
		if e.Rollback {
			from = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Date.Local().Format("2006-01-02 15:04"), e.Env, strings.Join(changes, ", "), dash(from), short(e.Commit), e.Author, dash(note))
	}
	return tw.Flush()
}

// rollbackOptions are the options of `promote rollback`.
type rollbackOptions struct {
	*common
	env, to string
	dryRun  bool
	app     string
}

func newRollbackCmd(c *common) *cobra.Command {
	o := &rollbackOptions{common: c}
	cmd := &cobra.Command{
		Use:   "rollback APP --env ENV [--to VERSION]",
		Short: "Promote an application back to its previous (or a given) version, as a new commit",
		Long: `Roll an application back in one environment: a new promotion commit (never a history
rewrite) setting the version promoted before the current one — or --to VERSION — under the
environment's policy (a pull request for pull-request environments).`,
		Example:           fmt.Sprintf("  %[1]s rollback web --env prod\n  %[1]s rollback web --env staging --to 1.4.1 --dry-run", c.env.Name),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: c.completeApps,
		RunE:              cli.RunE(o),
	}
	cmd.Flags().StringVar(&o.env, "env", "", "The environment to roll back (required)")
	cmd.Flags().StringVar(&o.to, "to", "", "The version to go back to (default: the one before the current, from the history)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "Show the diff, commit nothing")
	_ = cmd.RegisterFlagCompletionFunc("env", c.completeEnvs)
	return cmd
}

// Complete takes the application.
func (o *rollbackOptions) Complete(_ context.Context, _ *cobra.Command, args []string) error {
	o.app = args[0]
	return nil
}

// Validate checks --env and --to.
func (o *rollbackOptions) Validate() error {
	if o.env == "" {
		return cli.Usagef("--env is required")
	}
	if o.to != "" {
		if err := promotion.ValidVersion(o.to); err != nil {
			return cli.Usagef("invalid --to: %v", err)
		}
	}
	return nil
}

// Run rolls the application back.
func (o *rollbackOptions) Run(ctx context.Context) error {
	s, err := o.open(ctx)
	if err != nil {
		return err
	}
	streams := o.common.env.Streams
	out, err := s.engine.Rollback(ctx, o.app, o.env, promoter.Options{Request: promotion.Request{Version: o.to}, DryRun: o.dryRun})
	if errors.Is(err, promotion.ErrNoChange) {
		fmt.Fprintf(streams.ErrOut, "nothing to roll back: %v\n", err)
		return writeNothing(streams.Out, o.Output.Format, o.env)
	}
	if out != nil {
		if werr := writeOutcome(streams.Out, out, o.Output.Format, cli.ColorEnabled(streams.Out)); werr != nil && err == nil {
			err = werr
		}
	}
	o.interrupted(out, err)
	return refusal(err)
}

// warningsOnly passes the engine's warnings to w and drops its progress
// lines (status and history print tables, not steps).
func warningsOnly(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		if line := fmt.Sprintf(format, args...); strings.HasPrefix(line, "warning:") {
			fmt.Fprintln(w, line)
		}
	}
}
