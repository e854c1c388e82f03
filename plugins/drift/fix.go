package drift

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/remediate"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// FixFlags are the remediation flags: --fix, --prune, --adopt and their
// confirmation.
type FixFlags struct {
	Fix            bool
	Prune          bool
	Adopt          bool
	Yes            bool
	ForceConflicts bool
}

// addFixFlags registers --fix, --prune, --yes and --force-conflicts.
func (o *Options) addFixFlags(f *pflag.FlagSet) {
	// Shared with watch, which remediates after each check and never asks.
	f.BoolVar(&o.Fix, "fix", false, "Apply Git's state to the drifted objects (server-side apply as the GitOps agent's field manager), after showing the diff and asking (watch: after each check, with --yes)")
	f.BoolVar(&o.Prune, "prune", false, "Delete the extraneous objects (tracked by the source, not in Git), after showing the diff and asking (watch: after each check, with --yes)")
	f.BoolVar(&o.Yes, "yes", false, "Do not ask for confirmation before --fix or --prune (required when stdin is not a terminal, and by watch, which never asks)")
	f.BoolVar(&o.ForceConflicts, "force-conflicts", false, "With --fix, take over fields other managers own with another value (server-side apply's force)")
}

// addAdoptFlags registers --adopt.
func (o *Options) addAdoptFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.Adopt, "adopt", false, "Write the live values of drifted fields back into the files given with -f (only those lines), print the patch, and leave committing to you")
}

func (o *Options) remediating() bool { return o.Fix || o.Prune }

// validateFix checks the remediation flags.
func (o *Options) validateFix() error {
	switch {
	case o.Adopt && o.remediating():
		return cli.Usagef("--adopt makes Git match the cluster, --fix and --prune the cluster match Git: choose one")
	case o.ForceConflicts && !o.Fix:
		return cli.Usagef("--force-conflicts only applies with --fix")
	case o.Yes && !o.remediating():
		return cli.Usagef("--yes only applies with --fix or --prune")
	case o.fleetMode() && (o.Adopt || o.remediating()):
		return cli.Usagef("--fix, --prune and --adopt work on one cluster: they cannot be combined with --contexts or --all-contexts")
	case o.Adopt && o.sourceMode():
		return cli.Usagef("--adopt edits local files: use it with -f (Git sources are temporary checkouts)")
	case o.Adopt && slices.Contains(o.Filenames, "-"):
		return cli.Usagef("--adopt edits files: it cannot adopt into stdin")
	case o.Adopt && o.Output.Format != "diff":
		return cli.Usagef("--adopt prints the patch it writes to the files: -o %s does not apply", o.Output.Format)
	}
	return nil
}

// runRemedy runs --fix, --prune or --adopt: it compares every source,
// then fixes the cluster or adopts into the files.
func (o *Options) runRemedy(ctx context.Context) error {
	client, err := o.newClient(o.env.ConfigFlags)
	if err != nil {
		return err
	}
	reports, err := o.checkAll(ctx, client)
	if err != nil {
		return err
	}
	defer cleanupReports(reports)
	if o.Adopt {
		return o.runAdopt(ctx, client, reports)
	}
	if err := o.renderReports(reports); err != nil {
		return err
	}
	return o.runFix(ctx, client, reports)
}

// renderReports renders the reports as drift does without remediation:
// one report for -f/-k, one per source otherwise.
func (o *Options) renderReports(reports []sourceReport) error {
	if !o.sourceMode() && len(reports) == 1 && reports[0].Report != nil {
		rep := reports[0].Report
		for _, w := range rep.Warnings {
			fmt.Fprintln(o.Streams.ErrOut, "warning:", w)
		}
		return render(o.Streams.Out, o.Streams.ErrOut, rep, o.Output.Format, o.color, o.NoHeaders)
	}
	warnSources(o, reports)
	return renderSources(o.Streams.Out, o.Streams.ErrOut, reports, o.Output.Format, o.Mode, o.color, o.NoHeaders)
}

