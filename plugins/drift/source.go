package drift

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
)

// Source types, as the JSON report names them.
const (
	sourceFiles  = "files"
	sourceGit    = "git"
	sourceArgoCD = "argocd"
	sourceFlux   = "flux"
)

// source is one desired state to compare with the cluster: the -f/-k
// manifests, a Git revision, an Argo CD Application or a Flux
// Kustomization.
type source struct {
	// Name is "" for -f/-k; "argocd/<ns>/<name>", "flux/<ns>/<name>" or
	// "git/<url>@<rev>/<path>".
	Name string
	// Type is files, git, argocd or flux.
	Type    string
	Desired []compare.Desired
	// Ignore holds the rules in force for this source (global + its own).
	Ignore *ignore.Set
	// PruneSelector is the extraneous selector for this source, if any.
	PruneSelector string
	// Tracking names the source for extraneous objects (operator sources).
	Tracking compare.Tracking
	// Namespace is the namespace of namespaced objects declaring none;
	// EnforceNamespace makes others an error (an explicit -n, for -f/-k and
	// --repo).
	Namespace        string
	EnforceNamespace bool
	// Skip, when set, says why the source is not compared; SkipIsError
	// makes that an error (exit 2) rather than a note.
	Skip        string
	SkipIsError bool
	// Origin says where the manifests came from (Git sources).
	Origin origin
	// Operator is the operator's object behind the source, nil for files
	// and --repo.
	Operator *gitopsapi.Source
	// Warnings are about this source (stderr, and the JSON report).
	Warnings []string
	// Root is the checkout holding the manifests (Git sources), for
	// reading the files Desired[].Source names; "" for -f/-k.
	Root string
	// Cleanup removes the checkout; nil when there is none. The caller
	// of loadSources runs it.
	Cleanup func()
}

// origin is where a Git source's manifests were read from.
type origin struct {
	RepoURL  string // without credentials
	Revision string // as asked
	Commit   string
	Path     string
}

// sourceReport is the outcome of comparing one source.
type sourceReport struct {
	Source source
	Report *compare.Report
	Err    error
}

// sourceMode reports whether sources other than -f/-k are asked for.
func (o *Options) sourceMode() bool {
	return o.Repo != "" || len(o.ArgoApps) > 0 || o.AllArgoApps || len(o.FluxKustomizations) > 0 || o.AllFlux
}

// filesSource wraps the -f/-k objects.
func (o *Options) filesSource(desired []compare.Desired) source {
	return source{Type: sourceFiles, Desired: desired, Ignore: o.ignore, PruneSelector: o.PruneSelector,
		Namespace: o.namespace, EnforceNamespace: o.enforceNamespace}
}

