package promote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promoter"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/textdiff"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// promoteOptions are the options of `promote APP… --to ENV`.
type promoteOptions struct {
	*common
	Apps           []string
	To             string
	From           string
	Version        string
	DryRun         bool
	SkipGates      bool
	AllowDrift     bool
	AllowDowngrade bool
	ResolveRange   bool
}

func (o *promoteOptions) bindFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.To, "to", "", "The environment to promote to (required)")
	f.StringVar(&o.From, "from", "", "The environment to promote from (default: the target's source in the pipeline)")
	f.StringVar(&o.Version, "version", "", "The version to promote (default: the version the source environment has)")
	f.BoolVar(&o.DryRun, "dry-run", false, "Check the gates and show the diff, but commit nothing")
	f.BoolVar(&o.SkipGates, "skip-gates", false, "Promote without checking the source environment's health, soak, checks and drift (recorded in the commit)")
	f.BoolVar(&o.AllowDrift, "allow-drift", false, "Promote even when the source environment drifts from Git")
	f.BoolVar(&o.AllowDowngrade, "allow-downgrade", false, "Allow promoting an older version than the target has")
	f.BoolVar(&o.ResolveRange, "resolve-range", false, "When the source holds a semver range (6.x, >=1.0), promote the chart version its healthy Flux HelmRelease runs")
	_ = cmd.RegisterFlagCompletionFunc("to", o.completeEnvs)
	_ = cmd.RegisterFlagCompletionFunc("from", o.completeEnvs)
}

// Complete takes the applications; nothing else is resolved before the
// repository is opened.
func (o *promoteOptions) Complete(_ context.Context, _ *cobra.Command, args []string) error {
	o.Apps = args
	return nil
}

// Validate checks the flags.
func (o *promoteOptions) Validate() error {
	if o.To == "" {
		return cli.Usagef("--to is required")
	}
	if o.Version != "" {
		if err := promotion.ValidVersion(o.Version); err != nil {
			return cli.Usagef("invalid --version: %v", err)
		}
		if len(o.Apps) != 1 {
			return cli.Usagef("--version needs exactly one application, not %d", len(o.Apps))
		}
	}
	if o.ResolveRange && o.Version != "" {
		return cli.Usagef("--resolve-range and --version are mutually exclusive")
	}
	if o.SkipGates && o.AllowDrift {
		return cli.Usagef("--allow-drift is implied by --skip-gates")
	}
	return o.Output.Validate()
}

// Run promotes.
func (o *promoteOptions) Run(ctx context.Context) error {
	s, err := o.open(ctx)
	if err != nil {
		return err
	}
	out, err := s.engine.Promote(ctx, promoter.Options{
		Request:   promotion.Request{Apps: o.Apps, To: o.To, From: o.From, Version: o.Version, AllowDowngrade: o.AllowDowngrade},
		DryRun:    o.DryRun,
		SkipGates: o.SkipGates, AllowDrift: o.AllowDrift, ResolveRange: o.ResolveRange,
	})
	if errors.Is(err, promotion.ErrNoChange) {
		fmt.Fprintf(o.env.Streams.ErrOut, "nothing to promote: %v\n", err)
		return writeNothing(o.env.Streams.Out, o.Output.Format, o.To)
	}
	if out != nil {
		if werr := writeOutcome(o.env.Streams.Out, out, o.Output.Format, cli.ColorEnabled(o.env.Streams.Out)); werr != nil && err == nil {
			err = werr
		}
	}
	o.interrupted(out, err)
	return refusal(err)
}

