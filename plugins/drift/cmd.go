package drift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Main runs the plugin binary and returns its exit code.
func Main(argv []string) int {
	return cli.Main(argv, NewCmd)
}

// DefaultIgnoreFile is read when present and --ignore-file is not given.
const DefaultIgnoreFile = desired.IgnoreFile

// Output formats.
var outputs = []string{"diff", "summary", "wide", "json", "yaml", "markdown", "name"}

// Options are the drift command's options, one embedded struct per
// concern: where the desired state comes from (SourceFlags), how it is
// compared with the cluster (CompareFlags), how the report is printed
// (OutputFlags), what is done about drift (FixFlags), several clusters at
// once (FleetFlags) and the pull-request comment (CommentFlags). watch adds
// its loop's own (watchOptions), status its table's (statusOptions).
type Options struct {
	env     *cli.Env
	Streams genericiooptions.IOStreams

	SourceFlags
	// RepoOverrides redirect fetching, for every source kind and for
	// drift status alike.
	RepoOverrides []string
	CompareFlags
	OutputFlags
	FixFlags
	FleetFlags
	CommentFlags

	// Set by Complete.
	namespace        string
	enforceNamespace bool
	selector         labels.Selector
	ignore           *ignore.Set
	color            bool
	// schemas are the clusters' OpenAPI schemas, read once per cluster
	// connection (schemas.go).
	schemas *schemaCaches
	// confiner remembers the charts' values schemas found confined, for
	// every render of the process (drift watch: every check).
	confiner *helmrender.Confiner
}

// SourceFlags select the desired state: files (-f, -k) or sources read
// from Git, Argo CD and Flux (source.go).
type SourceFlags struct {
	Filenames []string
	Recursive bool
	Kustomize string

	Repo               string
	Revision           string
	Path               string
	ArgoApps           []string
	AllArgoApps        bool
	ArgoNamespace      string
	FluxKustomizations []string
	FluxHelmReleases   []string
	AllFlux            bool
	FluxNamespace      string
	AppliedRevision    bool
}

// CompareFlags say how the desired state is compared with the cluster:
// the mode and its field manager, the objects in scope, the ignore rules.
type CompareFlags struct {
	Mode             string
	FieldManager     string
	Concurrency      int
	Selector         string
	PruneSelector    string
	IgnoreFile       string
	NoBuiltinIgnores bool
	ListIgnoreRules  bool
}

// OutputFlags say how the report is printed and what the exit code says.
type OutputFlags struct {
	Output      cli.OutputFlag
	NoHeaders   bool
	ShowSecrets bool
	ExitCode    bool
}

// NewOptions returns options with their defaults.
func NewOptions(env *cli.Env) *Options {
	return &Options{env: env, Streams: env.Streams,
		SourceFlags:  SourceFlags{ArgoNamespace: DefaultArgoNamespace, FluxNamespace: DefaultFluxNamespace},
		CompareFlags: CompareFlags{Mode: string(compare.ModeHybrid), Concurrency: 32},
		OutputFlags:  OutputFlags{Output: cli.NewOutputFlag("diff", outputs...), ExitCode: true},
		schemas:      newSchemaCaches(),
		confiner:     &helmrender.Confiner{}}
}

