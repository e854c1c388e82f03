package promote

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promoter"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Main runs the plugin binary and returns its exit code.
func Main(argv []string) int {
	return cli.Main(argv, NewCmd)
}

// common are the flags every promote command shares.
type common struct {
	env      *cli.Env
	Repo     string
	Pipeline string
	Output   cli.OutputFlag
	// TrustForgeHosts are forge API hosts other than the remote's that may
	// receive the token (--trust-forge-host, KUBECTL_GITOPS_TRUST_FORGE_HOSTS).
	TrustForgeHosts []string
	// AllowHTTPForge lets the token go over plain http to a non-loopback host.
	AllowHTTPForge bool
	// root is the plugin's root command, whose persistent flags include
	// the kubeconfig flags (bound by cli.Setup).
	root *cobra.Command
}

// NewCmd builds the plugin's root command: `promote APP… --to ENV` and its
// status, history and rollback subcommands.
func NewCmd(env *cli.Env) *cobra.Command {
	c := &common{env: env, Output: cli.NewOutputFlag("text", "text", "json", "yaml")}
	o := &promoteOptions{common: c}
	root := &cobra.Command{
		Use:   "promote [APP...] --to ENV [--from ENV] [--version V]",
		Short: "Promote versions between environments through Git commits",
		Long: `Promote application versions between environments (dev → staging → prod) by Git commits:
automatic for low-risk stages, approval-gated through a pull request for production, gated on
live health, with history and rollback.

The pipeline file (default .gitops/pipeline.yaml in the repository) lists the environments in
order, where each application's version lives in each of them, and each environment's policy:
  auto           commit on the environment's branch and push (a rejected push is rebased and
                 retried, never forced)
  pull-request   push a branch promote/<env>/<app>-<version> and open a pull request (GitHub,
                 GitLab, Gitea/Forgejo; token from GITHUB_TOKEN, GITLAB_TOKEN or GITEA_TOKEN), or
                 print the URL to open one without a token

With no APP, every application pending in ENV is promoted (as status shows it: the source
has a newer or an unordered version; an older one only with --allow-downgrade).

A semver range (6.x, >=1.0.0, ~1.2, ^1.2.3, *) in a HelmRelease, HelmChart or OCIRepository is
not a version: a range in the source is refused, unless --resolve-range promotes the chart
version the source's healthy Flux HelmRelease runs; a range in the target is never replaced.

Before writing anything, the version must be deployed and healthy in the source environment
(read from its live cluster), soaked for the target's soak time, with the target's required
checks passed and no drift in the source environment. --skip-gates skips them, and the commit
says so. A version given for the first environment (--version) has no source and no gate.
Each cluster request times out after 15s unless --request-timeout is given (0: no limit).

Your checkout must be clean, on the pipeline's branch, with the remote configured; edits are made
in a temporary worktree, so a failure at any step leaves your repository as it was.

Exit status: 0 promoted (or nothing to do), 1 refused by a gate, 2 on any other error.`,
		Example: fmt.Sprintf(`  # Promote web to staging with the version dev runs (after checking dev's health)
  %[1]s web --to staging

  # See the diff only
  %[1]s web api --to prod --dry-run

  # A given version, from a given environment
  %[1]s web --to prod --from staging --version 1.4.2

  # Versions in Git and live, per application and environment
  %[1]s status

  # History and rollback
  %[1]s history web --env prod
  %[1]s rollback web --env prod`, env.Name),
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && o.To == "" {
				return cmd.Help()
			}
			return cli.RunE(o)(cmd, args)
		},
		ValidArgsFunction: c.completeApps,
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&c.Repo, "repo", "C", ".", "The GitOps repository (a directory inside its working tree)")
	pf.StringVar(&c.Pipeline, "pipeline", "", "The pipeline file (default <repo>/"+promotion.DefaultFile+")")
	c.Output.AddFlag(root, pf, "Output format: text, json or yaml; status also wide (the table with FROM and FROM-VERSION)")
	pf.StringSliceVar(&c.TrustForgeHosts, "trust-forge-host", nil, "A forge API host other than the remote's that may receive the forge token (repeatable; also KUBECTL_GITOPS_TRUST_FORGE_HOSTS, comma-separated)")
	pf.BoolVar(&c.AllowHTTPForge, "allow-http-forge", false, "Send the forge token over plain http to a host that is not a loopback address")
	_ = root.MarkPersistentFlagDirname("repo")
	_ = root.MarkPersistentFlagFilename("pipeline", "yaml", "yml")
	o.bindFlags(root)
	root.AddCommand(newStatusCmd(c), newHistoryCmd(c), newRollbackCmd(c))
	c.root = root
	return root
}

