package desired

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
)

// Source types, as the JSON report names them.
const (
	TypeFiles  = "files"
	TypeGit    = "git"
	TypeArgoCD = "argocd"
	TypeFlux   = "flux"
	// TypeHelmRelease is a Flux HelmRelease.
	TypeHelmRelease = gitopsapi.HelmReleaseType
)

// Source is one desired state to compare with the cluster: the -f/-k
// manifests, a Git revision, an Argo CD Application or a Flux
// Kustomization.
type Source struct {
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
	Origin Origin
	// Operator is the operator's object behind the source, nil for files
	// and --repo.
	Operator *gitopsapi.Source
	// Warnings are about this source (stderr, and the JSON report).
	Warnings []string
	// Root is the checkout holding the manifests (Git sources), for
	// reading the files Desired[].Source names; "" for -f/-k.
	Root string
	// Cleanup removes the checkout; nil when there is none. Whoever
	// loaded the source runs it.
	Cleanup func()
	// SecretValues are clear-text values known to be secret outside any
	// Secret object (Flux post-build variables and Helm values read from
	// Secrets): masked wherever they appear.
	SecretValues []string
}

// Origin is where a Git source's manifests were read from.
type Origin struct {
	RepoURL  string // without credentials
	Revision string // as asked
	Commit   string
	Path     string
}

// Options are the user's settings every source starts from.
type Options struct {
	// Ignore holds the rules of every source; an operator source adds its
	// own.
	Ignore *ignore.Set
	// PruneSelector is the extraneous selector of every source.
	PruneSelector string
	// Namespace and EnforceNamespace apply to -f/-k and Git sources
	// (operator sources have their own destination namespace).
	Namespace        string
	EnforceNamespace bool
	// RepoOverrides are ORIGINAL_URL=LOCAL_URL pairs (see OverrideURL).
	RepoOverrides []string
	// AppliedRevision compares operator sources with the commit the
	// operator last applied rather than the revision it follows.
	AppliedRevision bool
	// Helm renders Flux HelmReleases; nil: they are an error of their
	// source (ErrNoHelm).
	Helm HelmRenderer
	// Charts fetches charts from HelmRepository and OCIRepository sources;
	// nil: such a HelmRelease is an error of its source.
	Charts ChartFetcher
	// ReadSecret reads a Secret's data (decoded): the credentials a Flux
	// GitRepository's spec.secretRef names, read only for a repository
	// fetched from its own URL (not overridden). nil: no Secret is read,
	// and git uses the user's own configuration.
	ReadSecret func(ctx context.Context, namespace, name string) (map[string][]byte, error)
}

// Files wraps the objects read from -f/-k (see ReadFiles).
func (o Options) Files(desired []compare.Desired) Source {
	return Source{Type: TypeFiles, Desired: desired, Ignore: o.Ignore, PruneSelector: o.PruneSelector,
		Namespace: o.Namespace, EnforceNamespace: o.EnforceNamespace}
}