// NewCmd builds the plugin's root command.
func NewCmd(env *cli.Env) *cobra.Command {
	o := NewOptions(env)
	cmd := &cobra.Command{
		Use:   "drift (-f FILENAME | -k DIRECTORY | --repo URL | --argocd-app NAME | --flux-kustomization NAME | --flux-helmrelease NAME | --all-argocd-apps | --all-flux)",
		Short: "Compare the live cluster with the desired state in Git",
		Long: `Compare the live cluster with the desired state in Git: what differs, who changed it
(managedFields), what is missing from the cluster and what is extraneous in it.

Modes:
  --mode=hybrid (default)  compare locally first, then ask the API server (as --mode=server)
                           about the objects the local pass flags or cannot decide exactly
                           (client-side applied, admission webhooks, values equal only after
                           normalisation, atomic lists…): server mode's report, at close to
                           local mode's cost.
  --mode=server            ask the API server what applying Git would change: a server-side
                           apply dry-run with the field manager of the GitOps agent owning the
                           object (detected, or --field-manager), as exact as
                           'kubectl diff --server-side', but concurrent.
  --mode=local             send no write request at all (read-only RBAC is enough): compare the
                           fields Git sets, after normalisation, using managedFields for the rest.

In every mode, fields that another manager added to a live object (a 'kubectl label', a
'kubectl edit') are reported even though Git does not set them: server-side apply keeps such
fields, so 'kubectl diff' cannot show them.

Secret values are masked everywhere, the last-applied-configuration annotation included,
unless --show-secrets is given.

Sources (instead of -f/-k; several may be given, each gets its own report):
  --repo URL [--revision REV] [--path P]   a Git revision, cloned into a temporary directory;
                                           a kustomization in P is built as -k does, otherwise
                                           P is read recursively
  --argocd-app NAME, --all-argocd-apps     Argo CD Applications: their repository, revision,
                                           path, kustomize/directory options, ignoreDifferences
                                           and tracking id
  --flux-kustomization NAME, --all-flux    Flux Kustomizations and their GitRepository: path,
                                           kustomize options, spec.ignore, inventory
  --flux-helmrelease NAME, --all-flux      Flux HelmReleases: their chart rendered as
                                           helm-controller does (values, valuesFrom,
                                           postRenderers), driftDetection.ignore, the release's
                                           last stored manifest for extraneous objects
'drift status' shows every Application, Kustomization and HelmRelease with the operator's view
next to ours.

Exit status: 0 in sync, 1 drift found, 2 on error (also when any object could not be
compared, after reporting the others). --exit-code=false exits 0 on drift.`,
		Example: fmt.Sprintf(`  # What differs between the cluster and the manifests in ./deploy?
  %[1]s -f ./deploy -R

  # A kustomize overlay, as a table, without any write request
  %[1]s -k overlays/prod --mode=local -o summary

  # Machine-readable report for CI, and a pull-request comment
  %[1]s -f ./deploy -o json > drift.json
  %[1]s -f ./deploy -o markdown > comment.md

  # Post it as one pull-request comment, updated on the next run (token in GITHUB_TOKEN,
  # GITLAB_TOKEN or GITEA_TOKEN; forge from the checkout's origin remote)
  %[1]s -k overlays/prod --comment-on-pr 42

  # List the ignore rules in force (built-in and .gitops/drift-ignore.yaml)
  %[1]s --list-ignore-rules

  # A Git revision, and what Argo CD and Flux declare
  %[1]s --repo https://github.com/org/fleet.git --revision main --path apps/web
  %[1]s --argocd-app guestbook --flux-kustomization apps -o summary
  %[1]s --all-argocd-apps --all-flux -o json

  # Bring the cluster back to Git (asks first; --yes for scripts), or write live values back to Git
  %[1]s -f ./deploy --fix --prune
  %[1]s -f ./deploy --adopt

  # Many clusters at once: a source × cluster matrix
  %[1]s -k overlays/prod --contexts prod-eu,prod-us -o markdown

  # Watch continuously, with Prometheus metrics and Events
  %[1]s watch --all-argocd-apps --all-flux --interval 5m

  # The Application's repository is not reachable from here: use a local mirror
  %[1]s --argocd-app guestbook --repo-override https://git.internal/org/fleet.git=file:///srv/mirror/fleet.git`, env.Name),
		Args: cobra.NoArgs,
		RunE: cli.RunE(o),
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.Filenames, "filename", "f", nil, "Files, directories or - (stdin) with the desired objects (repeatable)")
	f.BoolVarP(&o.Recursive, "recursive", "R", false, "Process the directories given with -f recursively")
	f.StringVarP(&o.Kustomize, "kustomize", "k", "", "Build the kustomization in this directory and compare its output")
	f.StringVarP(&o.Selector, "selector", "l", "", "Only objects whose labels match this selector (e.g. app=web)")
	f.StringVar(&o.Mode, "mode", o.Mode, "How to compute what Git would change: server, local or hybrid")
	f.StringVar(&o.FieldManager, "field-manager", "", "Field manager to dry-run apply with (default: detected from the live object's managedFields and tracking labels)")
	f.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "Requests in flight at once")
	f.StringVar(&o.IgnoreFile, "ignore-file", "", "Ignore rules (Argo CD ignoreDifferences / Flux spec.ignore grammar); default "+DefaultIgnoreFile+" when present")
	f.BoolVar(&o.NoBuiltinIgnores, "no-builtin-ignores", false, "Do not apply the built-in ignore rules (see --list-ignore-rules)")
	f.BoolVar(&o.ListIgnoreRules, "list-ignore-rules", false, "Print the ignore rules in force and exit (-o json or yaml for every detail)")
	f.StringVar(&o.PruneSelector, "prune-selector", "", "Also report live objects matching this label selector that Git does not declare as extraneous")
	f.BoolVar(&o.ShowSecrets, "show-secrets", false, "Show Secret values instead of masking them")
	f.BoolVar(&o.NoHeaders, "no-headers", false, "With -o summary or wide, print the rows only: no header line, no totals line (default print them)")
	o.Output.AddFlag(cmd, f, "Output format: "+strings.Join(outputs, ", ")+" (wide: summary with SOURCE; name: the drifted objects, as kubectl get -o name prints them); with --contexts or --all-contexts: text (the matrix, also for diff and summary), json, yaml, markdown")
	f.BoolVar(&o.ExitCode, "exit-code", true, "Exit 1 when drift is found (false: exit 0)")
	addSourceFlags(f, o)
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"server", "local", "hybrid"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	_ = cmd.MarkFlagDirname("kustomize")
	_ = cmd.MarkFlagFilename("ignore-file", "yaml", "yml")
	cmd.AddCommand(newStatusCmd(env))
	o.addFixFlags(f)
	// watch shares the flags registered above (but those watchSharesFlag excludes).
	cmd.AddCommand(newWatchCmd(cmd, o))
	// Not shared with watch.
	o.addAdoptFlags(f)
	o.addFleetFlags(f)
	o.addCommentFlags(f)
	return cmd
}

