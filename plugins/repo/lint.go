package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolint"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/sarif"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/version"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/prcomment"
)

// FieldManager is the field manager of the lint's server-side dry runs.
const FieldManager = "kubectl-gitops-repo-lint"

// LintOptions are the options of `repo lint`.
type LintOptions struct {
	env *cli.Env

	Path     string
	Output   cli.OutputFlag
	RepoURLs []string
	// RepoOverrides are ORIGINAL_URL=LOCAL pairs, as drift's: OCI
	// artifacts pushed from a directory of this repository (see
	// artifactDirs), and chart repositories read from a directory or
	// another URL, so HelmReleases' values are checked against the charts.
	RepoOverrides []string
	// Server is set when --context or --kubeconfig was given: every object
	// is dry-run against that API server.
	Server bool
	// Comment posts the findings as one pull-request comment.
	Comment prcomment.Flags

	files    []string
	checkout *checkout
}

func newLintCmd(env *cli.Env) *cobra.Command {
	o := &LintOptions{env: env, Output: cli.NewOutputFlag("text", "text", "json", "sarif", "markdown")}
	var rules strings.Builder
	for _, r := range repolint.Rules {
		fmt.Fprintf(&rules, "  %-30s %-7s %s\n", r.ID, r.Severity, r.Summary)
	}
	cmd := &cobra.Command{
		Use:   "lint [PATH]",
		Short: "Check a GitOps repository (exit 1 on errors)",
		Long: `Check the GitOps repository at PATH (default: the current directory). Inside a git work
tree the files are listed with git, so .gitignore is respected. Rules:

` + rules.String() + `
Schemas: built-in kinds are decoded strictly offline; custom resources are validated only with
--context or --kubeconfig, which sends every object to that API server as a server-side
apply dry run (CRDs included; nothing is changed). No schemas are bundled. An object Flux or
Argo CD already manages there is dry-run as that operator applies it (kustomize-controller or
argocd-controller, server-side with force, or Argo CD's default client-side apply), so a field
Git removed is removed; a generateName object (a hook) is skipped with a warning.

Helm: every chart of the repository is linted as 'helm lint' does (the Helm SDK's linter), with
its own values and with each environment's: Argo CD Applications whose path is the chart
(valueFiles, values/valuesObject, parameters) and Flux HelmReleases of a GitRepository of this
repository (spec.values). A HelmRelease whose chart comes from a chart repository is checked
against the chart's values schema when --repo-override maps that repository to a local
directory, else noted as not checked (severity info). A chart with a symbolic link out of the
repository or a schema $ref outside the schema is not linted.

Configuration: .gitops/lint.yaml (repoURLs of this repository, environments, exclude:
[{rule, path, subject, env, reason}]). A comment '# lint:ignore RULE [SUBJECT]' in a file drops
that file's findings of RULE (for a missing application: in the environment's
kustomization.yaml). Plaintext-secret findings honour .gitops/scan-allow.yaml, as
'kubectl gitops seal scan' does.

Exit codes: 0 no errors (warnings are printed), 1 errors found, 2 usage or failure (also
when PATH holds nothing to check: no kustomization and no Kubernetes manifest).`,
		Example: fmt.Sprintf(`  # The repository in the current directory
  %[1]s lint

  # As JSON, for CI
  %[1]s lint ./gitops -o json

  # As SARIF 2.1.0, for a code-scanning upload (files relative to the working directory)
  %[1]s lint ./gitops -o sarif > lint.sarif

  # As one pull-request comment, updated on the next run (token in GITHUB_TOKEN,
  # GITLAB_TOKEN or GITEA_TOKEN)
  %[1]s lint ./gitops -o markdown --comment-on-pr 42

  # Also validate every object against a cluster's API server (server-side dry run)
  %[1]s lint --context staging`, env.Name),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeDir,
		RunE:              cli.RunE(o),
	}
	f := cmd.Flags()
	o.Output.AddFlag(cmd, f, "Output format: text, json, sarif or markdown")
	f.StringSliceVar(&o.RepoURLs, "repo-url", nil, "This repository's URL (repeatable; added to .gitops/lint.yaml repoURLs): Applications with other URLs point elsewhere")
	f.StringArrayVar(&o.RepoOverrides, "repo-override", nil, repoOverrideUsage+". Also a Helm chart repository or OCI registry: ORIGINAL_URL=LOCAL (a local directory or another URL) checks HelmReleases' values against the charts found there")
	o.Comment.AddFlags(f, "repo lint", "findings", "derived from PATH")
	return cmd
}