// ReadFiles reads the manifests -f/-k name (opts), as kubectl does. The
// warnings say which files were skipped and why, in the order read. Each
// object is packed (compare.Pack) as its file is read: the desired set is
// never held parsed all at once, and each object is parsed again only
// when compared.
func ReadFiles(ctx context.Context, opts manifest.Options) ([]compare.Desired, []string, error) {
	var out []compare.Desired
	opts.Each = func(o manifest.Object) {
		out = append(out, compare.Pack(o.Obj, o.Source.String()))
	}
	set, err := manifest.Load(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	for _, s := range set.Skipped {
		warnings = append(warnings, fmt.Sprintf("skipped %s: %s", s.Source, s.Reason))
	}
	return out, warnings, nil
}

// Fetcher reads Git and operator sources, fetching each repository and
// revision once. Close removes its checkouts.
type Fetcher struct {
	opts Options
	// cache holds the checkouts and OCI artifacts: the Fetcher's own, or
	// one shared with other Fetchers (Cache.Fetcher).
	cache    *Cache
	ownCache bool
	// artifacts holds the Flux artifacts built from checkouts, by kind,
	// namespace, name and revision.
	artifacts map[string]*built
	// auths holds the credentials read for each Secret and URL.
	auths map[string]*authRead
}

// authRead is what gitAuth found for one Secret and URL.
type authRead struct {
	auth    *gitsource.Auth
	warning string
	err     error
}

type built struct {
	dir      string
	commit   string
	warnings []string
	// secrets are the credentials fetched with (for the report's sweep).
	secrets []string
	err     error
}

// NewFetcher returns a Fetcher whose sources start from opts, with a
// Cache of its own. A Fetcher is used by one goroutine at a time (its
// Cache may be shared).
func NewFetcher(opts Options) *Fetcher {
	f := NewCache().Fetcher(opts)
	f.ownCache = true
	return f
}

// Close removes every checkout fetched so far (with a shared Cache, only
// the artifacts this Fetcher built: the Cache's owner closes it).
func (f *Fetcher) Close() {
	for _, b := range f.artifacts {
		if b.dir != "" {
			_ = os.RemoveAll(b.dir)
		}
	}
	f.artifacts = map[string]*built{}
	if f.ownCache {
		f.cache.Close()
	}
}

// fetch checks out url at revision (the whole repository: paths are
// resolved by the caller), after the repository overrides.
func (f *Fetcher) fetch(ctx context.Context, url, revision string) (*gitsource.Checkout, error) {
	return f.fetchAuth(ctx, url, revision, nil)
}

// fetchAuth is fetch with the credentials of url (gitAuth: nil when url is
// overridden); other credentials are another fetch.
func (f *Fetcher) fetchAuth(ctx context.Context, url, revision string, auth *gitsource.Auth) (*gitsource.Checkout, error) {
	local := OverrideURL(f.opts.RepoOverrides, url)
	if local != url {
		auth = nil
	}
	key := local + "\x00" + revision
	if auth != nil {
		key += "\x00" + auth.Key()
	}
	// A local clone standing in for the repository may have the branch
	// only as a remote-tracking one.
	co, err := f.cache.checkout(ctx, key, gitsource.Spec{URL: local, Revision: revision, RemoteTracking: local != url, Auth: auth})
	if err != nil && local != url {
		err = fmt.Errorf("%w (%s overridden by --repo-override)", err, gitsource.RedactURL(url))
	}
	return co, err
}

// Git reads a directory of a Git repository at a revision ("" is the
// remote's default branch): see Directory. Problems are recorded on the
// source (Skip, SkipIsError), never returned.
func (f *Fetcher) Git(ctx context.Context, repo, revision, dir string) Source {
	o := f.opts
	path, err := gitsource.CleanPath(dir)
	s := Source{Type: TypeGit, Ignore: o.Ignore, PruneSelector: o.PruneSelector, Namespace: o.Namespace, EnforceNamespace: o.EnforceNamespace}
	rev := revision
	if rev == "" {
		rev = "HEAD"
	}
	s.Name = "git/" + gitsource.RedactURL(repo) + "@" + rev
	if path != "." {
		s.Name += "/" + path
	}
	s.Origin = Origin{RepoURL: gitsource.RedactURL(repo), Revision: rev, Path: path}
	if err != nil {
		return skipError(s, err)
	}
	co, err := f.fetch(ctx, repo, revision)
	if err != nil {
		return skipError(s, err)
	}
	s.Origin.Commit, s.Root = co.Commit, co.Root
	s.Warnings = appendWarning(s.Warnings, co.Warning)
	set, err := directory(ctx, co.Root, path, strings.TrimPrefix(s.Name, TypeGit+"/"))
	if err != nil {
		return skipError(s, err)
	}
	s.Desired, s.Warnings = FromSet(set, nil, nil), append(s.Warnings, SkippedWarnings(set)...)
	return s
}

// Directory reads dir (slash-separated, relative to root, the top of a
// checkout) as drift --repo --path does: a directory with a kustomization
// file (kustomization.yaml, kustomization.yml or Kustomization) is built
// with kustomize as kubectl -k builds it, any other is read recursively as
// kubectl apply -f -R reads it. Objects' sources name files relative to
// root, or "<dir> (kustomize)". The checkout is the repository's: dir, and
// every symbolic link under it, must stay inside root.
func Directory(ctx context.Context, root, dir string) (*manifest.Set, error) {
	path, err := gitsource.CleanPath(dir)
	if err != nil {
		return nil, err
	}
	if err := checkLinks(root, path); err != nil {
		return nil, err
	}
	return directory(ctx, root, path, path)
}

// checkLinks refuses rel, or a symbolic link under it, that leads out of
// root (gitsource.Fetch checks its own checkouts the same way).
func checkLinks(root, rel string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(realRoot, filepath.FromSlash(rel)))
	if err != nil {
		return nil // missing: rendering says so
	}
	if !jsonneteval.Inside(realRoot, dir) {
		return fmt.Errorf("path %q: %w", rel, gitsource.ErrOutsideCheckout)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil // dangling: nothing is read through it
		}
		if !jsonneteval.Inside(realRoot, target) {
			name, _ := filepath.Rel(realRoot, p)
			return fmt.Errorf("symbolic link %s: %w", filepath.ToSlash(name), gitsource.ErrOutsideCheckout)
		}
		return nil
	})
}