// runFix asks for confirmation (unless --yes), applies Git's state and
// deletes extraneous objects source by source, compares again and returns
// the exit status of that second comparison.
func (o *Options) runFix(ctx context.Context, client *cluster.Client, reports []sourceReport) error {
	errOut := o.Streams.ErrOut
	nFix, nPrune, nConfirm := 0, 0, 0
	for _, r := range reports {
		if r.Report == nil {
			continue
		}
		if o.Fix {
			nFix += remediate.ToFix(r.Report)
		}
		if o.Prune {
			nPrune += remediate.ToPrune(r.Report)
			nConfirm += remediate.ToConfirm(r.Report)
		}
	}
	if nFix+nPrune == 0 {
		fmt.Fprintln(errOut, "nothing to fix")
		return o.resultOf(reports)
	}
	if !o.Yes {
		if !isTerminal(o.Streams.In) {
			// --yes leaves the objects marked Prune=confirm (it is not
			// the confirmation Argo CD waits for): not counted.
			if nFix+nPrune-nConfirm == 0 {
				return cli.Usagef("refusing to change the cluster without confirmation: stdin is not a terminal, and the %s to delete marked Prune=confirm need a yes on a terminal", plural(nConfirm, "object"))
			}
			return cli.Usagef("refusing to change the cluster without confirmation: stdin is not a terminal; pass --yes to %s", question(nFix, nPrune-nConfirm, false))
		}
		// Answering yes is the confirmation Argo CD's Prune=confirm
		// waits for: the question names those objects.
		q := question(nFix, nPrune, true)
		if nConfirm > 0 {
			q += fmt.Sprintf(" (%d of them marked Prune=confirm, which Argo CD deletes only on confirmation)", nConfirm)
		}
		ok, err := confirm(o.Streams.In, errOut, q+"? [y/N] ")
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(errOut, "no changes made")
			return o.resultOf(reports)
		}
	}

	failed := 0
	after := make([]sourceReport, 0, len(reports))
	for _, r := range reports {
		if r.Report == nil {
			after = append(after, r)
			continue
		}
		if o.Fix {
			outcomes, err := remediate.Fix(ctx, client, r.Report, r.Source.Desired, remediate.Options{
				ForceConflicts: o.ForceConflicts, FieldManager: o.FieldManager, Concurrency: o.Concurrency,
			})
			failed += printOutcomes(errOut, outcomes)
			if err != nil {
				return fmt.Errorf("fixing: %w", err)
			}
		}
		if o.Prune {
			outcomes, err := remediate.Prune(ctx, client, r.Report, remediate.Options{PruneConfirmed: !o.Yes})
			failed += printOutcomes(errOut, outcomes)
			if err != nil {
				return fmt.Errorf("pruning: %w", err)
			}
		}
		again := sourceReport{Source: r.Source}
		again.Report, again.Err = o.compareSource(ctx, client, r.Source)
		if again.Err != nil && ctx.Err() != nil {
			return again.Err
		}
		after = append(after, again)
	}
	if o.Yes && nConfirm > 0 {
		fmt.Fprintf(errOut, "%s marked Prune=confirm left: --yes is not the confirmation Argo CD waits for; run --prune without --yes on a terminal and answer the question to delete them\n", plural(nConfirm, "object"))
	}
	stillDrifted(errOut, after, "in sync with Git")
	if failed > 0 {
		return fmt.Errorf("%d object(s) could not be fixed (see above)", failed)
	}
	return o.resultOf(after)
}

// resultOf maps reports to the exit-code contract.
func (o *Options) resultOf(reports []sourceReport) error {
	return resultAll(reports, o.ExitCode)
}

