package drift

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
)

// Source types, as the JSON report names them.
const (
	sourceFiles  = desired.TypeFiles
	sourceGit    = desired.TypeGit
	sourceArgoCD = desired.TypeArgoCD
	sourceFlux   = desired.TypeFlux
)

// source is one desired state to compare with the cluster (pkg/desired).
type source = desired.Source

// sourceReport is the outcome of comparing one source.
type sourceReport struct {
	Source source
	Report *compare.Report
	Err    error
}

// sourceMode reports whether sources other than -f/-k are asked for.
func (o *Options) sourceMode() bool {
	return o.Repo != "" || len(o.ArgoApps) > 0 || o.AllArgoApps || len(o.FluxKustomizations) > 0 || o.AllFlux || len(o.FluxHelmReleases) > 0
}

// desiredOptions are the settings every source starts from.
func (o *Options) desiredOptions() desired.Options {
	return desired.Options{Ignore: o.ignore, PruneSelector: o.PruneSelector, Namespace: o.namespace,
		EnforceNamespace: o.enforceNamespace, RepoOverrides: o.RepoOverrides, AppliedRevision: o.AppliedRevision}
}

// filesSource wraps the -f/-k objects.
func (o *Options) filesSource(objs []compare.Desired) source {
	return o.desiredOptions().Files(objs)
}

// loadSources reads every source asked for. Problems with one source
// (unreachable repository, bad manifests, unsupported Application) are
// recorded on it; only a cluster that cannot be read is an error. The
// caller runs each source's Cleanup.
func (o *Options) loadSources(ctx context.Context, client *cluster.Client) ([]source, error) {
	if !o.sourceMode() {
		objs, err := o.loadDesired(ctx)
		if err != nil {
			return nil, err
		}
		return []source{o.filesSource(objs)}, nil
	}
	dopts := o.desiredOptions()
	charts, err := newChartFetcher(client, o.RepoOverrides)
	if err != nil {
		return nil, err
	}
	dopts.Helm = helmRenderer(client, charts, o.confiner)
	dopts.Charts = charts
	dopts.ReadSecret = secretData(client)
	var f *desired.Fetcher
	if o.fetched != nil { // a fleet run: the clusters share the fetches
		f = o.fetched.Fetcher(dopts)
	} else {
		f = desired.NewFetcher(dopts)
	}
	var out []source
	if o.Repo != "" {
		out = append(out, f.Git(ctx, o.Repo, o.Revision, o.Path))
	}
	ops, err := o.operatorSources(ctx, client)
	if err != nil {
		f.Close()
		return nil, err
	}
	isNamespaced := func(obj *unstructured.Unstructured) bool { return namespaced(ctx, client, obj) }
	for _, op := range ops {
		if op.err != nil {
			out = append(out, desired.Failed(op.name, op.err))
			continue
		}
		out = append(out, f.Operator(ctx, op.src, op.explicit, isNamespaced))
	}
	// Checkouts are shared between sources of the same repository and
	// revision: the last source holds the cleanup of all.
	if len(out) > 0 {
		out[len(out)-1].Cleanup = f.Close
	} else {
		f.Close()
	}
	return out, nil
}

// requested is an operator source asked for: by name (explicit) or found
// by --all-*.
type requested struct {
	src      *gitopsapi.Source
	explicit bool
	err      error  // reading it failed
	name     string // when err is set
}