func directory(ctx context.Context, root, path, name string) (*manifest.Set, error) {
	spec := &gitopsapi.Source{Operator: TypeGit, Name: name, Path: path, Directory: gitopsapi.Directory{Recurse: true}}
	return gitopsapi.Render(ctx, spec, root)
}

// Failed is an operator source that could not be read: name is
// "argocd/<ns>/<name>" or "flux/<ns>/<name>".
func Failed(name string, err error) Source {
	typ, _, _ := strings.Cut(name, "/")
	return skipError(Source{Name: name, Type: typ}, err)
}

// Operator fetches and renders an Argo CD or Flux source as the operator
// does, with the tracking metadata it adds. explicit says the user named
// it (an unsupported source is then an error, not a note); namespaced
// tells whether a kind is namespaced (the cluster's API discovery).
// Problems are recorded on the source, never returned.
func (f *Fetcher) Operator(ctx context.Context, op *gitopsapi.Source, explicit bool, namespaced func(*unstructured.Unstructured) bool) Source {
	o := f.opts
	typ := string(op.Operator)
	if op.Helm != nil {
		typ = TypeHelmRelease
	}
	s := Source{Name: op.ID(), Type: typ, Operator: op, Namespace: op.DefaultNamespace,
		Ignore: o.Ignore.Merge(op.Ignore), Warnings: append([]string(nil), op.Warnings...)}
	s.Tracking = Tracking(op)
	s.PruneSelector = o.PruneSelector
	if op.OCI != nil {
		return f.operatorOCI(ctx, s, op, explicit, namespaced)
	}
	rev := op.Revision
	if o.AppliedRevision {
		if c := op.AppliedCommit(); c != "" {
			rev = c
		} else {
			s.Warnings = append(s.Warnings, "the operator reports no applied revision: comparing with "+revisionLabel(op))
		}
	}
	path, _ := gitsource.CleanPath(op.Path)
	s.Origin = Origin{RepoURL: shownRepoURL(op), Revision: rev, Path: path}
	if rev == "" && op.Semver == "" {
		s.Origin.Revision = "HEAD"
	}
	if skip := op.Skip(); skip != "" {
		s.Skip = skip
		// A problem is an error; an unsupported source is one when asked
		// for by name; a disabled one never is.
		s.SkipIsError = op.Problem != "" || (op.Unsupported != "" && explicit)
		return s
	}
	if op.Helm != nil {
		return f.helmRelease(ctx, s, op, namespaced)
	}
	if rev == op.Revision && op.Semver != "" {
		tag, err := gitsource.ResolveSemver(ctx, OverrideURL(o.RepoOverrides, op.RepoURL), op.Semver)
		if err != nil {
			return skipError(s, err)
		}
		rev, s.Origin.Revision = tag, tag+" (semver "+op.Semver+")"
	}
	var set *manifest.Set
	var err error
	switch {
	case len(op.Parts) > 0:
		set, err = f.renderParts(ctx, &s, op)
	case op.Artifact != nil:
		if o.AppliedRevision {
			s.Warnings = append(s.Warnings, "an ExternalArtifact's applied revision names no commit: comparing with the revisions its sources follow")
		}
		b := f.externalArtifact(ctx, op.Artifact, &s.Origin)
		s.SecretValues = append(s.SecretValues, b.secrets...)
		if b.err != nil {
			return skipError(s, b.err)
		}
		s.Root, s.Warnings = b.dir, append(s.Warnings, b.warnings...)
		set, err = gitopsapi.Render(ctx, op, b.dir)
	case op.ArgoChart != nil:
		set, err = f.argoChart(ctx, &s, op)
		s.Origin.Path = op.ArgoChart.Chart
	case op.Git != nil:
		b := f.gitArtifact(ctx, op.Git, rev)
		s.SecretValues, s.Warnings = append(s.SecretValues, b.secrets...), append(s.Warnings, b.warnings...)
		if b.err != nil {
			return skipError(s, b.err)
		}
		s.Origin.Commit, s.Root = b.commit, b.dir
		set, err = gitopsapi.Render(ctx, op, b.dir)
	default:
		var co *gitsource.Checkout
		if co, err = f.fetch(ctx, op.RepoURL, rev); err != nil {
			return skipError(s, err)
		}
		s.Origin.Commit, s.Root = co.Commit, co.Root
		s.Warnings = appendWarning(s.Warnings, co.Warning)
		op.SetRevisionEnv(co.Commit)
		set, err = f.render(ctx, &s, op, co.Root)
	}
	if err != nil {
		if errors.Is(err, gitopsapi.ErrUnsupported) {
			s.Skip, s.SkipIsError = err.Error(), explicit
			return s
		}
		return skipError(s, err)
	}
	s.Desired = FromSet(set, op, namespaced)
	s.Warnings = append(s.Warnings, SkippedWarnings(set)...)
	return s
}