// question is the confirmation asked, e.g. "Apply Git state to 3 objects
// and delete 1".
func question(nFix, nPrune int, capital bool) string {
	var parts []string
	if nFix > 0 {
		parts = append(parts, fmt.Sprintf("apply Git state to %s", plural(nFix, "object")))
	}
	if nPrune > 0 {
		if nFix > 0 {
			parts = append(parts, fmt.Sprintf("delete %d", nPrune))
		} else {
			parts = append(parts, fmt.Sprintf("delete %s", plural(nPrune, "extraneous object")))
		}
	}
	q := strings.Join(parts, " and ")
	if capital {
		q = strings.ToUpper(q[:1]) + q[1:]
	}
	return q
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirm asks on w and reads one answer line from r: only y or yes agree.
func confirm(r io.Reader, w io.Writer, prompt string) (bool, error) {
	fmt.Fprint(w, prompt)
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		if err == io.EOF {
			fmt.Fprintln(w)
			return false, nil
		}
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// printOutcomes prints one line per object on w and returns how many
// failed (conflicts are not failures: the drift they leave is reported).
func printOutcomes(w io.Writer, outcomes []remediate.Outcome) int {
	failed := 0
	for _, o := range outcomes {
		id := o.ID()
		switch o.Action {
		case remediate.ActionApplied:
			verb := "applied"
			if o.Created {
				verb = "created"
			}
			fmt.Fprintf(w, "%s %s (as %s)\n", verb, id, o.FieldManager)
			for _, f := range o.Removed {
				fmt.Fprintf(w, "  removed %s (added by another manager)\n", f)
			}
		case remediate.ActionDeleted:
			fmt.Fprintf(w, "deleted %s\n", id)
		case remediate.ActionSkipped:
			fmt.Fprintf(w, "skipped %s: %s\n", id, o.Message)
		case remediate.ActionConflict:
			fmt.Fprintf(w, "not applied %s: %s\n", id, o.Message)
			for _, c := range o.Conflicts {
				fmt.Fprintf(w, "  %s is owned by %q\n", c.Field, c.Manager)
			}
		default:
			failed++
			fmt.Fprintf(w, "error: %s: %s\n", id, o.Message)
		}
	}
	return failed
}

// stillDrifted prints what a second comparison still finds drifted, or ok.
func stillDrifted(w io.Writer, reports []sourceReport, ok string) {
	var lines []string
	for _, sr := range reports {
		prefix := ""
		if sr.Source.Name != "" {
			prefix = sr.Source.Name + ": "
		}
		if sr.Err != nil {
			lines = append(lines, fmt.Sprintf("  %serror: %v", prefix, sr.Err))
			continue
		}
		if sr.Report == nil {
			continue
		}
		for i := range sr.Report.Objects {
			r := &sr.Report.Objects[i]
			if r.Drifted() || r.Status == compare.StatusError {
				lines = append(lines, fmt.Sprintf("  %s%s: %s", prefix, objectID(r), r.Status))
			}
		}
	}
	if len(lines) == 0 {
		fmt.Fprintln(w, ok)
		return
	}
	fmt.Fprintln(w, "still drifted:")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// runAdopt writes the live values into the -f files instead of rendering
// the report, prints the patch on stdout, and compares the edited files
// again.
func (o *Options) runAdopt(ctx context.Context, client *cluster.Client, reports []sourceReport) error {
	errOut := o.Streams.ErrOut
	adopted, files := 0, 0
	for _, sr := range reports {
		if sr.Report == nil {
			continue
		}
		a, err := remediate.Adopt(ctx, sr.Report)
		if err != nil {
			return fmt.Errorf("adopting: %w", err)
		}
		for _, r := range a.Refused {
			what := r.Object
			if r.Field != "" {
				what += " " + r.Field
			}
			fmt.Fprintf(errOut, "not adopted: %s: %s\n", what, r.Reason)
		}
		if err := a.Write(); err != nil {
			return err
		}
		if _, err := io.WriteString(o.Streams.Out, a.Diff()); err != nil {
			return err
		}
		adopted += len(a.Adopted)
		files += len(a.Files)
	}
	if files == 0 {
		fmt.Fprintln(errOut, "nothing adopted")
		return o.resultOf(reports)
	}
	fmt.Fprintf(errOut, "adopted %s into %s: review the patch (git diff) and commit it\n", plural(adopted, "field"), plural(files, "file"))
	after, err := o.checkAll(ctx, client)
	if err != nil {
		return err
	}
	defer cleanupReports(after)
	stillDrifted(errOut, after, "Git now matches the cluster")
	return o.resultOf(after)
}