// operatorSources reads the Argo CD Applications and Flux Kustomizations
// asked for, in the order asked, then those found by --all-* (sorted).
func (o *Options) operatorSources(ctx context.Context, client *cluster.Client) ([]requested, error) {
	var out []requested
	seen := map[string]bool{}
	add := func(r requested) {
		id := r.name
		if r.src != nil {
			id = r.src.ID()
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, r)
		}
	}
	if len(o.ArgoApps) > 0 || o.AllArgoApps {
		st, warning, err := gitopsapi.ReadArgoSettings(ctx, client, o.ArgoNamespace)
		if err != nil {
			return nil, err
		}
		if warning != "" && !o.AllArgoApps {
			fmt.Fprintln(o.Streams.ErrOut, "warning:", warning)
		}
		for _, name := range o.ArgoApps {
			ns, n := splitName(name, o.ArgoNamespace)
			s, err := gitopsapi.GetArgoApp(ctx, client, st, ns, n)
			if err != nil && fatal(err) {
				return nil, err
			}
			add(requested{src: s, explicit: true, err: err, name: "argocd/" + ns + "/" + n})
		}
		if o.AllArgoApps {
			all, err := gitopsapi.ListArgoApps(ctx, client, st, o.listNamespace())
			switch {
			case errors.Is(err, gitopsapi.ErrNotInstalled):
				fmt.Fprintln(o.Streams.ErrOut, "note:", err)
			case err != nil:
				return nil, err
			}
			if len(all) > 0 && warning != "" {
				fmt.Fprintln(o.Streams.ErrOut, "warning:", warning)
			}
			for _, s := range all {
				add(requested{src: s})
			}
		}
	}
	for _, name := range o.FluxKustomizations {
		ns, n := splitName(name, o.FluxNamespace)
		s, err := gitopsapi.GetFluxKustomization(ctx, client, ns, n)
		if err != nil && fatal(err) {
			return nil, err
		}
		add(requested{src: s, explicit: true, err: err, name: "flux/" + ns + "/" + n})
	}
	if o.AllFlux {
		all, err := gitopsapi.ListFluxKustomizations(ctx, client, o.listNamespace())
		switch {
		case errors.Is(err, gitopsapi.ErrNotInstalled):
			fmt.Fprintln(o.Streams.ErrOut, "note:", err)
		case err != nil:
			return nil, err
		}
		for _, s := range all {
			add(requested{src: s})
		}
	}
	for _, name := range o.FluxHelmReleases {
		ns, n := splitName(name, o.FluxNamespace)
		s, err := gitopsapi.GetFluxHelmRelease(ctx, client, ns, n)
		if err != nil && fatal(err) {
			return nil, err
		}
		add(requested{src: s, explicit: true, err: err, name: gitopsapi.HelmReleaseType + "/" + ns + "/" + n})
	}
	if o.AllFlux {
		// helm-controller may not be installed where kustomize-controller
		// is: nothing to say then.
		all, err := gitopsapi.ListFluxHelmReleases(ctx, client, o.listNamespace())
		if err != nil && !errors.Is(err, gitopsapi.ErrNotInstalled) {
			return nil, err
		}
		for _, s := range all {
			add(requested{src: s})
		}
	}
	return out, nil
}

// listNamespace is where --all-argocd-apps and --all-flux look: the
// namespace given with -n, else all.
func (o *Options) listNamespace() string {
	if o.enforceNamespace {
		return o.namespace
	}
	return ""
}

// fatal reports errors that stop everything: the cluster cannot be
// reached or the credentials are refused, as opposed to one object that
// is missing or forbidden.
func fatal(err error) bool {
	if errors.Is(err, gitopsapi.ErrNotInstalled) {
		return false
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return apierrors.IsUnauthorized(err)
	}
	return true
}

// splitName reads "NAME" or "NAMESPACE/NAME".
func splitName(s, defaultNamespace string) (string, string) {
	if ns, n, ok := strings.Cut(s, "/"); ok {
		return ns, n
	}
	return defaultNamespace, s
}

// namespaced reports whether obj's kind is namespaced; unknown kinds count
// as namespaced (the engine reports them as errors anyway).
func namespaced(ctx context.Context, client *cluster.Client, obj *unstructured.Unstructured) bool {
	m, err := client.Mapping(ctx, obj.GroupVersionKind())
	if err != nil {
		return true
	}
	return m.Scope.Name() == apimeta.RESTScopeNameNamespace
}

// overrideURL applies --repo-override (desired.OverrideURL).
func (o *Options) overrideURL(url string) string {
	return desired.OverrideURL(o.RepoOverrides, url)
}

// cleanupSources runs the sources' cleanups.
func cleanupSources(srcs []source) {
	for _, s := range srcs {
		if s.Cleanup != nil {
			s.Cleanup()
		}
	}
}

// checkAll loads every source and compares each with the cluster. Sources
// that cannot be loaded or compared carry their error; only a cluster that
// cannot be read at all is returned as an error. The caller runs
// cleanupReports when done with the reports.
func (o *Options) checkAll(ctx context.Context, client *cluster.Client) ([]sourceReport, error) {
	srcs, err := o.loadSources(ctx, client)
	if err != nil {
		return nil, err
	}
	// Interrupted while fetching: the sources' errors only say so.
	if err := ctx.Err(); err != nil {
		cleanupSources(srcs)
		return nil, err
	}
	out := make([]sourceReport, 0, len(srcs))
	for _, s := range srcs {
		r := sourceReport{Source: s}
		if s.Skip == "" {
			r.Report, r.Err = o.compareSource(ctx, client, s)
			// A cluster that cannot be read fails the whole run at once.
			if r.Err != nil && (ctx.Err() != nil || !o.sourceMode() || fatal(r.Err)) {
				cleanupSources(srcs)
				return nil, r.Err
			}
		} else if s.SkipIsError {
			r.Err = errors.New(s.Skip)
		}
		out = append(out, r)
	}
	return out, nil
}

// cleanupReports removes the checkouts behind the reports.
func cleanupReports(reps []sourceReport) {
	for _, r := range reps {
		if r.Source.Cleanup != nil {
			r.Source.Cleanup()
		}
	}
}