// Complete resolves PATH, its files and whether a server was named.
func (o *LintOptions) Complete(ctx context.Context, cmd *cobra.Command, args []string) error {
	p, err := repoPath(args)
	if err != nil {
		return err
	}
	o.Path = p
	o.Server = cmd.Flags().Changed("context") || cmd.Flags().Changed("kubeconfig")
	files, ok, err := gitFiles(ctx, p)
	if err != nil {
		return err
	}
	if ok {
		o.files = files
	}
	if o.checkout, err = gitCheckout(ctx, p); err != nil {
		return err
	}
	return nil
}

// Validate checks the flags.
func (o *LintOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if err := gitrepo.CheckOverrides(o.RepoOverrides); err != nil {
		return cli.Usagef("%v", err)
	}
	return o.Comment.Validate()
}

// Run lints and prints the findings.
func (o *LintOptions) Run(ctx context.Context) error {
	defer o.checkout.close()
	// A run that cannot comment fails before it lints.
	if err := o.Comment.Prepare(ctx); err != nil {
		return err
	}
	gopts := o.checkout.graphOptions(o.RepoURLs, o.Path, o.RepoOverrides)
	opts := repolint.Options{Root: o.Path, Files: o.files, RepoURLs: gopts.RepoURLs,
		Revisions: gopts.Revisions, ReadRevision: gopts.ReadRevision, Artifacts: gopts.Artifacts}
	if len(o.RepoOverrides) > 0 {
		charts, err := newChartFetcher(o.RepoOverrides)
		if err != nil {
			return err
		}
		opts.Charts = charts
	}
	if o.Server {
		dr, err := newServerDryRunner(o.env)
		if err != nil {
			return err
		}
		opts.DryRunner = dr
	}
	// Helm's engine logs what lint mode forgives (a template's fail or
	// required message, which may quote values) through the default slog
	// logger, to stderr, past every redaction: not in this process.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	rep, err := repolint.Lint(ctx, opts)
	if err != nil {
		return err
	}
	if rep.Kustomizations == 0 && rep.Objects == 0 && len(rep.Findings) == 0 && rep.Excluded == 0 {
		// A wrong PATH must not pass a CI job.
		return fmt.Errorf("%s: nothing to check: no kustomization and no Kubernetes manifest (is it the GitOps repository?)", o.Path)
	}
	w := o.env.Streams.Out
	switch o.Output.Format {
	case "json":
		if err := cli.WriteData(w, cli.FormatJSON, rep); err != nil {
			return err
		}
	case "sarif":
		if err := sarif.Write(w, lintSARIF(o.Path, rep.Findings)); err != nil {
			return err
		}
	case "markdown":
		if err := writeLintMarkdown(w, rep, o.summary(rep)); err != nil {
			return err
		}
	default:
		if err := writeFindings(w, rep.Findings, o.env.Color()); err != nil {
			return err
		}
	}
	var runErr error
	if rep.Errors() > 0 {
		runErr = &cli.FindingsError{Summary: o.summary(rep)}
	} else {
		fmt.Fprintf(o.env.Streams.ErrOut, "%s: %s\n", o.Path, o.summary(rep))
	}
	return o.Comment.Post(ctx, o.env.Streams.ErrOut, o.commentMarker(), runErr, func(w io.Writer) error {
		return writeLintMarkdown(w, rep, o.summary(rep))
	})
}

// chartFetcher fetches charts from the chart repositories --repo-override
// maps, and from no other (repo lint reads no credentials and makes no
// request a flag did not ask for).
type chartFetcher struct {
	overrides []string
	f         *chartsource.Fetcher
}

func newChartFetcher(overrides []string) (*chartFetcher, error) {
	override := func(url string) string { return desired.OverrideURL(overrides, url) }
	f, err := chartsource.New(chartsource.Options{Override: override})
	if err != nil {
		return nil, fmt.Errorf("preparing the chart fetcher: %w", err)
	}
	return &chartFetcher{overrides: overrides, f: f}, nil
}

// Offline implements repolint.ChartFetcher.
func (c *chartFetcher) Offline(url string) bool {
	return url != "" && desired.OverrideURL(c.overrides, url) != url
}

// Fetch implements repolint.ChartFetcher.
func (c *chartFetcher) Fetch(ctx context.Context, ref chartsource.ChartRef) (string, string, error) {
	return c.f.Fetch(ctx, ref)
}

