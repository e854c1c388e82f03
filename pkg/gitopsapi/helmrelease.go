package gitopsapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
)

// Flux helm-controller's objects and metadata.
var (
	HelmReleaseGVK    = schema.GroupVersionKind{Group: "helm.toolkit.fluxcd.io", Version: "v2", Kind: "HelmRelease"}
	HelmChartGVK      = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "HelmChart"}
	secretGVK         = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	HelmNameLabel     = "helm.toolkit.fluxcd.io/name"
	HelmNSLabel       = "helm.toolkit.fluxcd.io/namespace"
	HelmReconcile     = "helm.toolkit.fluxcd.io/reconcile"
	helmReleaseKind   = "HelmRelease"
	helmMaxNameLength = 53
)

// MaxStoredRelease bounds the decompressed size of a Helm release record
// read from the cluster (a chart's manifest is rarely over a few MiB).
const MaxStoredRelease = 32 << 20

// HelmRelease is what a Flux HelmRelease (helm.toolkit.fluxcd.io/v2)
// asks helm-controller to render: the chart, the values, and how the
// rendered objects are post-rendered and labelled.
type HelmRelease struct {
	// ReleaseName is the Helm release name as helm-controller computes it
	// (spec.releaseName, else [targetNamespace-]name, shortened to 53
	// characters); ReleaseNamespace is spec.targetNamespace, else the
	// HelmRelease's namespace; StorageNamespace holds the release records.
	ReleaseName      string
	ReleaseNamespace string
	StorageNamespace string
	// Chart says where the chart comes from.
	Chart HelmChartRef
	// Values is spec.values; ValuesFrom the spec.valuesFrom entries with the
	// data read from the cluster (see LoadValues).
	Values     map[string]any
	ValuesFrom []ValuesReference
	// InstallCRDs and UpgradeCRDs are the crds policies (Skip, Create,
	// CreateReplace; "" is the default: Create, for both in
	// helm-controller's code, though its API documentation says Skip on
	// upgrade).
	InstallCRDs string
	UpgradeCRDs string
	// PostRenderers are spec.postRenderers[].kustomize (patches, images),
	// in order, as decoded.
	PostRenderers []map[string]any
	// CommonLabels and CommonAnnotations are spec.commonMetadata.
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	// DisableHooks: spec.install.disableHooks (hooks are never compared).
	DisableHooks bool
	// Stored is the release's last stored record, nil when none was found.
	Stored *StoredRelease
}

// HelmChartRef says where a HelmRelease's chart comes from: the source
// object (spec.chart.spec.sourceRef, or spec.chartRef and a HelmChart's
// sourceRef) and what it names in it.
type HelmChartRef struct {
	// SourceKind is GitRepository, HelmRepository or OCIRepository (a
	// HelmChart is followed to its own source).
	SourceKind      string
	SourceNamespace string
	SourceName      string
	// Via names the HelmChart followed, "" when none.
	Via string
	// Chart is the chart name (HelmRepository) or its path in the
	// repository (GitRepository).
	Chart string
	// Version is the version or semver range asked for (HelmRepository).
	Version string
	// ValuesFiles replace the chart's values.yaml when set
	// (spec.chart.spec.valuesFiles), paths relative to the repository root
	// for a GitRepository source, as source-controller reads them.
	ValuesFiles []string
	// URL is the repository's spec.url (HelmRepository, OCIRepository);
	// Type is "oci" or "default" (HelmRepository spec.type).
	URL  string
	Type string
	// OCIRef is an OCIRepository's spec.ref (tag, semver, digest).
	OCIRef map[string]string
	// Insecure is the source's spec.insecure (plain http to a registry);
	// PassCredentials a HelmRepository's spec.passCredentials.
	Insecure, PassCredentials bool
	// SecretName is the source's spec.secretRef.name (in
	// SourceNamespace), "" when it has none: read only by whoever fetches
	// from the source's own URL.
	SecretName string
}

// ValuesReference is a spec.valuesFrom entry and the data it names.
type ValuesReference struct {
	Kind, Name string
	// ValuesKey defaults to values.yaml.
	ValuesKey  string
	TargetPath string
	Optional   bool
	// Data is the key's value (decoded for a Secret); Found says whether it
	// exists. Set by LoadValues.
	Data  []byte
	Found bool
}