// session is an opened repository and pipeline.
type session struct {
	repo     *gitrepo.Repo
	pipeline *promotion.Pipeline
	engine   *promoter.Engine
}

// open opens the repository and the pipeline and wires the engine to the
// clusters, the forge and the drift engine.
func (c *common) open(ctx context.Context) (*session, error) {
	if err := c.Output.Validate(); err != nil {
		return nil, err
	}
	repo, err := gitrepo.Open(ctx, c.Repo)
	if err != nil {
		return nil, err
	}
	file := c.Pipeline
	if file == "" {
		file = filepath.Join(repo.Root(), promotion.DefaultFile)
		if _, err := os.Stat(file); err != nil {
			return nil, cli.Usagef("no pipeline file: %s does not exist (see docs/promotion.md, or pass --pipeline)", file)
		}
	}
	p, err := promotion.Load(file)
	if err != nil {
		// Every mistake is reported, one per line (a *cli.UsageError would
		// print the first line only), exit 2; a URL given where a remote
		// name belongs is not echoed with its credentials.
		return nil, redact.MaskError(err, gitrepo.RedactURL)
	}
	// A pipeline file comes from the repository: before anything runs,
	// refuse a forge.url that would receive the token somewhere the user
	// did not choose (a remote that names no forge is reported when used).
	if p.Forge.URL != "" {
		var ue *untrustedForgeError
		if _, _, err := c.resolveForge(ctx, repo, p); errors.As(err, &ue) {
			return nil, ue.err
		}
	}
	s := &session{repo: repo, pipeline: p}
	kc := newKubeClusters(c.env, c.timeoutGiven)
	s.engine = &promoter.Engine{
		Repo: repo, Pipeline: p,
		Cluster:          opener(kc, func(cl *cluster.Client) cluster.Reader { return cl }),
		DefaultNamespace: kc.namespace,
		Forge:            c.forge(repo, p),
		Progress:         func(format string, args ...any) { fmt.Fprintf(c.env.Streams.ErrOut, format+"\n", args...) },
	}
	s.engine.Drift = driftGate(s.engine, opener(kc, func(cl *cluster.Client) driftCluster { return cl }))
	return s, nil
}

// forge recognises the forge of the remote; without a token the client is
// nil (a compare URL is printed instead of opening a pull request).
func (c *common) forge(repo *gitrepo.Repo, p *promotion.Pipeline) func(ctx context.Context) (forge.Client, forge.Repo, error) {
	return func(ctx context.Context) (forge.Client, forge.Repo, error) {
		fr, token, err := c.resolveForge(ctx, repo, p)
		if err != nil || token == "" {
			return nil, fr, err
		}
		return forge.New(fr, token, nil), fr, nil
	}
}

// untrustedForgeError is a forge the token may not be sent to.
type untrustedForgeError struct{ err error }

func (e *untrustedForgeError) Error() string { return e.err.Error() }
func (e *untrustedForgeError) Unwrap() error { return e.err }