// interrupted says, when an interrupt stopped a promotion during or after
// its push, what may be on the remote and how to check: a push is not
// undone by stopping git, so the commit may have landed.
func (c *common) interrupted(out *promoter.Outcome, err error) {
	if !errors.Is(err, context.Canceled) {
		return
	}
	w := c.env.Streams.ErrOut
	var pi *gitrepo.PushInterruptedError
	switch {
	case errors.As(err, &pi):
		fmt.Fprintf(w, "warning: interrupted while pushing %s to %s/%s: the remote may have taken it anyway.\n", short(pi.Commit), pi.Remote, pi.Target)
		fmt.Fprintf(w, "  check with: git ls-remote %s refs/heads/%s   (it landed if this prints %s)\n", pi.Remote, pi.Target, pi.Commit)
		fmt.Fprintf(w, "  or:         %s status\n", c.env.Name)
		fmt.Fprintf(w, "  if it did not land, run the same command again.\n")
	case out != nil && out.Commit != "":
		fmt.Fprintf(w, "warning: interrupted after pushing %s to %s: the promotion landed", short(out.Commit), out.Branch)
		if out.Policy == promotion.PolicyPullRequest && out.PullRequest == nil {
			fmt.Fprint(w, ", but its pull request may not be open: run the same command again to open it (it reuses the branch)")
		}
		fmt.Fprintln(w)
	}
}

// JSONOutcome is the -o json / -o yaml schema of a promotion.
type JSONOutcome struct {
	APIVersion  string     `json:"apiVersion"`
	Kind        string     `json:"kind"`
	Environment string     `json:"environment"`
	From        string     `json:"from,omitempty"`
	Policy      string     `json:"policy"`
	DryRun      bool       `json:"dryRun,omitempty"`
	Rollback    bool       `json:"rollback,omitempty"`
	Apps        []JSONApp  `json:"apps"`
	Gates       []JSONGate `json:"gates,omitempty"`
	Files       []JSONFile `json:"files"`
	Commit      string     `json:"commit,omitempty"`
	Branch      string     `json:"branch,omitempty"`
	PullRequest string     `json:"pullRequest,omitempty"`
	CompareURL  string     `json:"compareURL,omitempty"`
	Attempts    int        `json:"pushAttempts,omitempty"`
	// AlreadyPushed: the pull-request branch carried this change already.
	AlreadyPushed bool   `json:"alreadyPushed,omitempty"`
	Message       string `json:"message"`
}

// JSONApp is one application's version change.
type JSONApp struct {
	Name string `json:"name"`
	From string `json:"from,omitempty"`
	To   string `json:"to"`
}

// JSONGate is one gate's verdict.
type JSONGate struct {
	App         string `json:"app"`
	Environment string `json:"environment"`
	Gate        string `json:"gate"`
	Passed      bool   `json:"passed"`
	Detail      string `json:"detail"`
}

// JSONFile is one changed file with its unified diff.
type JSONFile struct {
	Branch string `json:"branch"`
	Path   string `json:"path"`
	Diff   string `json:"diff"`
}

func toJSON(out *promoter.Outcome) JSONOutcome {
	j := JSONOutcome{APIVersion: "gitops.kubectl-gitops.dev/v1alpha1", Kind: "Promotion", Environment: out.Env,
		From: out.Promotion.From, Policy: string(out.Policy), DryRun: out.DryRun, Rollback: out.Promotion.Rollback,
		Commit: out.Commit, Branch: out.Branch, CompareURL: out.CompareURL, Attempts: out.Attempts, AlreadyPushed: out.AlreadyPushed,
		Message: out.Promotion.Message(), Apps: []JSONApp{}, Files: []JSONFile{}}
	if out.Promotion.Env == "" {
		j.Message = ""
	}
	if out.PullRequest != nil {
		j.PullRequest = out.PullRequest.URL
	}
	for _, s := range out.Steps {
		j.Apps = append(j.Apps, JSONApp{Name: s.App, From: s.Old, To: s.New})
	}
	for _, g := range out.Gates {
		j.Gates = append(j.Gates, JSONGate{App: g.App, Environment: g.Env, Gate: g.Name, Passed: g.Passed, Detail: g.Detail})
	}
	for _, f := range out.Files {
		j.Files = append(j.Files, JSONFile{Branch: f.Branch, Path: f.Path, Diff: fileDiff(f)})
	}
	return j
}

func fileDiff(f promoter.FileDiff) string {
	return textdiff.Unified("a/"+f.Path, "b/"+f.Path, string(f.Old), string(f.New), 3)
}