// StoredRelease is the part of a Helm release record drift reads: never
// its values.
type StoredRelease struct {
	// Secret names the record, "<namespace>/sh.helm.release.v1.<name>.v<N>".
	Secret   string
	Version  int
	Status   string
	Manifest string
}

// ShortenReleaseName shortens a release name longer than 53 characters as
// helm-controller does: its first 40 characters, "-", and the first 12 hex
// digits of its SHA-256.
func ShortenReleaseName(name string) string {
	if len(name) <= helmMaxNameLength {
		return name
	}
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	return name[:helmMaxNameLength-13] + "-" + sum[:12]
}

// GetFluxHelmRelease reads the HelmRelease namespace/name, the source of
// its chart and the data of its valuesFrom, and its last stored release.
func GetFluxHelmRelease(ctx context.Context, r cluster.Reader, namespace, name string) (*Source, error) {
	m, err := mapping(ctx, r, HelmReleaseGVK, "Flux's helm-controller")
	if err != nil {
		return nil, err
	}
	hr, err := r.Get(ctx, m, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("reading Flux HelmRelease %s/%s: %w", namespace, name, err)
	}
	return helmWithSources(ctx, r, hr)
}

// ListFluxHelmReleases reads every HelmRelease in namespace ("" for all),
// as GetFluxHelmRelease does, sorted by namespace and name.
func ListFluxHelmReleases(ctx context.Context, r cluster.Reader, namespace string) ([]*Source, error) {
	m, err := mapping(ctx, r, HelmReleaseGVK, "Flux's helm-controller")
	if err != nil {
		return nil, err
	}
	list, err := r.List(ctx, m, namespace, "")
	if err != nil {
		return nil, fmt.Errorf("listing Flux HelmReleases: %w", err)
	}
	out := make([]*Source, 0, len(list))
	for i := range list {
		s, err := helmWithSources(ctx, r, &list[i])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sortSources(out)
	return out, nil
}

// helmWithSources completes FluxHelmRelease with what it reads from the
// cluster. A missing or forbidden object is the source's Problem; an
// unreachable cluster or an interruption is an error.
func helmWithSources(ctx context.Context, r cluster.Reader, hr *unstructured.Unstructured) (*Source, error) {
	s := FluxHelmRelease(hr)
	if s.Skip() != "" {
		return s, nil
	}
	h := s.Helm
	get := func(gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
		m, err := r.Mapping(ctx, gvk)
		if err != nil {
			return nil, fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, ns, name, err)
		}
		obj, err := r.Get(ctx, m, ns, name)
		if err != nil {
			return nil, fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, ns, name, err)
		}
		return obj, nil
	}
	problem := func(err error) (*Source, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ve *valuesError
		if !errors.As(err, &ve) && fatalRead(err) {
			return nil, err
		}
		s.Problem = err.Error()
		return s, nil
	}
	if h.Chart.SourceKind == HelmChartGVK.Kind {
		hc, err := get(HelmChartGVK, h.Chart.SourceNamespace, h.Chart.SourceName)
		if err != nil {
			return problem(err)
		}
		followHelmChart(h, hc)
	}
	var src *unstructured.Unstructured
	switch h.Chart.SourceKind {
	case GitRepositoryGVK.Kind:
		repo, err := get(GitRepositoryGVK, h.Chart.SourceNamespace, h.Chart.SourceName)
		if err != nil {
			return problem(err)
		}
		setGitRepository(s, repo)
		h.Chart.SecretName = str(repo.Object, "spec", "secretRef", "name")
	case "HelmRepository", "OCIRepository":
		var err error
		src, err = get(schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: h.Chart.SourceKind}, h.Chart.SourceNamespace, h.Chart.SourceName)
		if err != nil {
			return problem(err)
		}
	default:
		setUnsupported(s, fmt.Sprintf("charts from a %s", h.Chart.SourceKind))
		return s, nil
	}
	if src != nil {
		h.Chart.URL = gitsource.RedactURL(str(src.Object, "spec", "url"))
		h.Chart.Type = str(src.Object, "spec", "type")
		h.Chart.Insecure, h.Chart.PassCredentials = boolean(src.Object, "spec", "insecure"), boolean(src.Object, "spec", "passCredentials")
		h.Chart.SecretName = str(src.Object, "spec", "secretRef", "name")
		if ref := mapOf(mapOf(src.Object, "spec"), "ref"); ref != nil {
			h.Chart.OCIRef = stringMap(ref)
		}
	}
	if err := LoadValues(ctx, r, s.Namespace, h.ValuesFrom); err != nil {
		return problem(err)
	}
	stored, err := LatestRelease(ctx, r, h.StorageNamespace, h.ReleaseName)
	if err != nil {
		if ctx.Err() != nil || fatalRead(err) {
			return nil, err
		}
		s.Warnings = append(s.Warnings, err.Error()+": extraneous objects of the release are not looked for")
	}
	h.Stored = stored
	if stored != nil {
		refs, err := ManifestRefs(stored.Manifest)
		if err != nil {
			s.Warnings = append(s.Warnings, fmt.Sprintf("release record %s: %v", stored.Secret, err))
		}
		s.Inventory = refs
	}
	return s, nil
}