// gitArtifact builds the artifact source-controller makes of the Flux
// GitRepository g at rev (its followed revision when rev is ""; a semver
// range is resolved here): its checkout, its includes' artifacts copied
// in, its ignore rules applied. Each repository and revision is built
// once.
func (f *Fetcher) gitArtifact(ctx context.Context, g *gitopsapi.GitRepository, rev string) *built {
	auth, authWarning, err := f.gitAuth(ctx, g.URL, g.Namespace, g.SecretName)
	if err != nil {
		return &built{err: fmt.Errorf("GitRepository %s: %w", g.ID(), err)}
	}
	if rev == "" {
		rev = g.Revision
		if g.Semver != "" {
			tag, err := gitsource.ResolveSemverAuth(ctx, OverrideURL(f.opts.RepoOverrides, g.URL), g.Semver, auth)
			if err != nil {
				return &built{err: fmt.Errorf("GitRepository %s: %w", g.ID(), err), secrets: auth.Secrets(), warnings: appendWarning(nil, authWarning)}
			}
			rev = tag
		}
	}
	key := "GitRepository\x00" + g.ID() + "\x00" + rev
	if b, ok := f.artifacts[key]; ok {
		if b.dir == "" && b.err == nil { // still being built: a cycle
			return &built{err: fmt.Errorf("GitRepository %s includes itself", g.ID())}
		}
		return b
	}
	b := &built{secrets: auth.Secrets(), warnings: appendWarning(nil, authWarning)}
	f.artifacts[key] = b
	co, err := f.fetchAuth(ctx, g.URL, rev, auth)
	if err != nil {
		b.err = err
		return b
	}
	b.commit, b.warnings = co.Commit, appendWarning(b.warnings, co.Warning)
	var includes []string
	for _, incl := range g.Include {
		ib := f.gitArtifact(ctx, incl.Repo, "")
		b.secrets = append(b.secrets, ib.secrets...)
		if ib.err != nil {
			b.err = fmt.Errorf("GitRepository %s includes %s: %w", g.ID(), incl.Repo.ID(), ib.err)
			return b
		}
		includes, b.warnings = append(includes, ib.dir), append(b.warnings, ib.warnings...)
	}
	if b.dir, b.err = os.MkdirTemp("", "kubectl-gitops-artifact-"); b.err != nil {
		return b
	}
	b.err = gitopsapi.BuildGitArtifact(ctx, g, co.Root, includes, b.dir)
	return b
}

