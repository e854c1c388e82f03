package desired

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
)

// HelmRenderer renders a Flux HelmRelease (op.Helm) from the chart at
// chartPath (a directory or .tgz); root is the checkout holding it ("" for
// a fetched chart), where the chart's valuesFiles are read. The plugin
// injects it (pkg/helmrender), so that pkg/desired links no Helm SDK.
type HelmRenderer func(ctx context.Context, op *gitopsapi.Source, chartPath, root string) (*HelmRender, error)

// HelmRender is a rendered release.
type HelmRender struct {
	Set *manifest.Set
	// SecretValues are the values that came from Secrets (valuesFrom).
	SecretValues []string
	// Chart and Version are the chart's name and version.
	Chart, Version string
	// IfNotPresent are the objects of Set whose presence alone is
	// compared, with why (compare.Desired.IfNotPresent): the chart's CRDs
	// under helm-controller's CRD policy Create.
	IfNotPresent map[*unstructured.Unstructured]string
}

// ChartRef says which chart to fetch for a HelmRelease whose chart comes
// from a HelmRepository (HTTP index or OCI) or an OCIRepository.
type ChartRef struct {
	// SourceKind is HelmRepository or OCIRepository; SourceNamespace and
	// SourceName name that object (for its credentials).
	SourceKind, SourceNamespace, SourceName string
	// URL is the repository's spec.url; Type "oci" or "default".
	URL, Type string
	// Chart is the chart's name and Version the version or semver range
	// (HelmRepository).
	Chart, Version string
	// OCIRef is an OCIRepository's spec.ref (tag, semver, digest).
	OCIRef map[string]string
	// Insecure allows plain http to a registry (spec.insecure);
	// PassCredentials sends the credentials to chart URLs on other hosts
	// (HelmRepository spec.passCredentials).
	Insecure, PassCredentials bool
	// SecretName is the source's spec.secretRef.name (in SourceNamespace),
	// "" for none.
	SecretName string
}

// ChartFetcher fetches charts from chart repositories (pkg/chartsource).
type ChartFetcher interface {
	// Fetch returns the path of a chart archive (.tgz) or directory for
	// ref, and its digest.
	Fetch(ctx context.Context, ref ChartRef) (path, digest string, err error)
}

// ErrNoHelm is the error of a HelmRelease when no renderer is wired.
var ErrNoHelm = errors.New("rendering Helm charts is not available in this command")

