package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolayout"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// InitOptions are the options of `repo init`.
type InitOptions struct {
	env *cli.Env

	Operator     string
	Layout       string
	Envs         []string
	EnvStrategy  string
	Apps         []string
	Dir          string
	RepoURL      string
	Registry     string
	AgeRecipient string
	Force        bool
	DryRun       bool
	Git          bool

	spec  repolayout.Spec
	files []repolayout.File
}

func newInitCmd(env *cli.Env) *cobra.Command {
	o := &InitOptions{env: env}
	cmd := &cobra.Command{
		Use:   "init --operator argocd|flux [--layout mono|per-team] [--envs dev,staging,prod] [--env-strategy dirs|branches] [--apps a,b]",
		Short: "Write a working GitOps repository skeleton for Argo CD or Flux",
		Long: `Write a working GitOps repository skeleton into --dir (default: the current directory).

  --operator argocd   a root app-of-apps Application per environment (argocd/bootstrap/<env>),
                      AppProjects, one Application per application and environment
  --operator flux     clusters/<env> with a GitRepository and Kustomizations:
                      infrastructure → tenants → apps (dependsOn)
  --layout mono       apps/<app>/base, envs/<env>/<app>; one AppProject for the applications
  --layout per-team   teams/<team>/<app>/base, envs/<env>/<team>/<app>; an AppProject (Argo CD)
                      or Kustomization (Flux) per team; --apps takes TEAM/APP
  --env-strategy dirs      every environment is a directory of main (envs/<env>)
  --env-strategy branches  every environment has a branch env/<env>; init writes main's tree
                           and says which branches to create (--git creates them from HEAD)

Both get base + overlay per application and environment, infrastructure/<env> (namespaces),
tenants/ (for 'kubectl gitops tenant'), .gitops/pipeline.yaml (for 'kubectl gitops promote'),
.sops.yaml (for 'kubectl gitops seal'), .gitops/drift-ignore.yaml, .gitops/lint.yaml and a
README.md explaining the layout.

Idempotent: a second run writes nothing. A file that exists with other content is never
overwritten without --force, and then nothing at all is written.`,
		Example: fmt.Sprintf(`  # Argo CD, one repository, three environments as directories
  %[1]s init --operator argocd --envs dev,staging,prod --apps web,api

  # Flux, one subtree per team, an environment per branch, into ./gitops
  %[1]s init --operator flux --layout per-team --apps team-a/web,team-b/api \
      --env-strategy branches --dir gitops --repo-url https://github.com/acme/gitops.git

  # What would be written
  %[1]s init --operator flux --dry-run`, env.Name),
		Args: cobra.NoArgs,
		RunE: cli.RunE(o),
	}
	f := cmd.Flags()
	f.StringVar(&o.Operator, "operator", "", "GitOps operator: argocd or flux (required)")
	f.StringVar(&o.Layout, "layout", string(repolayout.LayoutMono), "Repository layout: mono or per-team")
	f.StringSliceVar(&o.Envs, "envs", repolayout.DefaultEnvs, "Environments, in promotion order")
	f.StringVar(&o.EnvStrategy, "env-strategy", string(repolayout.EnvDirs), "Where environments live: dirs (envs/<env> on main) or branches (env/<env>)")
	f.StringSliceVar(&o.Apps, "apps", nil, "Applications: NAME, or TEAM/NAME with --layout per-team (default web,api or team-a/web,team-b/api)")
	f.StringVar(&o.Dir, "dir", ".", "The repository's directory (created if missing)")
	f.StringVar(&o.RepoURL, "repo-url", repolayout.DefaultRepoURL, "URL the operator clones this repository from (http, https or ssh)")
	f.StringVar(&o.Registry, "registry", repolayout.DefaultRegistry, "Image repository prefix of the applications (<registry>/<app>)")
	f.StringVar(&o.AgeRecipient, "age", "", "age recipient for .sops.yaml (default: a placeholder to replace)")
	f.BoolVar(&o.Force, "force", false, "Overwrite files that exist with other content")
	f.BoolVar(&o.DryRun, "dry-run", false, "List what would be written; write nothing")
	f.BoolVar(&o.Git, "git", false, "With --env-strategy branches: create the env/<env> branches from HEAD (the skeleton must be committed)")
	_ = cmd.MarkFlagDirname("dir")
	_ = cmd.RegisterFlagCompletionFunc("operator", cobra.FixedCompletions([]string{"argocd", "flux"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("layout", cobra.FixedCompletions([]string{"mono", "per-team"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("env-strategy", cobra.FixedCompletions([]string{"dirs", "branches"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete builds the spec from the flags.
func (o *InitOptions) Complete(context.Context, *cobra.Command, []string) error {
	layout := repolayout.Layout(o.Layout)
	apps, err := repolayout.ParseApps(o.Apps, layout)
	if err != nil {
		return cli.Usagef("--apps: %v", err)
	}
	o.spec = repolayout.Spec{
		Operator: repolayout.Operator(o.Operator), Layout: layout, Envs: o.Envs,
		EnvStrategy: repolayout.EnvStrategy(o.EnvStrategy), Apps: apps,
		RepoURL: o.RepoURL, Registry: o.Registry, AgeRecipient: o.AgeRecipient,
	}
	o.spec.Default()
	return nil
}

// Validate checks the flags and generates the files (pure).
func (o *InitOptions) Validate() error {
	if err := o.spec.Validate(); err != nil {
		var msgs []string
		for _, line := range strings.Split(err.Error(), "\n") {
			msgs = append(msgs, "--"+line)
		}
		return &cli.UsageError{Err: errors.New(strings.Join(msgs, "; "))}
	}
	if o.Git && o.spec.EnvStrategy != repolayout.EnvBranches {
		return cli.Usagef("--git is for --env-strategy branches")
	}
	files, err := repolayout.Generate(o.spec)
	if err != nil {
		return err
	}
	o.files = files
	return nil
}

// Run writes the skeleton.
func (o *InitOptions) Run(ctx context.Context) error {
	w := o.env.Streams.Out
	if st, err := os.Stat(o.Dir); err == nil && !st.IsDir() {
		return cli.Usagef("--dir %s is not a directory", o.Dir)
	}
	if o.Git && !o.DryRun {
		// Before writing: --git in a directory that is not a work tree
		// would write the skeleton and only then fail.
		if out, err := git(ctx, o.Dir, "rev-parse", "--is-inside-work-tree"); err != nil || out != "true" {
			return cli.Usagef("--git: %s is not in a git work tree: run git init first", o.Dir)
		}
	}
	changes, err := repolayout.Write(o.Dir, o.files, repolayout.WriteOptions{Force: o.Force, DryRun: o.DryRun})
	var conflict *repolayout.ConflictError
	if errors.As(err, &conflict) {
		return &cli.UsageError{Err: err}
	}
	if err != nil {
		return err
	}
	suffix := ""
	if o.DryRun {
		suffix = " (dry run)"
	}
	written := 0
	for _, c := range changes {
		switch c.Action {
		case repolayout.Create:
			fmt.Fprintf(w, "created %s%s\n", filepath.Join(o.Dir, filepath.FromSlash(c.Path)), suffix)
			written++
		case repolayout.Overwrite:
			fmt.Fprintf(w, "overwrote %s%s\n", filepath.Join(o.Dir, filepath.FromSlash(c.Path)), suffix)
			written++
		}
	}
	if written == 0 {
		fmt.Fprintf(w, "%s is up to date: nothing to write (%d files)\n", o.Dir, len(changes))
	}
	if o.spec.EnvStrategy == repolayout.EnvBranches {
		return o.branches(ctx, written)
	}
	return nil
}

// branches says which environment branches to create, or creates them
// with --git.
func (o *InitOptions) branches(ctx context.Context, written int) error {
	w := o.env.Streams.Out
	envBranches := o.spec.Branches()[1:]
	if !o.Git {
		fmt.Fprintf(w, "environments live on branches: after committing, create %s from %s (git push origin %s:%s …), or run again with --git\n",
			strings.Join(envBranches, ", "), repolayout.DefaultBranch, repolayout.DefaultBranch, envBranches[0])
		return nil
	}
	if o.DryRun {
		fmt.Fprintf(w, "would create branches %s from HEAD (dry run)\n", strings.Join(envBranches, ", "))
		return nil
	}
	if written > 0 {
		return fmt.Errorf("--git: files were just written: commit the skeleton, then run again with --git to create %s", strings.Join(envBranches, ", "))
	}
	paths := make([]string, 0, len(o.files))
	for _, f := range o.files {
		paths = append(paths, f.Path)
	}
	if out, err := git(ctx, o.Dir, append([]string{"status", "--porcelain", "--"}, paths...)...); err != nil {
		return fmt.Errorf("--git: %s is not a git work tree: %w", o.Dir, err)
	} else if out != "" {
		return fmt.Errorf("--git: the skeleton has uncommitted changes: commit them first")
	}
	for _, b := range envBranches {
		if _, err := git(ctx, o.Dir, "rev-parse", "--verify", "--quiet", "refs/heads/"+b); err == nil {
			fmt.Fprintf(w, "branch %s exists\n", b)
			continue
		}
		if _, err := git(ctx, o.Dir, "branch", b, "HEAD"); err != nil {
			return fmt.Errorf("--git: creating branch %s: %w", b, err)
		}
		fmt.Fprintf(w, "created branch %s\n", b)
	}
	fmt.Fprintf(w, "push them with: git push origin %s\n", strings.Join(envBranches, " "))
	return nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := gitrepo.Run(ctx, gitrepo.RunOptions{Dir: dir}, args...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
