package drift

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Defaults of the operator namespaces.
const (
	DefaultArgoNamespace = "argocd"
	DefaultFluxNamespace = "flux-system"
)

// addSourceFlags registers the flags of the sources other than -f/-k.
func addSourceFlags(f *pflag.FlagSet, o *Options) {
	f.StringVar(&o.Repo, "repo", "", "Git repository URL to read the desired state from (cloned into a temporary directory)")
	f.StringVar(&o.Revision, "revision", "", "Branch, tag or commit of --repo (default: the remote's default branch)")
	f.StringVar(&o.Path, "path", "", "Directory of --repo holding the manifests: built like -k when it has a kustomization, else read recursively")
	f.StringArrayVar(&o.ArgoApps, "argocd-app", nil, "Argo CD Application to compare, NAME or NAMESPACE/NAME (repeatable)")
	f.BoolVar(&o.AllArgoApps, "all-argocd-apps", false, "Compare every Argo CD Application, in all namespaces")
	f.StringVar(&o.ArgoNamespace, "argocd-namespace", o.ArgoNamespace, "Argo CD's namespace: where --argocd-app NAME is looked up, and argocd-cm read")
	f.StringArrayVar(&o.FluxKustomizations, "flux-kustomization", nil, "Flux Kustomization to compare, NAME or NAMESPACE/NAME (repeatable)")
	f.StringArrayVar(&o.FluxHelmReleases, "flux-helmrelease", nil, "Flux HelmRelease to compare, NAME or NAMESPACE/NAME: its chart rendered as helm-controller does (repeatable)")
	f.BoolVar(&o.AllFlux, "all-flux", false, "Compare every Flux Kustomization and HelmRelease, in all namespaces")
	f.StringVar(&o.FluxNamespace, "flux-namespace", o.FluxNamespace, "Namespace of --flux-kustomization NAME and --flux-helmrelease NAME")
	f.StringArrayVar(&o.RepoOverrides, "repo-override", nil, "Fetch ORIGINAL_URL (a Git repository, a Helm chart repository, an oci:// registry) from LOCAL_URL instead (a URL; for charts also a local directory), ORIGINAL_URL=LOCAL_URL (an ORIGINAL_URL ending in / maps every URL it starts; repeatable)")
	f.BoolVar(&o.AppliedRevision, "applied-revision", false, "Compare Argo CD and Flux sources with the commit the operator last synced or applied (from its status), not the revision it follows")
}

// validateSources checks that exactly one kind of input is given.
func (o *Options) validateSources() error {
	files := len(o.Filenames) > 0 || o.Kustomize != ""
	switch {
	case files && o.sourceMode():
		return cli.Usagef("-f/-k cannot be combined with --repo, --argocd-app, --all-argocd-apps, --flux-kustomization, --flux-helmrelease or --all-flux")
	case !files && !o.sourceMode():
		return cli.Usagef("must specify one of -f, -k, --repo, --argocd-app, --all-argocd-apps, --flux-kustomization, --flux-helmrelease or --all-flux")
	case len(o.Filenames) > 0 && o.Kustomize != "":
		return cli.Usagef("only one of -f or -k can be specified")
	case (o.Revision != "" || o.Path != "") && o.Repo == "":
		return cli.Usagef("--revision and --path need --repo")
	case o.AppliedRevision && len(o.ArgoApps)+len(o.FluxKustomizations)+len(o.FluxHelmReleases) == 0 && !o.AllArgoApps && !o.AllFlux:
		return cli.Usagef("--applied-revision needs Argo CD or Flux sources")
	case len(o.RepoOverrides) > 0 && !o.sourceMode():
		return cli.Usagef("--repo-override needs --repo, --argocd-app, --all-argocd-apps, --flux-kustomization, --flux-helmrelease or --all-flux sources")
	}
	return nil
}

// runSources compares every source and renders one report per source.
func (o *Options) runSources(ctx context.Context) error {
	client, err := o.newClient(o.env.ConfigFlags)
	if err != nil {
		return err
	}
	reports, err := o.checkAll(ctx, client)
	if err != nil {
		return err
	}
	defer cleanupReports(reports)
	warnSources(o, reports)
	if err := renderSources(o.Streams.Out, o.Streams.ErrOut, reports, o.Output.Format, o.Mode, o.color, o.NoHeaders); err != nil {
		return err
	}
	return o.postComment(ctx, resultAll(reports, o.ExitCode), func(w io.Writer) error {
		return renderSources(w, io.Discard, reports, "markdown", o.Mode, false, false)
	})
}

// warnSources prints every source's warnings and errors on stderr.
func warnSources(o *Options, reports []sourceReport) {
	for _, r := range reports {
		for _, w := range r.Source.Warnings {
			fmt.Fprintf(o.Streams.ErrOut, "warning: %s: %s\n", r.Source.Name, w)
		}
		if r.Report != nil {
			for _, w := range r.Report.Warnings {
				fmt.Fprintf(o.Streams.ErrOut, "warning: %s: %s\n", r.Source.Name, w)
			}
		}
		switch {
		case r.Err != nil:
			fmt.Fprintf(o.Streams.ErrOut, "error: %s: %v\n", r.Source.Name, r.Err)
		case r.Source.Skip != "":
			fmt.Fprintf(o.Streams.ErrOut, "note: %s: skipped: %s\n", r.Source.Name, r.Source.Skip)
		}
	}
}

// resultAll maps the reports to the exit-code contract: any source or
// object in error is exit 2, after everything was reported.
func resultAll(reports []sourceReport, exitOnDrift bool) error {
	var failed, objErrs int
	drifted := false
	for _, r := range reports {
		if r.Err != nil {
			failed++
			continue
		}
		if r.Report == nil {
			continue
		}
		objErrs += r.Report.Counts()[compare.StatusError]
		drifted = drifted || r.Report.Drifted()
	}
	switch {
	case failed > 0 && objErrs > 0:
		return fmt.Errorf("%d source(s) and %d object(s) could not be compared (see above)", failed, objErrs)
	case failed > 0:
		return fmt.Errorf("%d source(s) could not be compared (see above)", failed)
	case objErrs > 0:
		return fmt.Errorf("%d object(s) could not be compared (see above)", objErrs)
	case drifted && exitOnDrift:
		return &cli.FindingsError{}
	}
	return nil
}