// fatalRead reports an error that is not one object's: the cluster cannot
// be reached or the credentials are refused.
func fatalRead(err error) bool {
	if errors.Is(err, cluster.ErrKindNotServed) {
		return false
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return apierrors.IsUnauthorized(err)
	}
	return true
}

// FluxHelmRelease reads a HelmRelease object into a Source (the chart's
// source and the valuesFrom data are read by GetFluxHelmRelease). Its
// objects are rendered from the chart (Source.Helm), not from a path.
func FluxHelmRelease(hr *unstructured.Unstructured) *Source {
	o := hr.Object
	s := &Source{Operator: Flux, Kind: helmReleaseKind, Namespace: hr.GetNamespace(), Name: hr.GetName()}
	s.Tracking = Tracking{Method: "labels", Instance: s.Namespace + "/" + s.Name}
	s.Suspended = boolean(o, "spec", "suspend")
	s.Status = OperatorStatus{Revision: str(o, "status", "lastAttemptedRevision")}
	if ready := condition(o, "Ready"); ready != nil {
		s.Status.Ready, s.Status.Message = str(ready, "status"), gitsource.RedactURL(str(ready, "message"))
	}
	if strings.EqualFold(hr.GetAnnotations()[HelmReconcile], "disabled") {
		s.Disabled = HelmReconcile + ": disabled"
	}
	spec := mapOf(o, "spec")
	h := &HelmRelease{Values: mapOf(spec, "values")}
	s.Helm = h
	target := str(spec, "targetNamespace")
	h.ReleaseNamespace = target
	if target == "" {
		h.ReleaseNamespace = s.Namespace
	}
	name := str(spec, "releaseName")
	if name == "" {
		name = s.Name
		if target != "" {
			name = target + "-" + s.Name
		}
	}
	h.ReleaseName = ShortenReleaseName(name)
	h.StorageNamespace = str(spec, "storageNamespace")
	if h.StorageNamespace == "" {
		h.StorageNamespace = s.Namespace
	}
	s.DefaultNamespace = h.ReleaseNamespace
	h.InstallCRDs = str(spec, "install", "crds")
	h.UpgradeCRDs = str(spec, "upgrade", "crds")
	h.DisableHooks = boolean(spec, "install", "disableHooks")
	if cm := mapOf(spec, "commonMetadata"); cm != nil {
		h.CommonLabels, h.CommonAnnotations = stringMap(mapOf(cm, "labels")), stringMap(mapOf(cm, "annotations"))
	}
	for _, pr := range sliceOf(spec, "postRenderers") {
		if k := mapOf(asMap(pr), "kustomize"); k != nil {
			h.PostRenderers = append(h.PostRenderers, k)
		}
	}
	for _, v := range sliceOf(spec, "valuesFrom") {
		m := asMap(v)
		key := str(m, "valuesKey")
		if key == "" {
			key = "values.yaml"
		}
		h.ValuesFrom = append(h.ValuesFrom, ValuesReference{Kind: str(m, "kind"), Name: str(m, "name"), ValuesKey: key,
			TargetPath: str(m, "targetPath"), Optional: boolean(m, "optional")})
	}
	if entries, ok, _ := unstructured.NestedSlice(o, "spec", "driftDetection", "ignore"); ok {
		set, err := ignore.FromFlux(entries, s.ID(), "spec.driftDetection.ignore")
		if err != nil {
			s.Problem = err.Error()
		}
		s.Ignore = set
	}
	if _, ok := spec["kubeConfig"]; ok {
		setUnsupported(s, "applies to another cluster (spec.kubeConfig)")
	}
	switch ref := mapOf(spec, "chartRef"); {
	case ref != nil:
		h.Chart.SourceKind, h.Chart.SourceName = str(ref, "kind"), str(ref, "name")
		h.Chart.SourceNamespace = str(ref, "namespace")
	default:
		cs := mapOf(mapOf(spec, "chart"), "spec")
		if cs == nil {
			if s.Problem == "" {
				s.Problem = "neither spec.chart nor spec.chartRef is set"
			}
			return s
		}
		h.Chart.Chart, h.Chart.Version = str(cs, "chart"), str(cs, "version")
		sr := mapOf(cs, "sourceRef")
		h.Chart.SourceKind, h.Chart.SourceName, h.Chart.SourceNamespace = str(sr, "kind"), str(sr, "name"), str(sr, "namespace")
		h.Chart.ValuesFiles, _, _ = unstructured.NestedStringSlice(cs, "valuesFiles")
		if f := str(cs, "valuesFile"); f != "" && len(h.Chart.ValuesFiles) == 0 {
			h.Chart.ValuesFiles = []string{f}
		}
	}
	if h.Chart.SourceNamespace == "" {
		h.Chart.SourceNamespace = s.Namespace
	}
	return s
}

