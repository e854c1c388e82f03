package helmrender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Metadata Helm's install writes on every object of a release, and the
// labels helm-controller's post-renderer adds.
const (
	ManagedByLabel        = "app.kubernetes.io/managed-by"
	ManagedByHelm         = "Helm"
	ReleaseNameAnnotation = "meta.helm.sh/release-name"
	ReleaseNSAnnotation   = "meta.helm.sh/release-namespace"
	OriginNameLabel       = "helm.toolkit.fluxcd.io/name"
	OriginNSLabel         = "helm.toolkit.fluxcd.io/namespace"
)

// Capabilities are what the chart's templates see of the cluster
// (.Capabilities): its Kubernetes version ("v1.37.2"; "" for Helm's
// default) and the API versions it serves ("apps/v1" and
// "apps/v1/Deployment" forms).
type Capabilities struct {
	KubeVersion string
	APIVersions []string
}

// Release is one Helm release to render.
type Release struct {
	// Name and Namespace of the release (.Release.Name, .Release.Namespace).
	Name      string
	Namespace string
	// Chart is the path of the chart: a directory or a .tgz archive.
	Chart string
	// Loaded, when set, is the chart at Chart, loaded already
	// (Confiner.Load): it is rendered, and not loaded again.
	Loaded *Chart
	// ChartValues, when not nil, replace the chart's values.yaml
	// (source-controller's valuesFiles).
	ChartValues map[string]any
	// Values are the user-supplied values (ComposeValues).
	Values       map[string]any
	Capabilities Capabilities
	// CRDs includes the objects of the chart's crds/ directories.
	CRDs bool
	// PostRenderers are kustomize post-renderers (patches, images), as a
	// HelmRelease's spec.postRenderers[].kustomize decodes.
	PostRenderers []map[string]any
	// CommonLabels and CommonAnnotations go on every object's metadata
	// (spec.commonMetadata).
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	// OriginNamespace and OriginName, when set, are the HelmRelease whose
	// helm.toolkit.fluxcd.io labels go on every object.
	OriginNamespace, OriginName string
	// ReleaseMetadata adds the label and annotations Helm's install writes
	// on every object it applies (not on CRDs, installed apart).
	ReleaseMetadata bool
	// KeepHooks returns the hooks' objects among the others, as helm
	// template prints them (for a caller that filters hooks by its own
	// rules, as Argo CD does); Result.Hooks still lists them.
	KeepHooks bool
	// BuildDependencies, when set, fetches the dependencies Chart.yaml
	// lists that charts/ lacks, as Argo CD's `helm dependency build` does
	// (Chart.lock honoured); nil: a missing dependency is an error, as in
	// helm-controller. Root is the checkout holding the chart, which a
	// file:// dependency, a symbolic link of a chart directory and its
	// values schema must stay in ("" for a fetched chart: the chart's own
	// directory).
	BuildDependencies DependencyFetcher
	Root              string
	// SkipSchemaValidation does not check the values against the chart's
	// values.schema.json (helm template --skip-schema-validation).
	SkipSchemaValidation bool
	// Confiner, when set, loads the chart (Confiner.Load) remembering
	// its verdicts on values schemas across renders; nil remembers
	// nothing. A Loaded chart keeps the Confiner it was loaded with.
	Confiner *Confiner
}

// Object is one rendered object and the template that rendered it
// ("<chart>/templates/x.yaml", "<chart>/crds/x.yaml").
type Object struct {
	Obj      *unstructured.Unstructured
	Template string
	CRD      bool
}

// Result is a rendered release.
type Result struct {
	// Objects are sorted by template, then in the template's order.
	Objects []Object
	// Hooks are the templates of the hooks left out.
	Hooks []string
	// Chart and Version are the chart's name and version.
	Chart, Version string
}

