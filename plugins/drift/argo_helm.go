package drift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// renderArgoHelm renders an Argo CD source's chart (chartPath: a path of
// the checkout root, or a chart fetched from a Helm repository, root "") as Argo CD's repo-server runs helm template (gitopsapi.
// ArgoHelmTemplate): the cluster's kube and API versions unless the
// source sets them, CRDs unless skipCrds, hooks kept for the caller to
// leave out by Argo CD's rules (gitopsapi.DropArgoHooks), dependencies
// not vendored in charts/ fetched with deps (Argo CD's helm dependency
// build). The chart is loaded once, with loader, for its value files and
// its render. Errors are swept of the values drift masks.
func renderArgoHelm(ctx context.Context, op *gitopsapi.Source, chartPath, root string, caps helmrender.Capabilities, deps helmrender.DependencyFetcher, loader chartLoader) (*desired.HelmRender, error) {
	if loader == nil {
		loader = (*helmrender.Confiner)(nil)
	}
	var secrets []string
	if op.ArgoHelm != nil {
		secrets = op.ArgoHelm.SecretValues
	}
	sweep := func(err error) error {
		sw := redact.NewSweeper()
		sw.AddText(secrets...)
		return errors.New(sw.String(err.Error()))
	}
	t, err := gitopsapi.ArgoHelmTemplate(op, root)
	if err != nil {
		return nil, err
	}
	ch, err := loader.Load(chartPath, root)
	if err != nil {
		return nil, sweep(err)
	}
	vals, fileSecrets, err := argoHelmValues(t, root, ch)
	secrets = append(secrets, fileSecrets...)
	if err != nil {
		return nil, sweep(err)
	}
	if t.KubeVersion != "" {
		caps.KubeVersion = t.KubeVersion
	}
	if len(t.APIVersions) > 0 {
		caps.APIVersions = t.APIVersions
	}
	rel := helmrender.Release{Name: t.Name, Namespace: t.Namespace, Chart: chartPath, Loaded: ch,
		Values: vals, Capabilities: caps, CRDs: !t.SkipCrds, KeepHooks: true, SkipSchemaValidation: t.SkipSchemaValidation,
		BuildDependencies: deps, Root: root}
	res, err := helmrender.Render(ctx, rel)
	if err != nil {
		return nil, sweep(err)
	}
	set := &manifest.Set{}
	for _, o := range res.Objects {
		set.Objects = append(set.Objects, manifest.Object{Obj: o.Obj, Source: manifest.Source{File: o.Template}})
	}
	return &desired.HelmRender{Set: set, SecretValues: secrets, Chart: res.Chart, Version: res.Version}, nil
}

// chartLoader loads a chart (*helmrender.Confiner: the chart confined to
// its checkout, its values schemas checked).
type chartLoader interface {
	Load(path, root string) (*helmrender.Chart, error)
}

// argoHelmValues composes t's values as the helm CLI does, reading its
// files from the checkout root or a ref source's checkout (never outside
// them), or, for a chart fetched from a Helm repository, from the chart ch
// (Argo CD's application path). Every file is bounded as the checkout's
// are (maxValuesFile): it is parsed whole. It also returns the values
// under secret-like keys of the value files, masked as valuesObject's
// are: a ref source is often a repository of its own, private values
// included.
func argoHelmValues(t *gitopsapi.HelmTemplate, root string, ch *helmrender.Chart) (map[string]any, []string, error) {
	v := helmrender.CLIValues{Set: t.Set, SetString: t.SetString, SetFile: map[string][]byte{}}
	var secrets []string
	read := func(f gitopsapi.HelmFile) ([]byte, error) {
		if !t.InChart(f) {
			return readCheckoutFile(t.FileRoot(root, f), f.Path)
		}
		data, ok := ch.File(f.Path)
		if !ok {
			return nil, fmt.Errorf("not in the chart: %w", os.ErrNotExist)
		}
		if len(data) > maxValuesFile {
			return nil, fmt.Errorf("larger than %d bytes", maxValuesFile)
		}
		return data, nil
	}
	for _, f := range t.ValueFiles {
		data, err := read(f)
		if errors.Is(err, os.ErrNotExist) && t.InChart(f) && t.IgnoreMissingValueFiles {
			continue
		}
		if err != nil {
			return nil, secrets, fmt.Errorf("helm.valueFiles %q: %w", f, err)
		}
		secrets = append(secrets, gitopsapi.ArgoValuesFileSecrets(data)...)
		v.Files = append(v.Files, data)
	}
	if t.Values != nil {
		v.Files = append(v.Files, t.Values)
	}
	for k, f := range t.SetFile {
		data, err := read(gitopsapi.HelmFile{Ref: t.SetFileRef[k], Path: unescapeCommas(f)})
		if err != nil {
			return nil, secrets, fmt.Errorf("helm.fileParameters %s: %w", k, err)
		}
		v.SetFile[k] = data
	}
	vals, err := helmrender.ComposeCLIValues(v)
	return vals, secrets, err
}

// argoDependencies fetches the dependencies of an Argo CD source's chart
// that are not vendored, through pkg/chartsource (--repo-override, the
// cache, the registry credentials of the Docker and Helm configurations),
// as Argo CD's `helm dependency build` fetches them.
func argoDependencies(charts desired.ChartFetcher, op *gitopsapi.Source) helmrender.DependencyFetcher {
	return func(ctx context.Context, dep helmrender.Dependency) (string, error) {
		if charts == nil {
			return "", errors.New("fetching charts is not available in this command")
		}
		typ := "default"
		if strings.HasPrefix(dep.Repository, "oci://") {
			typ = "oci"
		}
		path, _, err := charts.Fetch(ctx, desired.ChartRef{SourceKind: "Application", SourceNamespace: op.Namespace, SourceName: op.Name,
			URL: dep.Repository, Type: typ, Chart: dep.Name, Version: dep.Version})
		return path, err
	}
}

// unescapeCommas undoes Argo CD's escaping of a --set-file path, as Helm's
// parser reads it.
func unescapeCommas(s string) string {
	out := make([]rune, 0, len(s))
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if rs[i] == '\\' && i+1 < len(rs) && rs[i+1] == ',' {
			continue
		}
		out = append(out, rs[i])
	}
	return string(out)
}

// readCheckoutFile reads name (slash-separated, relative to root) through
// os.Root: a path or symbolic link leading out of the checkout is refused.
func readCheckoutFile(root, name string) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer func() { _ = r.Close() }()
	f, err := r.Open(filepath.FromSlash(name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxValuesFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxValuesFile {
		return nil, fmt.Errorf("larger than %d bytes", maxValuesFile)
	}
	return data, nil
}