// followHelmChart takes a HelmChart's chart and source in place of the
// HelmRelease's chartRef.
func followHelmChart(h *HelmRelease, hc *unstructured.Unstructured) {
	spec := mapOf(hc.Object, "spec")
	h.Chart.Via = hc.GetNamespace() + "/" + hc.GetName()
	h.Chart.Chart, h.Chart.Version = str(spec, "chart"), str(spec, "version")
	sr := mapOf(spec, "sourceRef")
	h.Chart.SourceKind, h.Chart.SourceName, h.Chart.SourceNamespace = str(sr, "kind"), str(sr, "name"), hc.GetNamespace()
	h.Chart.ValuesFiles, _, _ = unstructured.NestedStringSlice(spec, "valuesFiles")
}

// setGitRepository takes the repository and revision of a chart's
// GitRepository; the chart is at Helm.Chart.Chart in it.
func setGitRepository(s *Source, repo *unstructured.Unstructured) {
	r := repo.Object
	s.RepoURL = str(r, "spec", "url")
	ref := mapOf(mapOf(r, "spec"), "ref")
	switch {
	case str(ref, "commit") != "":
		s.Revision = str(ref, "commit")
	case str(ref, "name") != "":
		s.Revision = str(ref, "name")
	case str(ref, "semver") != "":
		s.Semver = str(ref, "semver")
	case str(ref, "tag") != "":
		s.Revision = str(ref, "tag")
	case str(ref, "branch") != "":
		s.Revision = str(ref, "branch")
	default:
		s.Revision = FluxDefaultBranch
	}
	s.Path = s.Helm.Chart.Chart
}

// valuesError is a valuesFrom entry that cannot be resolved: the
// HelmRelease's problem, not the cluster's.
type valuesError struct{ msg string }

func (e *valuesError) Error() string { return e.msg }

// LoadValues reads the data of each valuesFrom entry (ConfigMap or Secret
// in namespace) as helm-controller does: a missing object or key is an
// error unless the entry is optional; other kinds are an error.
func LoadValues(ctx context.Context, r cluster.Reader, namespace string, refs []ValuesReference) error {
	cache := map[string]*unstructured.Unstructured{}
	for i := range refs {
		ref := &refs[i]
		what := fmt.Sprintf("valuesFrom %s %s/%s", ref.Kind, namespace, ref.Name)
		if ref.Kind != "ConfigMap" && ref.Kind != "Secret" {
			return &valuesError{what + ": unsupported values reference kind"}
		}
		key := ref.Kind + "/" + ref.Name
		obj, seen := cache[key]
		if !seen {
			m, err := r.Mapping(ctx, schema.GroupVersionKind{Version: "v1", Kind: ref.Kind})
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			obj, err = r.Get(ctx, m, namespace, ref.Name)
			switch {
			case apierrors.IsNotFound(err):
				obj = nil
			case err != nil:
				return fmt.Errorf("%s: %w", what, err)
			}
			cache[key] = obj
		}
		if obj == nil {
			if ref.Optional {
				continue
			}
			return &valuesError{what + ": not found"}
		}
		v, ok := mapOf(obj.Object, "data")[ref.ValuesKey].(string)
		if !ok {
			if ref.Optional {
				continue
			}
			return &valuesError{fmt.Sprintf("%s: key %q not found", what, ref.ValuesKey)}
		}
		ref.Data, ref.Found = []byte(v), true
		if ref.Kind == "Secret" {
			dec, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return &valuesError{fmt.Sprintf("%s: key %q is not base64", what, ref.ValuesKey)}
			}
			ref.Data = dec
		}
	}
	return nil
}