// Complete resolves the namespace, selectors and ignore rules.
func (o *Options) Complete(_ context.Context, cmd *cobra.Command, _ []string) error {
	ns, explicit, err := o.env.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil && !o.ListIgnoreRules {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	o.namespace, o.enforceNamespace = ns, explicit
	if o.Selector != "" {
		if o.selector, err = labels.Parse(o.Selector); err != nil {
			return cli.Usagef("invalid --selector %q: %v", o.Selector, err)
		}
	}
	if o.PruneSelector != "" {
		if _, err := labels.Parse(o.PruneSelector); err != nil {
			return cli.Usagef("invalid --prune-selector %q: %v", o.PruneSelector, err)
		}
	}
	rules, err := desired.LoadIgnore(".", o.IgnoreFile, !o.NoBuiltinIgnores)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	o.ignore = rules
	o.color = cli.ColorEnabled(o.Streams.Out)
	o.fleetTuned = cmd.Flags().Changed("parallel") || cmd.Flags().Changed("context-timeout")
	if err := o.completeFleet(); err != nil {
		return err
	}
	if err := gitrepo.CheckOverrides(o.RepoOverrides); err != nil {
		return cli.Usagef("%v", err)
	}
	return nil
}

// Validate checks the flags.
func (o *Options) Validate() error {
	if o.ListIgnoreRules {
		if o.Output.Format == "name" {
			return cli.Usagef("-o name lists drifted objects: it does not apply to --list-ignore-rules")
		}
		return o.validateComment()
	}
	if err := o.validateFix(); err != nil {
		return err
	}
	if err := o.validateFleet(); err != nil {
		return err
	}
	if err := o.validateSources(); err != nil {
		return err
	}
	if err := o.validateComment(); err != nil {
		return err
	}
	if !validMode(o.Mode) {
		return cli.Usagef("--mode must be server, local or hybrid, not %q", o.Mode)
	}
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if o.Concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1")
	}
	return nil
}