// helmRelease fetches and renders a Flux HelmRelease's chart; s is the
// source as Operator prepared it. Problems are recorded on the source.
func (f *Fetcher) helmRelease(ctx context.Context, s Source, op *gitopsapi.Source, namespaced func(*unstructured.Unstructured) bool) Source {
	h := op.Helm
	if f.opts.Helm == nil {
		return skipError(s, ErrNoHelm)
	}
	var chartPath, root string
	switch h.Chart.SourceKind {
	case gitopsapi.GitRepositoryGVK.Kind:
		auth, warning, err := f.gitAuth(ctx, op.RepoURL, h.Chart.SourceNamespace, h.Chart.SecretName)
		if err != nil {
			return skipError(s, fmt.Errorf("GitRepository %s/%s: %w", h.Chart.SourceNamespace, h.Chart.SourceName, err))
		}
		s.Warnings, s.SecretValues = appendWarning(s.Warnings, warning), append(s.SecretValues, auth.Secrets()...)
		rev := s.Origin.Revision
		if rev == op.Revision && op.Semver != "" {
			tag, err := gitsource.ResolveSemverAuth(ctx, OverrideURL(f.opts.RepoOverrides, op.RepoURL), op.Semver, auth)
			if err != nil {
				return skipError(s, err)
			}
			rev, s.Origin.Revision = tag, tag+" (semver "+op.Semver+")"
		}
		if rev == "HEAD" && op.Revision == "" {
			rev = ""
		}
		path, err := gitsource.CleanPath(op.Path)
		if err != nil {
			return skipError(s, fmt.Errorf("chart path: %w", err))
		}
		co, err := f.fetchAuth(ctx, op.RepoURL, rev, auth)
		if err != nil {
			return skipError(s, err)
		}
		if err := checkLinks(co.Root, path); err != nil {
			return skipError(s, err)
		}
		s.Origin.Commit, s.Root = co.Commit, co.Root
		chartPath, root = filepath.Join(co.Root, filepath.FromSlash(path)), co.Root
	case "HelmRepository", "OCIRepository":
		what := fmt.Sprintf("chart from %s %s/%s", h.Chart.SourceKind, h.Chart.SourceNamespace, h.Chart.SourceName)
		s.Origin = Origin{RepoURL: h.Chart.URL, Revision: h.Chart.Version, Path: h.Chart.Chart}
		if f.opts.Charts == nil {
			return skipError(s, fmt.Errorf("%s: fetching not available yet", what))
		}
		ref := ChartRef{SourceKind: h.Chart.SourceKind, SourceNamespace: h.Chart.SourceNamespace, SourceName: h.Chart.SourceName,
			URL: h.Chart.URL, Type: h.Chart.Type, Chart: h.Chart.Chart, Version: h.Chart.Version, OCIRef: h.Chart.OCIRef,
			Insecure: h.Chart.Insecure, PassCredentials: h.Chart.PassCredentials, SecretName: h.Chart.SecretName}
		path, digest, err := f.opts.Charts.Fetch(ctx, ref)
		if err != nil {
			return skipError(s, fmt.Errorf("%s: %w", what, err))
		}
		chartPath, s.Origin.Commit = path, digest
	default:
		return skipError(s, fmt.Errorf("charts from a %s are not supported", h.Chart.SourceKind))
	}
	r, err := f.opts.Helm(ctx, op, chartPath, root)
	if err != nil {
		return skipError(s, err)
	}
	s.SecretValues = append(s.SecretValues, r.SecretValues...)
	s.Warnings = append(s.Warnings, SkippedWarnings(r.Set)...)
	s.Desired = fromSet(r.Set, op, namespaced, r.IfNotPresent)
	// The release record names objects without their namespace when their
	// template declares none: Helm put them in the release namespace.
	for i := range op.Inventory {
		ref := &op.Inventory[i]
		if ref.Namespace != "" {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(schemaGV(ref.Group, ref.Version))
		u.SetKind(ref.Kind)
		if namespaced(u) {
			ref.Namespace = h.ReleaseNamespace
		}
	}
	s.Tracking = Tracking(op)
	return s
}

func schemaGV(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// render builds op's objects from the checkout root: an Argo CD chart path
// (gitopsapi.ArgoHelmChart) with the injected HelmRenderer, as Argo CD's
// repo-server runs helm template, its hooks left out; anything else with
// gitopsapi.Render. The values to mask go on s.
func (f *Fetcher) render(ctx context.Context, s *Source, op *gitopsapi.Source, root string) (*manifest.Set, error) {
	if !gitopsapi.ArgoHelmChart(op, root) {
		return gitopsapi.Render(ctx, op, root)
	}
	if op.ArgoHelm != nil {
		s.SecretValues = append(s.SecretValues, op.ArgoHelm.SecretValues...)
	}
	if f.opts.Helm == nil {
		// Skipped as before, not an error, where no renderer is wired.
		return nil, fmt.Errorf("rendering %s: %w: %w", op.ID(), ErrNoHelm, gitopsapi.ErrUnsupported)
	}
	path, err := gitsource.CleanPath(op.Path)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", op.ID(), err)
	}
	if err := checkLinks(root, path); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", op.ID(), err)
	}
	r, err := f.opts.Helm(ctx, op, filepath.Join(root, filepath.FromSlash(path)), root)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", op.ID(), err)
	}
	s.SecretValues = append(s.SecretValues, r.SecretValues...)
	gitopsapi.DropArgoHooks(r.Set)
	return r.Set, nil
}

// argoChart fetches an Argo CD source's chart from a Helm repository
// (op.ArgoChart) through the ChartFetcher and renders it as render does;
// the chart's digest is the origin's commit.
func (f *Fetcher) argoChart(ctx context.Context, s *Source, op *gitopsapi.Source) (*manifest.Set, error) {
	c := op.ArgoChart
	if op.ArgoHelm != nil {
		s.SecretValues = append(s.SecretValues, op.ArgoHelm.SecretValues...)
	}
	if f.opts.Helm == nil {
		return nil, fmt.Errorf("rendering %s: %w: %w", op.ID(), ErrNoHelm, gitopsapi.ErrUnsupported)
	}
	what := fmt.Sprintf("chart %s from %s", c.Chart, gitsource.RedactURL(c.URL))
	if f.opts.Charts == nil {
		return nil, fmt.Errorf("%w: Helm chart sources (spec.source.chart): fetching charts is not available in this command", gitopsapi.ErrUnsupported)
	}
	path, digest, err := f.opts.Charts.Fetch(ctx, ChartRef{SourceKind: "Application", SourceNamespace: op.Namespace, SourceName: op.Name,
		URL: c.URL, Type: c.Type, Chart: c.Chart, Version: c.Version})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if s.Origin.Commit == "" {
		s.Origin.Commit = digest
	}
	r, err := f.opts.Helm(ctx, op, path, "")
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", op.ID(), err)
	}
	s.SecretValues = append(s.SecretValues, r.SecretValues...)
	gitopsapi.DropArgoHooks(r.Set)
	return r.Set, nil
}
