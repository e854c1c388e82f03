package drift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// maxValuesFile bounds a chart values file read from a checkout.
const maxValuesFile = 8 << 20

// helmRenderer renders Flux HelmReleases with pkg/helmrender, as
// helm-controller does, with the capabilities of the cluster behind
// client (read once); Argo CD charts as Argo CD's repo-server does, their
// dependencies not vendored fetched through charts. confiner (nil: none)
// remembers the chart schemas found confined across renders.
func helmRenderer(client *cluster.Client, charts desired.ChartFetcher, confiner *helmrender.Confiner) desired.HelmRenderer {
	var once sync.Once
	var caps helmrender.Capabilities
	var capsErr error
	return func(ctx context.Context, op *gitopsapi.Source, chartPath, root string) (*desired.HelmRender, error) {
		once.Do(func() {
			caps.KubeVersion, caps.APIVersions, capsErr = client.ServerCapabilities(ctx)
		})
		if capsErr != nil {
			return nil, capsErr
		}
		if op.Helm == nil && op.Operator == gitopsapi.ArgoCD {
			return renderArgoHelm(ctx, op, chartPath, root, caps, argoDependencies(charts, op), confiner)
		}
		return renderHelmRelease(ctx, op, chartPath, root, caps, confiner)
	}
}

// renderHelmRelease composes a HelmRelease's values and renders its chart.
// Errors are swept of the values that came from Secrets.
func renderHelmRelease(ctx context.Context, op *gitopsapi.Source, chartPath, root string, caps helmrender.Capabilities, confiner *helmrender.Confiner) (*desired.HelmRender, error) {
	h := op.Helm
	refs := make([]helmrender.ValuesRef, 0, len(h.ValuesFrom))
	var secretData []string
	for _, v := range h.ValuesFrom {
		refs = append(refs, helmrender.ValuesRef{Kind: v.Kind, Name: v.Name, ValuesKey: v.ValuesKey, TargetPath: v.TargetPath, Data: v.Data, Found: v.Found})
		if v.Kind == "Secret" && v.Found && v.TargetPath != "" {
			secretData = append(secretData, string(v.Data))
		}
	}
	sweep := func(err error, secrets []string) error {
		sw := redact.NewSweeper()
		sw.AddText(secretData...)
		sw.AddText(secrets...)
		return errors.New(sw.String(err.Error()))
	}
	values, secrets, err := helmrender.ComposeValues(refs, h.Values)
	if err != nil {
		return nil, sweep(err, nil)
	}
	crds := crdPolicy(h)
	rel := helmrender.Release{
		Name: h.ReleaseName, Namespace: h.ReleaseNamespace, Chart: chartPath, Values: values, Capabilities: caps,
		CRDs:          crds != "Skip",
		PostRenderers: h.PostRenderers, CommonLabels: h.CommonLabels, CommonAnnotations: h.CommonAnnotations,
		OriginNamespace: op.Namespace, OriginName: op.Name, ReleaseMetadata: true,
		Root:     root, // a chart of a GitRepository checkout stays in it
		Confiner: confiner,
	}
	if len(h.Chart.ValuesFiles) > 0 {
		if root == "" {
			return nil, fmt.Errorf("chart valuesFiles %v: only read from a GitRepository checkout", h.Chart.ValuesFiles)
		}
		rel.ChartValues = map[string]any{}
		for _, f := range h.Chart.ValuesFiles {
			vals, err := readValuesFile(root, f)
			if err != nil {
				return nil, err
			}
			rel.ChartValues = mergeValues(rel.ChartValues, vals)
		}
	}
	res, err := helmrender.Render(ctx, rel)
	if err != nil {
		return nil, sweep(err, secrets)
	}
	set := &manifest.Set{}
	var ifNotPresent map[*unstructured.Unstructured]string
	for _, o := range res.Objects {
		set.Objects = append(set.Objects, manifest.Object{Obj: o.Obj, Source: manifest.Source{File: o.Template}})
		if o.CRD && crds == "Create" {
			if ifNotPresent == nil {
				ifNotPresent = map[*unstructured.Unstructured]string{}
			}
			ifNotPresent[o.Obj] = "CRD policy Create: helm-controller creates it when missing, never updates it"
		}
	}
	return &desired.HelmRender{Set: set, SecretValues: append(secrets, secretData...), Chart: res.Chart, Version: res.Version, IfNotPresent: ifNotPresent}, nil
}

// crdPolicy is the CRD policy (Skip, Create or CreateReplace) of the
// action that last ran on the release, as helm-controller applies the
// chart's crds/ (internal/action/crds.go, install.go, upgrade.go): the
// install's until the release was upgraded — no stored record, or the
// newest is v1 — then the upgrade's. Both default to Create in its code
// (crdPolicyOrDefault; the API's documentation says Skip for upgrade).
// Skip: no CRD is created or updated. Create: missing CRDs are created,
// existing ones never updated, so only presence counts. CreateReplace:
// CRDs are created and replaced by the chart's, so they are compared.
func crdPolicy(h *gitopsapi.HelmRelease) string {
	p := h.InstallCRDs
	if h.Stored != nil && h.Stored.Version > 1 {
		p = h.UpgradeCRDs
	}
	if p == "" {
		return "Create"
	}
	return p
}

// readValuesFile reads a values file of a checkout (a path inside root).
func readValuesFile(root, name string) (map[string]any, error) {
	clean, err := gitsource.CleanPath(name)
	if err != nil {
		return nil, fmt.Errorf("chart valuesFiles %q: %w", name, err)
	}
	// os.Root refuses a path, or a symbolic link, leading out of root.
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("chart valuesFiles %q: %w", name, err)
	}
	defer func() { _ = r.Close() }()
	f, err := r.Open(filepath.FromSlash(clean))
	if err != nil {
		return nil, fmt.Errorf("chart valuesFiles %q: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxValuesFile+1))
	if err != nil {
		return nil, fmt.Errorf("chart valuesFiles %q: %w", name, err)
	}
	if len(data) > maxValuesFile {
		return nil, fmt.Errorf("chart valuesFiles %q: larger than %d bytes", name, maxValuesFile)
	}
	var vals map[string]any
	if err := yaml.Unmarshal(data, &vals); err != nil {
		return nil, fmt.Errorf("chart valuesFiles %q: %w", name, err)
	}
	return vals, nil
}

func mergeValues(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