// Render renders rel as helm-controller's install would, without a
// cluster.
func Render(ctx context.Context, rel Release) (*Result, error) {
	loaded := rel.Loaded
	if loaded == nil {
		var err error
		if loaded, err = rel.Confiner.Load(rel.Chart, rel.Root); err != nil {
			return nil, err
		}
	}
	ch := loaded.ch
	var err error
	if ch.Metadata.Type != "" && ch.Metadata.Type != "application" {
		return nil, fmt.Errorf("chart %s: %s charts are not installable", ch.Name(), ch.Metadata.Type)
	}
	if rel.BuildDependencies != nil {
		if err := buildDependencies(ctx, ch, rel.Chart, rel.Root, rel.BuildDependencies, loaded.confiner); err != nil {
			return nil, fmt.Errorf("chart %s: building dependencies: %w", ch.Name(), err)
		}
	}
	if err := checkDependencies(ch); err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch.Name(), err)
	}
	if rel.ChartValues != nil {
		ch.Values = rel.ChartValues
	}
	var kv *common.KubeVersion
	if rel.Capabilities.KubeVersion != "" {
		if kv, err = common.ParseKubeVersion(rel.Capabilities.KubeVersion); err != nil {
			return nil, fmt.Errorf("kube version %q: %w", rel.Capabilities.KubeVersion, err)
		}
	}
	vals := rel.Values
	if vals == nil {
		vals = map[string]any{}
	}
	manifest, hooks, err := renderChart(ctx, ch, rel.Name, rel.Namespace, kv, rel.Capabilities.APIVersions, vals, rel.SkipSchemaValidation)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", ch.Name(), err)
	}
	res := &Result{Chart: ch.Name(), Version: ch.Metadata.Version}
	for _, h := range hooks {
		res.Hooks = append(res.Hooks, h.Path)
	}
	sort.Strings(res.Hooks)
	objs, err := parseManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", ch.Name(), err)
	}
	if rel.KeepHooks {
		for _, h := range hooks {
			hobjs, err := parseDoc(h.Manifest)
			if err != nil {
				return nil, fmt.Errorf("rendering chart %s: template %s: %w", ch.Name(), h.Path, err)
			}
			for _, o := range hobjs {
				objs = append(objs, Object{Obj: o, Template: h.Path})
			}
		}
	}
	if len(rel.PostRenderers) > 0 {
		if objs, err = postRender(objs, rel.PostRenderers); err != nil {
			return nil, fmt.Errorf("post-rendering chart %s: %w", ch.Name(), err)
		}
	}
	for _, o := range objs {
		addMetadata(o.Obj, rel.CommonLabels, rel.CommonAnnotations)
	}
	if rel.CRDs {
		crds, err := crdObjects(ch)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", ch.Name(), err)
		}
		objs = append(crds, objs...)
	}
	for _, o := range objs {
		if rel.OriginName != "" {
			addMetadata(o.Obj, map[string]string{OriginNameLabel: rel.OriginName, OriginNSLabel: rel.OriginNamespace}, nil)
		}
		if rel.ReleaseMetadata && !o.CRD {
			addMetadata(o.Obj, map[string]string{ManagedByLabel: ManagedByHelm},
				map[string]string{ReleaseNameAnnotation: rel.Name, ReleaseNSAnnotation: rel.Namespace})
		}
	}
	res.Objects = objs
	return res, nil
}