// loadSources reads every source asked for. Problems with one source
// (unreachable repository, bad manifests, unsupported Application) are
// recorded on it; only a cluster that cannot be read is an error. The
// caller runs each source's Cleanup.
func (o *Options) loadSources(ctx context.Context, client *cluster.Client) ([]source, error) {
	if !o.sourceMode() {
		desired, err := o.loadDesired(ctx)
		if err != nil {
			return nil, err
		}
		return []source{o.filesSource(desired)}, nil
	}
	f := &fetcher{o: o, checkouts: map[string]*fetched{}}
	var out []source
	if o.Repo != "" {
		out = append(out, f.gitSource(ctx))
	}
	ops, err := o.operatorSources(ctx, client)
	if err != nil {
		f.closeAll()
		return nil, err
	}
	for _, op := range ops {
		out = append(out, f.operatorSource(ctx, client, op))
	}
	// Checkouts are shared between sources of the same repository and
	// revision: the last source holds the cleanup of all.
	if len(out) > 0 {
		out[len(out)-1].Cleanup = f.closeAll
	} else {
		f.closeAll()
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

// fetcher fetches each repository and revision once.
type fetcher struct {
	o         *Options
	checkouts map[string]*fetched
}

type fetched struct {
	co  *gitsource.Checkout
	err error
}

func (f *fetcher) closeAll() {
	for _, c := range f.checkouts {
		if c.co != nil {
			_ = c.co.Close()
		}
	}
	f.checkouts = map[string]*fetched{}
}

// fetch checks out url at revision (the whole repository: paths are
// resolved by the caller), after --repo-override.
func (f *fetcher) fetch(ctx context.Context, url, revision string) (*gitsource.Checkout, error) {
	local := f.o.overrideURL(url)
	key := local + "\x00" + revision
	if c, ok := f.checkouts[key]; ok {
		return c.co, c.err
	}
	co, err := gitsource.Fetch(ctx, gitsource.Spec{URL: local, Revision: revision})
	if err != nil && local != url {
		err = fmt.Errorf("%w (%s overridden by --repo-override)", err, gitsource.RedactURL(url))
	}
	f.checkouts[key] = &fetched{co, err}
	return co, err
}

// gitSource reads --repo/--revision/--path: a kustomization in the path is
// built as -k does, anything else is read as a directory, recursively.
func (f *fetcher) gitSource(ctx context.Context) source {
	o := f.o
	path, err := gitsource.CleanPath(o.Path)
	s := source{Type: sourceGit, Ignore: o.ignore, PruneSelector: o.PruneSelector, Namespace: o.namespace, EnforceNamespace: o.enforceNamespace}
	rev := o.Revision
	if rev == "" {
		rev = "HEAD"
	}
	s.Name = "git/" + gitsource.RedactURL(o.Repo) + "@" + rev
	if path != "." {
		s.Name += "/" + path
	}
	s.Origin = origin{RepoURL: gitsource.RedactURL(o.Repo), Revision: rev, Path: path}
	if err != nil {
		return skipError(s, err)
	}
	co, err := f.fetch(ctx, o.Repo, o.Revision)
	if err != nil {
		return skipError(s, err)
	}
	s.Origin.Commit, s.Root = co.Commit, co.Root
	spec := &gitopsapi.Source{Operator: sourceGit, Name: strings.TrimPrefix(s.Name, sourceGit+"/"), Path: path, Directory: gitopsapi.Directory{Recurse: true}}
	set, err := gitopsapi.Render(ctx, spec, co.Root)
	if err != nil {
		return skipError(s, err)
	}
	s.Desired, s.Warnings = o.desiredOf(set, nil, nil), append(s.Warnings, skippedWarnings(set)...)
	return s
}

// operatorSource fetches and renders an Argo CD or Flux source.
func (f *fetcher) operatorSource(ctx context.Context, client *cluster.Client, r requested) source {
	o := f.o
	if r.err != nil {
		typ, _, _ := strings.Cut(r.name, "/")
		return skipError(source{Name: r.name, Type: typ}, r.err)
	}
	op := r.src
	s := source{Name: op.ID(), Type: string(op.Operator), Operator: op, Namespace: op.DefaultNamespace,
		Ignore: o.ignore.Merge(op.Ignore), Warnings: append([]string(nil), op.Warnings...)}
	s.Tracking = trackingOf(op)
	if op.Tracking.Method == gitopsapi.TrackingLabel || op.Tracking.Method == gitopsapi.TrackingAnnotationAndLabel {
		s.Tracking.ArgoInstanceLabel = op.Tracking.LabelKey
	}
	s.PruneSelector = o.PruneSelector
	rev := op.Revision
	if o.AppliedRevision {
		if c := op.AppliedCommit(); c != "" {
			rev = c
		} else {
			s.Warnings = append(s.Warnings, "the operator reports no applied revision: comparing with "+revisionLabel(op))
		}
	}
	path, _ := gitsource.CleanPath(op.Path)
	s.Origin = origin{RepoURL: gitsource.RedactURL(op.RepoURL), Revision: rev, Path: path}
	if rev == "" && op.Semver == "" {
		s.Origin.Revision = "HEAD"
	}
	if skip := op.Skip(); skip != "" {
		s.Skip = skip
		// A problem is an error; an unsupported source is one when asked
		// for by name; a disabled one never is.
		s.SkipIsError = op.Problem != "" || (op.Unsupported != "" && r.explicit)
		return s
	}
	if rev == op.Revision && op.Semver != "" {
		tag, err := gitsource.ResolveSemver(ctx, o.overrideURL(op.RepoURL), op.Semver)
		if err != nil {
			return skipError(s, err)
		}
		rev, s.Origin.Revision = tag, tag+" (semver "+op.Semver+")"
	}
	var set *manifest.Set
	var err error
	if len(op.Parts) > 0 {
		set, err = f.renderParts(ctx, &s, op)
	} else {
		var co *gitsource.Checkout
		if co, err = f.fetch(ctx, op.RepoURL, rev); err != nil {
			return skipError(s, err)
		}
		s.Origin.Commit, s.Root = co.Commit, co.Root
		op.SetRevisionEnv(co.Commit)
		set, err = gitopsapi.Render(ctx, op, co.Root)
	}
	if err != nil {
		if errors.Is(err, gitopsapi.ErrUnsupported) {
			s.Skip, s.SkipIsError = err.Error(), r.explicit
			return s
		}
		return skipError(s, err)
	}
	s.Desired = o.desiredOf(set, op, func(gvk unstructured.Unstructured) bool { return namespaced(ctx, client, &gvk) })
	s.Warnings = append(s.Warnings, skippedWarnings(set)...)
	return s
}

// renderParts fetches and renders each source of a multi-source Argo CD
// application at its own revision (with --applied-revision, the one
// status.sync.revisions names for it) and returns all their objects. The
// origin shown is the first source's; Root is left unset, as the objects
// come from several checkouts.
func (f *fetcher) renderParts(ctx context.Context, s *source, op *gitopsapi.Source) (*manifest.Set, error) {
	all := &manifest.Set{}
	for i, part := range op.Parts {
		rev := part.Revision
		if f.o.AppliedRevision {
			if c := part.AppliedCommit(); c != "" {
				rev = c
			}
		}
		co, err := f.fetch(ctx, part.RepoURL, rev)
		if err != nil {
			return nil, fmt.Errorf("source %d (%s): %w", i+1, gitsource.RedactURL(part.RepoURL), err)
		}
		if i == 0 {
			s.Origin.Commit = co.Commit
		}
		part.SetRevisionEnv(co.Commit)
		set, err := gitopsapi.Render(ctx, part, co.Root)
		if err != nil {
			return nil, fmt.Errorf("source %d (%s): %w", i+1, gitsource.RedactURL(part.RepoURL), err)
		}
		for j := range set.Objects {
			set.Objects[j].Source.File = fmt.Sprintf("[%d] %s", i+1, set.Objects[j].Source.File)
		}
		for j := range set.Skipped {
			set.Skipped[j].Source.File = fmt.Sprintf("[%d] %s", i+1, set.Skipped[j].Source.File)
		}
		all.Objects = append(all.Objects, set.Objects...)
		all.Skipped = append(all.Skipped, set.Skipped...)
	}
	return all, nil
}

func revisionLabel(op *gitopsapi.Source) string {
	if op.Semver != "" {
		return "semver " + op.Semver
	}
	if op.Revision == "" {
		return "HEAD"
	}
	return op.Revision
}

// trackingOf tells the engine how the operator marks its objects.
func trackingOf(op *gitopsapi.Source) compare.Tracking {
	var t compare.Tracking
	switch op.Operator {
	case gitopsapi.ArgoCD:
		t.ArgoApps = []string{op.Tracking.Instance}
	case gitopsapi.Flux:
		t.FluxKustomizations = []string{op.Tracking.Instance}
		if op.Inventory != nil {
			t.InventoryOwner = "Flux Kustomization " + op.Tracking.Instance
			for _, r := range op.Inventory {
				t.Inventory = append(t.Inventory, compare.ObjectRef{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name})
			}
		}
	}
	return t
}

// desiredOf turns rendered objects into desired ones, with the operator's
// tracking metadata when op is set.
func (o *Options) desiredOf(set *manifest.Set, op *gitopsapi.Source, isNamespaced func(unstructured.Unstructured) bool) []compare.Desired {
	out := make([]compare.Desired, 0, len(set.Objects))
	for _, obj := range set.Objects {
		if op != nil {
			op.Track(obj.Obj, isNamespaced(*obj.Obj))
		}
		out = append(out, compare.Desired{Object: obj.Obj, Source: obj.Source.String()})
	}
	return out
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

func skippedWarnings(set *manifest.Set) []string {
	var out []string
	for _, s := range set.Skipped {
		out = append(out, fmt.Sprintf("skipped %s: %s", s.Source, s.Reason))
	}
	sort.Strings(out)
	return out
}

func skipError(s source, err error) source {
	s.Skip, s.SkipIsError = err.Error(), true
	return s
}

// overrideURL applies --repo-override: ORIG=LOCAL replaces a repository
// URL equal to ORIG (ignoring a trailing "/" or ".git"), or, when ORIG ends
// with "/", every URL starting with it. Credentials in either URL do not
// matter: reports show URLs without them, and that is what users copy.
func (o *Options) overrideURL(url string) string {
	plain := gitsource.RedactURL(url)
	for _, ov := range o.RepoOverrides {
		from, to, _ := strings.Cut(ov, "=")
		plainFrom := gitsource.RedactURL(from)
		if strings.HasSuffix(from, "/") {
			if strings.HasPrefix(url, from) {
				return to + strings.TrimPrefix(url, from)
			}
			if strings.HasPrefix(plain, plainFrom) {
				return to + strings.TrimPrefix(plain, plainFrom)
			}
		}
		if trimRepo(plainFrom) == trimRepo(plain) {
			return to
		}
	}
	return url
}

func trimRepo(u string) string {
	return strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
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