const (
	green = "\033[32m"
	red   = "\033[31m"
	bold  = "\033[1m"
	reset = "\033[0m"
)

func paint(color bool, code, s string) string {
	if !color {
		return s
	}
	return code + s + reset
}

func writeOutcome(w io.Writer, out *promoter.Outcome, format string, color bool) error {
	if format != "text" {
		return cli.WriteData(w, format, toJSON(out))
	}
	var b strings.Builder
	verb := "Promoting"
	if out.Promotion.Rollback {
		verb = "Rolling back"
	}
	from := ""
	if len(out.Steps) > 0 && out.Steps[0].From != out.Env {
		from = " from " + out.Steps[0].From
	}
	fmt.Fprintf(&b, "%s %s%s (policy %s):\n", verb, paint(color, bold, out.Env), from, out.Policy)
	for _, s := range out.Steps {
		old := s.Old
		if old == "" {
			old = "(none)"
		}
		fmt.Fprintf(&b, "  %s %s → %s\n", s.App, old, s.New)
	}
	if len(out.Gates) > 0 {
		b.WriteString("Gates:\n")
		for _, g := range out.Gates {
			mark := paint(color, green, "✓")
			if !g.Passed {
				mark = paint(color, red, "✗")
			}
			fmt.Fprintf(&b, "  %s %s %s in %s: %s\n", mark, g.Name, g.App, g.Env, g.Detail)
		}
	} else if out.Promotion.SkippedGates {
		b.WriteString("Gates: skipped (--skip-gates)\n")
	}
	for _, f := range out.Files {
		d := fileDiff(f)
		if color {
			d = textdiff.Colorize(d)
		}
		if f.Branch != "" {
			fmt.Fprintf(&b, "# branch %s\n", f.Branch)
		}
		b.WriteString(d)
	}
	switch {
	case out.DryRun:
		b.WriteString("Dry run: nothing committed.\n")
	case out.PullRequest != nil:
		fmt.Fprintf(&b, "%s. ", pushed(out))
		if out.PullRequest.Existing {
			fmt.Fprintf(&b, "Pull request #%d is already open: %s\n", out.PullRequest.Number, out.PullRequest.URL)
		} else {
			fmt.Fprintf(&b, "Opened pull request #%d: %s\n", out.PullRequest.Number, out.PullRequest.URL)
		}
	case out.Commit != "" && out.Policy == promotion.PolicyPullRequest:
		fmt.Fprintf(&b, "%s.", pushed(out))
		if out.CompareURL != "" {
			fmt.Fprintf(&b, " Open a pull request: %s", out.CompareURL)
		} else {
			// Either no token or a forge not recognised from the remote URL
			// (the progress output said which): name both remedies.
			b.WriteString(" Open a pull request from it (to have it opened for you: a forge recognised from the remote URL or set in forge:, and its token in GITHUB_TOKEN, GITLAB_TOKEN or GITEA_TOKEN).")
		}
		b.WriteString("\n")
	case out.Commit != "":
		fmt.Fprintf(&b, "Pushed %s to %s", short(out.Commit), out.Branch)
		if out.Attempts > 1 {
			fmt.Fprintf(&b, " after %d attempts (rebased onto newer commits)", out.Attempts)
		}
		b.WriteString(".\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pushed says where a pull-request promotion's branch is.
func pushed(out *promoter.Outcome) string {
	if out.AlreadyPushed {
		return fmt.Sprintf("%s (%s) was already pushed", out.Branch, short(out.Commit))
	}
	return fmt.Sprintf("Pushed %s (%s)", out.Branch, short(out.Commit))
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// writeNothing prints, for -o json|yaml, the outcome of a promotion that
// had nothing to do (no apps, no files), so scripts always get a document.
func writeNothing(w io.Writer, format, env string) error {
	if format == "text" {
		return nil
	}
	return cli.WriteData(w, format, JSONOutcome{APIVersion: "gitops.kubectl-gitops.dev/v1alpha1", Kind: "Promotion", Environment: env,
		Apps: []JSONApp{}, Files: []JSONFile{}})
}
