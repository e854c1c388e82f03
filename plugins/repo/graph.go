package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartlint"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph/picture"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolint"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// GraphOptions are the options of `repo graph`.
type GraphOptions struct {
	env *cli.Env

	Path     string
	Output   cli.OutputFlag
	RepoURLs []string
	// RepoOverrides are ORIGINAL_URL=DIR pairs: OCI artifacts pushed from
	// a directory of this repository (see artifactDirs).
	RepoOverrides []string

	files    []string
	checkout *checkout
}

func newGraphCmd(env *cli.Env) *cobra.Command {
	o := &GraphOptions{env: env, Output: cli.NewOutputFlag("text", "text", "dot", "svg", "png")}
	cmd := &cobra.Command{
		Use:   "graph [PATH]",
		Short: "Show the app-of-apps / Kustomization tree of a GitOps repository",
		Long: `Show how the Argo CD Applications and Flux Kustomizations of the repository at PATH
(default: the current directory) connect: an Application or Kustomization holds the ones
defined in the files its path builds from (app of apps), and Flux Kustomizations depend on
others (dependsOn). Roots are grouped by the directory that holds them.

  -o text   a tree (default): "→ path", "@revision" when it changes, "[wave N]" for Argo CD
            sync waves, "(depends on …)", "(missing)" for a path that does not exist,
            "(external)" for another repository
  -o dot    Graphviz DOT: solid edges for "holds", dashed for dependsOn, the roots of one
            directory in a box, external sources dashed, missing paths red
  -o svg    a picture drawn here (no Graphviz needed), styled as the DOT: an SVG image
  -o png    the same picture as a PNG image

Sources are read as written (a name changed by a kustomize namePrefix shows unchanged).
Applications and GitRepositories whose URL is not one of this repository's (.gitops/lint.yaml
repoURLs, --repo-url, the origin remote) are not followed; with no URL known, every path is.
A source of this repository on another branch or tag is read from git when it has that ref
locally (a branch, origin's remote-tracking branch, a tag), else shown "(not in this checkout:
not followed)"; the files on disk stand for the branch checked out and origin's default
branch. An Argo CD Application whose path is a Helm chart is shown "(Helm chart: not rendered)"
with a note. A Flux OCIRepository is an external source shown with its URL, unless
--repo-override says its artifact is pushed from a directory of this repository: its
Kustomizations' paths are then read from that directory.`,
		Example: fmt.Sprintf(`  %[1]s graph
  %[1]s graph ./gitops -o svg > gitops.svg
  %[1]s graph ./gitops -o dot | dot -Tpdf > gitops.pdf`, env.Name),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeDir,
		RunE:              cli.RunE(o),
	}
	f := cmd.Flags()
	o.Output.AddFlag(cmd, f, "Output format: text, dot, svg or png")
	f.StringSliceVar(&o.RepoURLs, "repo-url", nil, "This repository's URL (repeatable; added to .gitops/lint.yaml repoURLs)")
	f.StringArrayVar(&o.RepoOverrides, "repo-override", nil, repoOverrideUsage)
	return cmd
}

// Complete resolves PATH, its files and this repository's URLs.
func (o *GraphOptions) Complete(ctx context.Context, _ *cobra.Command, args []string) error {
	p, err := repoPath(args)
	if err != nil {
		return err
	}
	o.Path = p
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
	data, err := os.ReadFile(filepath.Join(p, filepath.FromSlash(repolint.ConfigFile)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading the lint configuration: %w", err)
	}
	if err == nil {
		cfg, err := repolint.ParseConfig(repolint.ConfigFile, data)
		if err != nil {
			return err
		}
		o.RepoURLs = append(o.RepoURLs, cfg.RepoURLs...)
	}
	return nil
}

// Validate checks the flags.
func (o *GraphOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if err := gitrepo.CheckOverrides(o.RepoOverrides); err != nil {
		return cli.Usagef("%v", err)
	}
	return nil
}

// Run prints the graph.
func (o *GraphOptions) Run(ctx context.Context) error {
	defer o.checkout.close()
	gopts := o.checkout.graphOptions(o.RepoURLs, o.Path, o.RepoOverrides)
	// A Helm app of apps: the chart rendered with the Application's values
	// (the Helm SDK's log lines kept off stderr, as lint keeps them).
	slog.SetDefault(slog.New(slog.DiscardHandler))
	gopts.RenderChart = chartlint.GraphRenderer(ctx)
	g, err := repograph.Load(o.Path, o.files, gopts)
	if err != nil {
		return err
	}
	switch o.Output.Format {
	case "dot":
		return g.WriteDOT(o.env.Streams.Out)
	case "svg", "png":
		// The whole image first: nothing is written when drawing fails.
		var b bytes.Buffer
		draw := picture.WriteSVG
		if o.Output.Format == "png" {
			draw = writePNG
		}
		if err := draw(&b, g.Diagram()); err != nil {
			return fmt.Errorf("drawing the graph: %w", err)
		}
		_, err := o.env.Streams.Out.Write(b.Bytes())
		return err
	}
	return g.WriteText(o.env.Streams.Out)
}

// writePNG draws the PNG; a variable so that a test can make it fail.
var writePNG = picture.WritePNG