// renderChart renders ch as the Helm SDK's install action does in
// client-only dry-run (`helm template`; action.Install.RunWithContext and
// Configuration.renderResources of helm v4.3.2, without IncludeCRDs,
// post-renderer, output directory or notes), step for step and with the
// same errors, through the packages beneath the action: the action links
// pkg/kube (kubectl, cli-utils, controller-runtime), the registry client
// (oras), storage and getters, which a render never uses but every start
// of the binary initialises (docs/architecture.md). It returns the
// release manifest (documents headed by "# Source: <template>", in
// Helm's install order) and the hooks left out of it. Templates see
// .Capabilities from data and lookup finds nothing, as in client-only
// mode.
func renderChart(ctx context.Context, ch *chart.Chart, name, namespace string, kubeVersion *common.KubeVersion, apiVersions []string, vals map[string]any, skipSchemaValidation bool) (string, []*release.Hook, error) {
	// Install.availableName: in dry-run only the name is checked.
	if err := chartutil.ValidateReleaseName(name); err != nil {
		return "", nil, fmt.Errorf("release name check failed: %w", fmt.Errorf("release name %q: %w", name, err))
	}
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return "", nil, fmt.Errorf("chart dependencies processing failed: %w", err)
	}
	// Client-only capabilities: Helm's defaults, the kube version and the
	// API versions given (a fresh slice: the defaults are shared).
	caps := common.DefaultCapabilities.Copy()
	if kubeVersion != nil {
		caps.KubeVersion = *kubeVersion
	}
	caps.APIVersions = append(slices.Clone(caps.APIVersions), apiVersions...)
	options := common.ReleaseOptions{Name: name, Namespace: namespace, Revision: 1, IsInstall: true}
	values, err := util.ToRenderValuesWithSchemaValidation(ch, vals, options, caps, skipSchemaValidation)
	if err != nil {
		return "", nil, err
	}
	// Configuration.renderResources.
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return "", nil, fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", ch.Metadata.KubeVersion, caps.KubeVersion.Version)
	}
	var e engine.Engine // no REST config: lookup returns nothing
	files, err := e.RenderWithContext(ctx, ch, values)
	if err != nil {
		return "", nil, err
	}
	for k := range files {
		if strings.HasSuffix(k, "NOTES.txt") {
			delete(files, k)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	return b.String(), hooks, nil
}

// checkDependencies fails when a dependency of Chart.yaml is missing from
// charts/ (the Helm SDK's action.CheckDependencies, as helm-controller
// calls it before installing).
func checkDependencies(ch *chart.Chart) error {
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		found := false
		for _, sub := range ch.Dependencies() {
			if sub.Name() == d.Name {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("found in Chart.yaml, but missing in charts/ directory: %s", strings.Join(missing, ", "))
	}
	return nil
}

// parseManifest reads a release manifest: documents headed by Helm's
// "# Source: <template>" comment.
func parseManifest(manifest string) ([]Object, error) {
	split := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(split))
	for k := range split {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	var out []Object
	for _, k := range keys {
		doc := split[k]
		tpl := ""
		if first, _, _ := strings.Cut(doc, "\n"); strings.HasPrefix(first, "# Source: ") {
			tpl = strings.TrimSpace(strings.TrimPrefix(first, "# Source: "))
		}
		objs, err := parseDoc(doc)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", tpl, err)
		}
		for _, o := range objs {
			out = append(out, Object{Obj: o, Template: tpl})
		}
	}
	return out, nil
}

// parseDoc reads one YAML document: nothing when empty, the items of a
// List.
func parseDoc(doc string) ([]*unstructured.Unstructured, error) {
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	// Numbers as unstructured objects hold them: int64 or float64.
	if err := utiljson.Unmarshal(js, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	u := &unstructured.Unstructured{Object: m}
	if u.IsList() {
		list, err := u.ToList()
		if err != nil {
			return nil, err
		}
		out := make([]*unstructured.Unstructured, 0, len(list.Items))
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
		return out, nil
	}
	if u.GetKind() == "" || u.GetAPIVersion() == "" {
		return nil, errors.New("object without apiVersion or kind")
	}
	return []*unstructured.Unstructured{u}, nil
}

// crdObjects reads the CRDs of the chart's crds/ directories (and its
// dependencies').
func crdObjects(ch *chart.Chart) ([]Object, error) {
	var out []Object
	for _, crd := range ch.CRDObjects() {
		for _, doc := range releaseutil.SplitManifests(string(crd.File.Data)) {
			objs, err := parseDoc(doc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", crd.Filename, err)
			}
			for _, o := range objs {
				out = append(out, Object{Obj: o, Template: crd.Filename, CRD: true})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Template < out[j].Template })
	return out, nil
}

// postRender runs the kustomize post-renderers in order, as
// helm-controller's: a kustomization whose only resource is the rendered
// manifest, with the patches and images of each. Objects keep their
// template when kustomize keeps their kind, namespace and name.
func postRender(objs []Object, renderers []map[string]any) ([]Object, error) {
	for i, pr := range renderers {
		var in bytes.Buffer
		templates := map[string]string{}
		for _, o := range objs {
			data, err := yaml.Marshal(o.Obj.Object)
			if err != nil {
				return nil, err
			}
			in.WriteString("---\n")
			in.Write(data)
			templates[objKey(o.Obj)] = o.Template
		}
		k := map[string]any{"apiVersion": kustypes.KustomizationVersion, "kind": kustypes.KustomizationKind,
			"resources": []any{"helm-output.yaml"}}
		for _, f := range []string{"patches", "images", "patchesStrategicMerge", "patchesJson6902"} {
			if v, ok := pr[f]; ok {
				k[f] = v
			}
		}
		kdata, err := yaml.Marshal(k)
		if err != nil {
			return nil, err
		}
		fs := filesys.MakeFsInMemory()
		if err := fs.WriteFile("helm-output.yaml", in.Bytes()); err != nil {
			return nil, err
		}
		if err := fs.WriteFile("kustomization.yaml", kdata); err != nil {
			return nil, err
		}
		kz := krusty.MakeKustomizer(&krusty.Options{LoadRestrictions: kustypes.LoadRestrictionsNone, PluginConfig: kustypes.DisabledPluginConfig()})
		rm, err := kz.Run(fs, ".")
		if err != nil {
			return nil, fmt.Errorf("postRenderers[%d]: %w", i, err)
		}
		out := make([]Object, 0, rm.Size())
		for _, r := range rm.Resources() {
			data, err := r.AsYAML()
			if err != nil {
				return nil, fmt.Errorf("postRenderers[%d]: %w", i, err)
			}
			us, err := parseDoc(string(data))
			if err != nil {
				return nil, fmt.Errorf("postRenderers[%d]: %w", i, err)
			}
			for _, u := range us {
				out = append(out, Object{Obj: u, Template: templates[objKey(u)]})
			}
		}
		sort.SliceStable(out, func(a, b int) bool { return out[a].Template < out[b].Template })
		objs = out
	}
	return objs, nil
}

func objKey(o *unstructured.Unstructured) string {
	return o.GroupVersionKind().GroupKind().String() + "|" + o.GetNamespace() + "|" + o.GetName()
}

// addMetadata sets labels and annotations on obj's metadata.
func addMetadata(obj *unstructured.Unstructured, labels, annotations map[string]string) {
	if len(labels) > 0 {
		l := obj.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range labels {
			l[k] = v
		}
		obj.SetLabels(l)
	}
	if len(annotations) > 0 {
		a := obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		for k, v := range annotations {
			a[k] = v
		}
		obj.SetAnnotations(a)
	}
}