// externalArtifact builds the tree an ArtifactGenerator declares for art
// from the artifacts of its sources; origin gets the repository and
// commit when it has a single source.
func (f *Fetcher) externalArtifact(ctx context.Context, art *gitopsapi.ExternalArtifact, origin *Origin) *built {
	key := "ExternalArtifact\x00" + art.Namespace + "/" + art.Name
	if b, ok := f.artifacts[key]; ok {
		return b
	}
	b := &built{}
	f.artifacts[key] = b
	sources := map[string]string{}
	aliases := make([]string, 0, len(art.Sources))
	for alias := range art.Sources {
		aliases = append(aliases, alias)
	}
	sort.Strings(aliases)
	for _, alias := range aliases {
		g := art.Sources[alias]
		sb := f.gitArtifact(ctx, g, "")
		if sb.err != nil {
			b.err = fmt.Errorf("ArtifactGenerator %s: source @%s: %w", art.Generator, alias, sb.err)
			return b
		}
		sources[alias], b.warnings, b.secrets = sb.dir, append(b.warnings, sb.warnings...), append(b.secrets, sb.secrets...)
		if len(aliases) == 1 {
			origin.RepoURL, origin.Revision, origin.Commit = gitsource.RedactURL(g.URL), g.Revision, sb.commit
			if g.Semver != "" {
				origin.Revision = "semver " + g.Semver
			}
		}
	}
	if len(aliases) != 1 {
		origin.RepoURL, origin.Revision = "ExternalArtifact "+art.Namespace+"/"+art.Name, "ArtifactGenerator "+art.Generator
	}
	if b.dir, b.err = os.MkdirTemp("", "kubectl-gitops-artifact-"); b.err != nil {
		return b
	}
	b.err = gitopsapi.BuildExternalArtifact(ctx, art, sources, b.dir)
	return b
}

// gitAuth returns the credentials of the Secret namespace/secret (a Flux
// source's spec.secretRef) for url. None when the source names no Secret,
// when no Secret reader is wired, or when url is overridden: a mirror gets
// none of the original's credentials, and the Secret is not read. A Secret
// that cannot be read is a warning, and git uses the user's own
// configuration (as it did before secretRef was read), except for a URL
// that takes no credentials (file://, git://), where nothing is lost; an
// interruption is an error. Neither holds a value of the Secret.
func (f *Fetcher) gitAuth(ctx context.Context, url, namespace, secret string) (*gitsource.Auth, string, error) {
	if secret == "" || f.opts.ReadSecret == nil || OverrideURL(f.opts.RepoOverrides, url) != url {
		return nil, "", nil
	}
	key := namespace + "/" + secret + "\x00" + url
	if a, ok := f.auths[key]; ok {
		return a.auth, a.warning, a.err
	}
	a := &authRead{}
	id := namespace + "/" + secret
	data, err := f.opts.ReadSecret(ctx, namespace, secret)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, "", fmt.Errorf("reading Secret %s (spec.secretRef): %w", id, ctx.Err())
	case err != nil && !gitsource.TakesCredentials(url):
		// Nothing of the Secret would be sent: nothing is lost.
	case err != nil:
		a.warning = fmt.Sprintf("the credentials of Secret %s (spec.secretRef) are not used: %v; git uses your own configuration", id, err)
	default:
		a.auth, a.warning, a.err = gitsource.AuthFromSecret(id, data, url)
	}
	if f.auths == nil {
		f.auths = map[string]*authRead{}
	}
	f.auths[key] = a
	return a.auth, a.warning, a.err
}

// shownRepoURL is the repository URL a report shows for op: redacted, and
// for an Argo CD chart in a registry written host/path (no scheme, which
// the redactor would not recognise), its oci:// form.
func shownRepoURL(op *gitopsapi.Source) string {
	if len(op.Parts) > 0 {
		op = op.Parts[0]
	}
	if op.ArgoChart != nil {
		return gitsource.RedactURL(op.ArgoChart.URL)
	}
	return gitsource.RedactURL(op.RepoURL)
}

