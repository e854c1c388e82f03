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
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Main runs the plugin binary and returns its exit code.
func Main(argv []string) int {
	return cli.Main(argv, NewCmd)
}

// NewCmd builds the plugin's root command.
func NewCmd(env *cli.Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "repo",
		Short: "Scaffold a GitOps repository for Argo CD or Flux, lint it, and show its structure",
		Long: `Start a GitOps repository right and keep it right.

  init    write a working skeleton: Argo CD (a root app-of-apps Application per environment,
          AppProjects) or Flux (clusters/<env> with infrastructure → tenants → apps), a mono-repo
          or per-team layout, environments as directories or branches; plus the promotion
          pipeline, the tenants directory, .sops.yaml, the drift ignore file and a README
  lint    check a repository: kustomize builds, every environment has every application,
          no plaintext secrets, paths of Applications and Kustomizations exist, images pinned,
          pipeline valid, schemas (offline for built-in kinds; with --context or --kubeconfig
          a server-side dry run of every object)
  graph   the app-of-apps / Kustomization dependency tree, as text, Graphviz DOT, SVG or PNG

See docs/repo-structure.md for the layouts and their trade-offs.`,
		Example: fmt.Sprintf(`  # A Flux mono-repo with three environments
  %[1]s init --operator flux --layout mono --envs dev,staging,prod --dir gitops

  # Check it (exit 1 on errors)
  %[1]s lint gitops

  # Its Kustomization tree, as an image
  %[1]s graph gitops -o svg > gitops.svg`, env.Name),
	}
	root.AddCommand(newInitCmd(env), newLintCmd(env), newGraphCmd(env))
	return root
}

// completeDir completes the PATH argument with directories.
func completeDir(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// repoPath is the PATH argument: the repository, "." by default.
func repoPath(args []string) (string, error) {
	p := "."
	if len(args) > 0 {
		p = args[0]
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", cli.Usagef("PATH %s: %v", p, unwrapPath(err))
	}
	if !st.IsDir() {
		return "", cli.Usagef("PATH %s is not a directory", p)
	}
	return filepath.Clean(p), nil
}

func unwrapPath(err error) error {
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// gitFiles lists the tracked and untracked, not ignored, files under dir,
// relative to dir and slash-separated. ok is false when dir is not in a git
// work tree (or git is missing): the caller walks the directory instead.
func gitFiles(ctx context.Context, dir string) (files []string, ok bool, err error) {
	if !gitrepo.Installed() {
		return nil, false, nil
	}
	out, err := gitrepo.Run(ctx, gitrepo.RunOptions{Dir: dir}, "rev-parse", "--is-inside-work-tree")
	if err != nil || strings.TrimSpace(string(out)) != "true" {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, nil
	}
	out, err = gitrepo.Run(ctx, gitrepo.RunOptions{Dir: dir}, "ls-files", "-z", "-co", "--exclude-standard", "--", ".")
	if err != nil {
		return nil, true, fmt.Errorf("listing the files of %s: %w", dir, err)
	}
	files = []string{}
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" {
			continue
		}
		// Listed but deleted from the work tree.
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			continue
		}
		files = append(files, f)
	}
	return files, true, nil
}