// resolveForge works out the forge and its token from the remote URL and
// the pipeline's forge section. The token is only read when it may go to the
// forge's API: https (http on loopback), on the remote's host or one the user
// trusts (forge.CheckTokenTarget); otherwise an *untrustedForgeError points
// at the pipeline's forge.url (or names the remote).
func (c *common) resolveForge(ctx context.Context, repo *gitrepo.Repo, p *promotion.Pipeline) (forge.Repo, string, error) {
	remote := p.Remote
	if remote == "" {
		remote = promotion.DefaultRemote
	}
	url, err := repo.RemoteURL(ctx, remote)
	if err != nil {
		return forge.Repo{}, "", err
	}
	cfg := forge.Config{URL: p.Forge.URL}
	if p.Forge.Type != "" {
		if cfg.Kind, err = forge.ParseKind(string(p.Forge.Type)); err != nil {
			return forge.Repo{}, "", err
		}
	}
	fr, err := forge.ParseRemote(url, cfg)
	if err != nil {
		return forge.Repo{}, "", fmt.Errorf("recognising the forge of %s (set forge: in the pipeline file): %w", gitrepo.RedactURL(url), err)
	}
	trust := forge.Trust{Hosts: c.TrustForgeHosts, AllowHTTP: c.AllowHTTPForge}
	for _, h := range strings.Split(os.Getenv(trustForgeHostsEnv), ",") {
		if h = strings.TrimSpace(h); h != "" {
			trust.Hosts = append(trust.Hosts, h)
		}
	}
	tokenEnv := p.Forge.TokenEnv
	if tokenEnv == "" {
		tokenEnv = promotion.DefaultTokenEnv(promotion.ForgeType(fr.Kind))
	}
	token := os.Getenv(tokenEnv)
	if token == "" && p.Forge.URL == "" {
		return fr, "", nil // nothing to send, nothing the file chose
	}
	if err := forge.CheckTokenTarget(fr, url, trust); err != nil {
		var te *forge.TokenTargetError
		hint := ""
		if errors.As(err, &te) && te.Insecure {
			hint = " or pass --allow-http-forge"
		} else if errors.As(err, &te) {
			hint = fmt.Sprintf(" or confirm it with --trust-forge-host %s (or %s)", te.Host, trustForgeHostsEnv)
		}
		if p.Forge.URL != "" {
			err = p.FieldError(p.Forge.URLPos, "forge.url", err.Error()+": correct the pipeline file"+hint)
		} else {
			err = fmt.Errorf("remote %s: %w (no token is sent: use an https remote%s)", gitrepo.RedactURL(url), err, hint)
		}
		return fr, "", &untrustedForgeError{err}
	}
	return fr, token, nil
}

// completionPipeline loads the pipeline for shell completion, or nil.
func (c *common) completionPipeline(cmd *cobra.Command) *promotion.Pipeline {
	file := c.Pipeline
	if file == "" {
		repo, err := gitrepo.Open(cmd.Context(), c.Repo)
		if err != nil {
			return nil
		}
		file = filepath.Join(repo.Root(), promotion.DefaultFile)
	}
	p, err := promotion.Load(file)
	if err != nil {
		return nil
	}
	return p
}

func (c *common) completeApps(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	if p := c.completionPipeline(cmd); p != nil {
		return p.AppNames(), cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func (c *common) completeEnvs(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	if p := c.completionPipeline(cmd); p != nil {
		return p.Order(), cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// trustForgeHostsEnv adds to --trust-forge-host (comma-separated).
const trustForgeHostsEnv = "KUBECTL_GITOPS_TRUST_FORGE_HOSTS"

// timeoutGiven tells whether --request-timeout was given (0 included).
func (c *common) timeoutGiven() bool {
	if c.root == nil {
		return false
	}
	f := c.root.PersistentFlags().Lookup("request-timeout")
	return f != nil && f.Changed
}

// refusal maps engine errors to the exit-code contract: a failed gate is a
// finding (exit 1); planning mistakes are usage errors (exit 2).
func refusal(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, promoter.ErrGate) {
		return &cli.FindingsError{Summary: "refused: " + err.Error()}
	}
	var pe *promotion.PlanError
	if errors.As(err, &pe) && !errors.Is(err, promotion.ErrNoChange) {
		return &cli.UsageError{Err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) {
		// A cluster that cannot be reached: keep the message, which names
		// the environment (cli.FormatError would print kubectl's "The
		// connection to the server … was refused" alone).
		return errors.New(err.Error())
	}
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func join(ss []string) string { return strings.Join(ss, ", ") }