// summary is the one-line count of the findings and of what was checked.
func (o *LintOptions) summary(rep *repolint.Report) string {
	errs, infos := rep.Errors(), 0
	for _, f := range rep.Findings {
		if f.Severity == repolint.SeverityInfo {
			infos++
		}
	}
	warns := len(rep.Findings) - errs - infos
	summary := fmt.Sprintf("%d error(s), %d warning(s)", errs, warns)
	if infos > 0 {
		summary += fmt.Sprintf(", %d note(s)", infos)
	}
	if rep.Excluded > 0 {
		summary += fmt.Sprintf(", %d excluded", rep.Excluded)
	}
	checked := fmt.Sprintf("%d kustomizations and %d objects checked", rep.Kustomizations, rep.Objects)
	if o.Server {
		checked += fmt.Sprintf(", %d dry-run on the server", rep.DryRun)
	}
	return summary + " (" + checked + ")"
}

// commentMarker is the hidden marker of the lint comment, apart from
// drift's: the user's --comment-key, or a digest of PATH, so that lint runs
// on other directories keep their own comment.
func (o *LintOptions) commentMarker() string {
	key := o.Comment.CommentKey
	if key == "" {
		sum := sha256.Sum256([]byte(filepath.ToSlash(filepath.Clean(o.Path))))
		key = hex.EncodeToString(sum[:])[:12]
	}
	return prcomment.Marker("repo-lint", key)
}

// writeLintMarkdown writes the findings as a Markdown table, for a
// pull-request comment. Messages come from the repository's files: table
// and HTML syntax in them is escaped.
func writeLintMarkdown(w io.Writer, rep *repolint.Report, summary string) error {
	var b strings.Builder
	b.WriteString("### kubectl gitops repo lint\n\n")
	if len(rep.Findings) == 0 {
		b.WriteString("No findings.\n\n")
	}
	b.WriteString(mdCell(summary) + "\n")
	if len(rep.Findings) > 0 {
		b.WriteString("\n| Severity | Location | Rule | Message |\n|---|---|---|---|\n")
		for _, f := range rep.Findings {
			msg := f.Message
			if f.Env != "" {
				msg += " (environment " + f.Env + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Severity, mdCell(f.Location()), mdCell(f.Rule), mdCell(msg))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell escapes s for a Markdown table cell: no pipe, no HTML, one line.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\r", " ", "\n", " ").Replace(s)
}

// lintSARIF is the SARIF log of findings, with every rule. Finding files
// are relative to root, the linted path; the log's are relative to the
// working directory (as root is), or absolute when root is.
func lintSARIF(root string, findings []repolint.Finding) sarif.Log {
	rules := make([]sarif.RuleInfo, 0, len(repolint.Rules))
	for _, r := range repolint.Rules {
		rules = append(rules, sarif.RuleInfo{ID: r.ID, Short: r.Summary, Level: sarifLevel(r.Severity)})
	}
	results := make([]sarif.Finding, 0, len(findings))
	for _, f := range findings {
		msg := f.Message
		if f.Env != "" {
			msg += " (environment " + f.Env + ")"
		}
		results = append(results, sarif.Finding{Rule: f.Rule, Level: sarifLevel(f.Severity), Message: msg,
			File: path.Join(filepath.ToSlash(root), f.File), Line: f.Line})
	}
	return sarif.Build("kubectl-gitops repo lint", version.Get().Version, "https://github.com/kubectl-gitops/kubectl-gitops", rules, results)
}

// sarifLevel is SARIF's level of a severity: helm lint's info is a note.
func sarifLevel(s repolint.Severity) string {
	if s == repolint.SeverityInfo {
		return "note"
	}
	return string(s)
}

// writeFindings prints one line per finding:
// "file:line: severity: message [rule]".
func writeFindings(w io.Writer, findings []repolint.Finding, color bool) error {
	for _, f := range findings {
		sev := string(f.Severity)
		if color {
			code := "31"
			switch f.Severity {
			case repolint.SeverityWarning:
				code = "33"
			case repolint.SeverityInfo:
				code = "36"
			}
			sev = "\x1b[" + code + "m" + sev + "\x1b[0m"
		}
		if _, err := fmt.Fprintf(w, "%s: %s: %s [%s]\n", f.Location(), sev, f.Message, f.Rule); err != nil {
			return err
		}
	}
	return nil
}