// renderParts fetches and renders each source of a multi-source Argo CD
// application at its own revision (with AppliedRevision, the one
// status.sync.revisions names for it) and returns all their objects. The
// origin shown is the first source's; Root is left unset, as the objects
// come from several checkouts.
func (f *Fetcher) renderParts(ctx context.Context, s *Source, op *gitopsapi.Source) (*manifest.Set, error) {
	all := &manifest.Set{}
	for i, part := range op.Parts {
		rev := part.Revision
		if f.opts.AppliedRevision {
			if c := part.AppliedCommit(); c != "" {
				rev = c
			}
		}
		if part.ArgoChart != nil {
			rp, err := f.refRoots(ctx, part, "")
			if err != nil {
				return nil, fmt.Errorf("source %d (%s): %w", i+1, shownRepoURL(part), err)
			}
			set, err := f.argoChart(ctx, s, rp)
			if err != nil {
				return nil, fmt.Errorf("source %d (%s): %w", i+1, shownRepoURL(part), err)
			}
			for j := range set.Objects {
				set.Objects[j].Source.File = fmt.Sprintf("[%d] %s", i+1, set.Objects[j].Source.File)
			}
			all.Objects = append(all.Objects, set.Objects...)
			all.Skipped = append(all.Skipped, set.Skipped...)
			continue
		}
		co, err := f.fetch(ctx, part.RepoURL, rev)
		if err != nil {
			return nil, fmt.Errorf("source %d (%s): %w", i+1, gitsource.RedactURL(part.RepoURL), err)
		}
		if i == 0 {
			s.Origin.Commit = co.Commit
		}
		s.Warnings = appendWarning(s.Warnings, co.Warning)
		part.SetRevisionEnv(co.Commit)
		rp, err := f.refRoots(ctx, part, co.Commit)
		if err != nil {
			return nil, fmt.Errorf("source %d (%s): %w", i+1, gitsource.RedactURL(part.RepoURL), err)
		}
		set, err := f.render(ctx, s, rp, co.Root)
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

// refRoots fetches the ref sources part's Helm files name ("$<ref>/…"),
// each at its targetRevision (with AppliedRevision, the commit
// status.sync.revisions gives it), through the repository overrides, as
// Argo CD's repo-server checks them out before rendering
// (runManifestGenAsync), with its refusals: two refs to one repository at
// different revisions, a ref to part's own repository at another commit
// than commit (part's, "" for a chart from a Helm repository), a
// repository with a symbolic link leading out of it. It returns a copy of
// part with RefRoots set; part itself when it names none.
func (f *Fetcher) refRoots(ctx context.Context, part *gitopsapi.Source, commit string) (*gitopsapi.Source, error) {
	refs, err := gitopsapi.ArgoRefsUsed(part)
	if err != nil || len(refs) == 0 {
		return part, err
	}
	keys := slices.Sorted(maps.Keys(refs))
	type seen struct{ key, revision string }
	byRepo := map[string]seen{}
	cp := *part
	cp.RefRoots = map[string]string{}
	for _, key := range keys {
		r := refs[key]
		rev := r.Revision
		if f.opts.AppliedRevision {
			if c := r.AppliedCommit(); c != "" {
				rev = c
			}
		}
		repo := normalizeRepo(r.RepoURL)
		if prev, ok := byRepo[repo]; ok {
			if prev.revision != rev {
				return nil, fmt.Errorf("cannot reference multiple revisions for the same repository (%s references %q while %s references %q)", key, rev, prev.key, prev.revision)
			}
		}
		byRepo[repo] = seen{key, rev}
		what := fmt.Sprintf("source %s (%s)", key, gitsource.RedactURL(r.RepoURL))
		co, err := f.fetch(ctx, r.RepoURL, rev)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if commit != "" && normalizeRepo(part.RepoURL) == repo && co.Commit != commit {
			return nil, fmt.Errorf("cannot reference a different revision of the same repository (%s references %q which resolves to %q while the application references %q which resolves to %q)",
				key, rev, co.Commit, part.Revision, commit)
		}
		if err := checkLinks(co.Root, "."); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		cp.RefRoots[key] = co.Root
	}
	return &cp, nil
}

// normalizeRepo is a repository URL as Argo CD compares them
// (git.NormalizeGitURL, near enough): without credentials, case, a
// trailing "/" or ".git".
func normalizeRepo(u string) string {
	return strings.ToLower(gitrepo.TrimRepoURL(gitsource.RedactURL(u)))
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

// Tracking tells the compare engine how the operator marks its objects.
func Tracking(op *gitopsapi.Source) compare.Tracking {
	var t compare.Tracking
	switch op.Operator {
	case gitopsapi.ArgoCD:
		t.ArgoApps = []string{op.Tracking.Instance}
		t.ArgoPrune = op.Tracking.ArgoPrune
	case gitopsapi.Flux:
		if op.Helm != nil {
			if st := op.Helm.Stored; st != nil {
				t.InventoryOwner = fmt.Sprintf("Helm release %s/%s v%d (HelmRelease %s)", op.Helm.StorageNamespace, op.Helm.ReleaseName, st.Version, op.Tracking.Instance)
				t.HelmRelease = true
				for _, r := range op.Inventory {
					t.Inventory = append(t.Inventory, compare.ObjectRef{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name})
				}
			}
			break
		}
		t.FluxKustomizations = []string{op.Tracking.Instance}
		t.FluxNoPrune = op.Tracking.NoPrune
		if op.Inventory != nil {
			t.FluxInventory = true
			t.InventoryOwner = "Flux Kustomization " + op.Tracking.Instance
			for _, r := range op.Inventory {
				t.Inventory = append(t.Inventory, compare.ObjectRef{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name})
			}
		}
	}
	if op.Tracking.Method == gitopsapi.TrackingLabel || op.Tracking.Method == gitopsapi.TrackingAnnotationAndLabel {
		t.ArgoInstanceLabel = op.Tracking.LabelKey
	}
	return t
}

// FromSet turns rendered objects into desired ones, with the operator's
// tracking metadata when op is set (namespaced then tells whether a
// kind is namespaced). Each is packed (compare.Pack) and dropped from set,
// so that the desired set is not held parsed while it is compared.
func FromSet(set *manifest.Set, op *gitopsapi.Source, namespaced func(*unstructured.Unstructured) bool) []compare.Desired {
	return fromSet(set, op, namespaced, nil)
}

// fromSet is FromSet, with the IfNotPresent reason of each object (nil:
// none).
func fromSet(set *manifest.Set, op *gitopsapi.Source, namespaced func(*unstructured.Unstructured) bool, ifNotPresent map[*unstructured.Unstructured]string) []compare.Desired {
	out := make([]compare.Desired, 0, len(set.Objects))
	for i, obj := range set.Objects {
		if op != nil {
			op.Track(obj.Obj, namespaced(obj.Obj))
		}
		d := compare.Pack(obj.Obj, obj.Source.String())
		d.IfNotPresent = ifNotPresent[obj.Obj]
		out = append(out, d)
		set.Objects[i].Obj = nil
	}
	set.Objects = nil
	return out
}

// SkippedWarnings says which files a render skipped and why, sorted.
func SkippedWarnings(set *manifest.Set) []string {
	var out []string
	for _, s := range set.Skipped {
		out = append(out, fmt.Sprintf("skipped %s: %s", s.Source, s.Reason))
	}
	sort.Strings(out)
	return out
}

func appendWarning(warnings []string, w string) []string {
	if w == "" {
		return warnings
	}
	return append(warnings, w)
}

func skipError(s Source, err error) Source {
	s.Skip, s.SkipIsError = err.Error(), true
	return s
}

// OverrideURL applies repository overrides (--repo-override): see
// gitrepo.OverrideURL, which repo graph and lint share.
func OverrideURL(overrides []string, url string) string {
	return gitrepo.OverrideURL(overrides, url)
}