// Run loads the manifests, compares them with the cluster and renders the
// report.
func (o *Options) Run(ctx context.Context) error {
	if o.ListIgnoreRules {
		return writeRules(o.Streams.Out, o.ignore, o.Output.Format)
	}
	if o.fleetMode() {
		return o.runFleet(ctx)
	}
	if o.remediating() || o.Adopt {
		return o.runRemedy(ctx)
	}
	if err := o.prepareComment(ctx); err != nil {
		return err
	}
	if o.sourceMode() {
		return o.runSources(ctx)
	}
	desired, err := o.loadDesired(ctx)
	if err != nil {
		return err
	}
	client, err := o.newClient(o.env.ConfigFlags)
	if err != nil {
		return err
	}
	rep, err := o.compareOnce(ctx, client, desired, o.ignore)
	if err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(o.Streams.ErrOut, "warning:", w)
	}
	if err := render(o.Streams.Out, o.Streams.ErrOut, rep, o.Output.Format, o.color, o.NoHeaders); err != nil {
		return err
	}
	return o.postComment(ctx, result(rep, o.ExitCode), func(w io.Writer) error { return renderMarkdown(w, rep) })
}

// loadDesired reads the desired objects given with -f/-k, warning on stderr
// about skipped files.
func (o *Options) loadDesired(ctx context.Context) ([]compare.Desired, error) {
	objs, warnings, err := desired.ReadFiles(ctx, manifest.Options{
		Filenames: o.Filenames, Recursive: o.Recursive, Kustomize: o.Kustomize, Stdin: o.Streams.In,
	})
	if err != nil {
		var pe *manifest.ParseError
		if errors.As(err, &pe) {
			return nil, &cli.UsageError{Err: err}
		}
		return nil, err
	}
	for _, w := range warnings {
		fmt.Fprintln(o.Streams.ErrOut, "warning:", w)
	}
	return objs, nil
}

// newClient connects to the cluster the given kubeconfig flags select.
func (o *Options) newClient(flags *cli.ConfigFlags) (*cluster.Client, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cluster.New(cfg)
}

// compareOnce compares desired with the cluster behind client under the given
// ignore rules; progress goes to stderr on a terminal for large runs.
func (o *Options) compareOnce(ctx context.Context, client *cluster.Client, desired []compare.Desired, rules *ignore.Set) (*compare.Report, error) {
	s := o.filesSource(desired)
	s.Ignore = rules
	return o.compareSource(ctx, client, s)
}

// compareSource compares one source with the cluster behind client, under
// the source's ignore rules, namespace and tracking; progress goes to
// stderr on a terminal for large runs.
func (o *Options) compareSource(ctx context.Context, client *cluster.Client, s source) (*compare.Report, error) {
	desired := s.Desired
	engine := &compare.Engine{Reader: client, Applier: client, Schemas: o.schemas.of(client)}
	opts := compare.Options{
		Mode: compare.Mode(o.Mode), FieldManager: o.FieldManager, Concurrency: o.Concurrency,
		Namespace: s.Namespace, EnforceNamespace: s.EnforceNamespace, Selector: o.selector,
		PruneSelector: s.PruneSelector, Tracking: s.Tracking, Ignore: s.Ignore, ShowSecrets: o.ShowSecrets,
	}
	if s.Operator != nil {
		opts.SecretValues = s.Operator.PostBuild.SecretValues()
	}
	opts.SecretValues = append(opts.SecretValues, s.SecretValues...)
	if len(desired) > progressThreshold && cli.ColorEnabled(o.Streams.ErrOut) {
		opts.Progress = progress(o.Streams.ErrOut)
	}
	rep, err := engine.Run(ctx, desired, opts)
	if opts.Progress != nil {
		fmt.Fprint(o.Streams.ErrOut, "\r\033[K")
	}
	if err != nil {
		return nil, fmt.Errorf("comparing with the cluster: %w", err)
	}
	return rep, nil
}

// progressThreshold is the object count above which progress is shown on a
// terminal.
const progressThreshold = 200

// result maps a report to the exit-code contract.
func result(rep *compare.Report, exitOnDrift bool) error {
	counts := rep.Counts()
	if n := counts[compare.StatusError]; n > 0 {
		return fmt.Errorf("%d object(s) could not be compared (see above)", n)
	}
	if rep.Drifted() && exitOnDrift {
		return &cli.FindingsError{}
	}
	return nil
}

// validMode reports whether mode is one --mode takes.
func validMode(mode string) bool {
	switch compare.Mode(mode) {
	case compare.ModeServer, compare.ModeLocal, compare.ModeHybrid:
		return true
	}
	return false
}