// LatestRelease reads the newest record of Helm release name in namespace
// (Secrets "sh.helm.release.v1.<name>.v<N>" labelled owner=helm), nil when
// there is none. Only the manifest, version and status are kept.
func LatestRelease(ctx context.Context, r cluster.Reader, namespace, name string) (*StoredRelease, error) {
	m, err := r.Mapping(ctx, secretGVK)
	if err != nil {
		return nil, fmt.Errorf("reading the records of Helm release %s/%s: %w", namespace, name, err)
	}
	list, err := r.List(ctx, m, namespace, "owner=helm,name="+name)
	if err != nil {
		return nil, fmt.Errorf("reading the records of Helm release %s/%s: %w", namespace, name, err)
	}
	sort.Slice(list, func(i, j int) bool { return releaseVersion(&list[i]) > releaseVersion(&list[j]) })
	for i := range list {
		sec := &list[i]
		if !strings.HasPrefix(sec.GetName(), "sh.helm.release.v1."+name+".v") {
			continue
		}
		raw, _ := mapOf(sec.Object, "data")["release"].(string)
		rel, err := DecodeRelease(raw)
		if err != nil {
			return nil, fmt.Errorf("release record %s/%s: %w", namespace, sec.GetName(), err)
		}
		rel.Secret = namespace + "/" + sec.GetName()
		return rel, nil
	}
	return nil, nil
}

func releaseVersion(sec *unstructured.Unstructured) int {
	n, _ := strconv.Atoi(sec.GetLabels()["version"])
	return n
}

// DecodeRelease decodes a Helm release record as a Secret's data holds it
// (base64 of the storage driver's base64 of gzipped JSON; plain JSON is
// accepted too), decompressing at most MaxStoredRelease bytes. The
// release's values and chart are not kept.
func DecodeRelease(data string) (*StoredRelease, error) {
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, errors.New("decoding the release: not base64")
	}
	if inner, err := base64.StdEncoding.DecodeString(string(b)); err == nil {
		b = inner
	}
	if len(b) >= 3 && bytes.Equal(b[:3], []byte{0x1f, 0x8b, 0x08}) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("decoding the release: %w", err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, MaxStoredRelease+1))
		if err != nil {
			return nil, fmt.Errorf("decoding the release: %w", err)
		}
		if len(out) > MaxStoredRelease {
			return nil, fmt.Errorf("decoding the release: larger than %d bytes decompressed", MaxStoredRelease)
		}
		b = out
	}
	var rec struct {
		Manifest string `json:"manifest"`
		Version  int    `json:"version"`
		Info     struct {
			Status string `json:"status"`
		} `json:"info"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		// The error may quote the record: never print it.
		return nil, errors.New("decoding the release: not a Helm release record")
	}
	return &StoredRelease{Version: rec.Version, Status: rec.Info.Status, Manifest: rec.Manifest}, nil
}

// ManifestRefs names the objects of a release manifest (YAML documents),
// in order. Objects without a namespace keep "" (the release namespace or
// cluster-scoped: the caller knows which).
func ManifestRefs(manifest string) ([]ObjectRef, error) {
	var out []ObjectRef
	var bad int
	for _, doc := range splitYAML(manifest) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil || head.Kind == "" || head.Metadata.Name == "" {
			if strings.TrimSpace(stripComments(doc)) != "" {
				bad++
			}
			continue
		}
		gv, _ := schema.ParseGroupVersion(head.APIVersion)
		out = append(out, ObjectRef{Group: gv.Group, Version: gv.Version, Kind: head.Kind, Namespace: head.Metadata.Namespace, Name: head.Metadata.Name})
	}
	if bad > 0 {
		return out, fmt.Errorf("%d document(s) of the manifest could not be read", bad)
	}
	return out, nil
}

func splitYAML(s string) []string {
	var docs []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.TrimRight(line, " \t\r\n") == "---" {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(docs, cur.String())
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
