package gitopsapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

func helmReleaseObj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// TestFluxHelmReleaseNames: the release name, namespace and storage
// namespace as helm-controller computes them, a long name shortened as it
// shortens it.
func TestFluxHelmReleaseNames(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 30)
	tests := []struct {
		name, spec                string
		release, relNS, storageNS string
	}{
		{"plain", ``, "web", "apps", "apps"},
		{"target", `targetNamespace: prod`, "prod-web", "prod", "apps"},
		{"releaseName", `targetNamespace: prod, releaseName: site, storageNamespace: flux-system`, "site", "prod", "flux-system"},
		{"shortened", `targetNamespace: ` + long + `-` + long, (long + "-" + long + "-web")[:40] + "-" + "SUM", long + "-" + long, "apps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := FluxHelmRelease(helmReleaseObj(t, `{apiVersion: helm.toolkit.fluxcd.io/v2, kind: HelmRelease, metadata: {name: web, namespace: apps}, spec: {`+
				tc.spec+sep(tc.spec)+`chart: {spec: {chart: charts/web, sourceRef: {kind: GitRepository, name: fleet, namespace: flux-system}}}}}`))
			if s.Problem != "" {
				t.Fatal(s.Problem)
			}
			h := s.Helm
			want := tc.release
			if strings.HasSuffix(want, "-SUM") {
				if len(h.ReleaseName) != 53 || !strings.HasPrefix(h.ReleaseName, strings.TrimSuffix(want, "SUM")) {
					t.Errorf("release name %q (%d characters), want %q + 12 hex digits", h.ReleaseName, len(h.ReleaseName), strings.TrimSuffix(want, "SUM"))
				}
			} else if h.ReleaseName != want {
				t.Errorf("release name %q, want %q", h.ReleaseName, want)
			}
			if h.ReleaseNamespace != tc.relNS || h.StorageNamespace != tc.storageNS || s.DefaultNamespace != tc.relNS {
				t.Errorf("namespaces release %q storage %q default %q, want %q %q", h.ReleaseNamespace, h.StorageNamespace, s.DefaultNamespace, tc.relNS, tc.storageNS)
			}
			if h.Chart.SourceKind != "GitRepository" || h.Chart.SourceNamespace != "flux-system" || h.Chart.Chart != "charts/web" {
				t.Errorf("chart %+v", h.Chart)
			}
			if s.ID() != "helmrelease/apps/web" {
				t.Errorf("ID %q", s.ID())
			}
		})
	}
	got := ShortenReleaseName(strings.Repeat("x", 60))
	if len(got) != 53 || !strings.HasPrefix(got, strings.Repeat("x", 40)+"-") || strings.Trim(got[41:], "0123456789abcdef") != "" {
		t.Errorf("ShortenReleaseName: %q", got)
	}
	if got := ShortenReleaseName(strings.Repeat("x", 53)); got != strings.Repeat("x", 53) {
		t.Errorf("a 53-character name was shortened: %q", got)
	}
}

func sep(s string) string {
	if s == "" {
		return ""
	}
	return ", "
}

// TestFluxHelmReleaseSpec: valuesFrom (default key), chartRef,
// postRenderers, commonMetadata, crds policies and driftDetection.ignore.
func TestFluxHelmReleaseSpec(t *testing.T) {
	t.Parallel()
	s := FluxHelmRelease(helmReleaseObj(t, `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: apps}
spec:
  chartRef: {kind: HelmChart, name: web-chart}
  install: {crds: Skip}
  upgrade: {crds: CreateReplace}
  commonMetadata: {labels: {team: web}}
  postRenderers:
  - kustomize: {images: [{name: nginx, newTag: "1.27"}]}
  valuesFrom:
  - {kind: ConfigMap, name: base}
  - {kind: Secret, name: creds, valuesKey: pass, targetPath: db.pass, optional: true}
  driftDetection:
    mode: enabled
    ignore:
    - paths: ["/spec/replicas"]
      target: {kind: Deployment}
`))
	if s.Problem != "" {
		t.Fatal(s.Problem)
	}
	h := s.Helm
	want := []ValuesReference{{Kind: "ConfigMap", Name: "base", ValuesKey: "values.yaml"}, {Kind: "Secret", Name: "creds", ValuesKey: "pass", TargetPath: "db.pass", Optional: true}}
	if diff := cmp.Diff(want, h.ValuesFrom); diff != "" {
		t.Errorf("valuesFrom (-want +got):\n%s", diff)
	}
	if h.Chart.SourceKind != "HelmChart" || h.Chart.SourceName != "web-chart" || h.Chart.SourceNamespace != "apps" {
		t.Errorf("chartRef %+v", h.Chart)
	}
	if h.InstallCRDs != "Skip" || h.UpgradeCRDs != "CreateReplace" || h.CommonLabels["team"] != "web" || len(h.PostRenderers) != 1 {
		t.Errorf("spec read as %+v", h)
	}
	if s.Ignore == nil || len(s.Ignore.Rules()) != 1 {
		t.Errorf("driftDetection.ignore not read: %+v", s.Ignore)
	}
}

func record(t *testing.T, rel string) string {
	t.Helper()
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write([]byte(rel)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	inner := base64.StdEncoding.EncodeToString(gz.Bytes())
	return base64.StdEncoding.EncodeToString([]byte(inner))
}

// TestDecodeRelease reads a release record as a Secret's data holds it,
// keeps the manifest, and never the values; a record too large once
// decompressed is refused.
func TestDecodeRelease(t *testing.T) {
	t.Parallel()
	manifest := "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n---\n# Source: web/templates/crb.yaml\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: other}\n"
	rel, err := DecodeRelease(record(t, `{"name":"web","version":3,"info":{"status":"deployed"},"config":{"password":"canary-s3cr3t-7f3a"},"manifest":`+strconvQuote(manifest)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	if rel.Version != 3 || rel.Status != "deployed" || rel.Manifest != manifest {
		t.Errorf("decoded %+v", rel)
	}
	refs, err := ManifestRefs(rel.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectRef{{Version: "v1", Kind: "ConfigMap", Name: "web"}, {Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding", Name: "web"}, {Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "other", Name: "web"}}
	if diff := cmp.Diff(want, refs); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	big := `{"manifest":"` + strings.Repeat("a", MaxStoredRelease+10) + `"}`
	if _, err := DecodeRelease(record(t, big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized record: err = %v", err)
	}
	if _, err := DecodeRelease(base64.StdEncoding.EncodeToString([]byte("canary-s3cr3t-7f3a not json"))); err == nil || strings.Contains(err.Error(), "canary") {
		t.Errorf("bad record: err = %v (must not quote it)", err)
	}
}

func strconvQuote(s string) string {
	b, _ := yaml.Marshal(s)
	js, _ := yaml.YAMLToJSON(b)
	return string(bytes.TrimSpace(js))
}

// memReader is an in-memory cluster.Reader for the pure logic of
// following a HelmRelease's references (the real server is used in
// plugins/drift's scenario; the HelmChart CRD is not installed there).
type memReader struct{ objs []*unstructured.Unstructured }

func (r *memReader) Mapping(_ context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	return &meta.RESTMapping{GroupVersionKind: gvk}, nil
}

func (r *memReader) Get(_ context.Context, m *meta.RESTMapping, ns, name string) (*unstructured.Unstructured, error) {
	for _, o := range r.objs {
		if o.GetKind() == m.GroupVersionKind.Kind && o.GetNamespace() == ns && o.GetName() == name {
			return o, nil
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: m.GroupVersionKind.Kind}, name)
}

func (r *memReader) List(_ context.Context, m *meta.RESTMapping, ns, _ string) ([]unstructured.Unstructured, error) {
	var out []unstructured.Unstructured
	for _, o := range r.objs {
		if o.GetKind() == m.GroupVersionKind.Kind && (ns == "" || o.GetNamespace() == ns) {
			out = append(out, *o)
		}
	}
	return out, nil
}

// TestHelmChartRefToGitRepository: spec.chartRef → HelmChart →
// GitRepository is followed to the repository, revision and chart path;
// the valuesFrom data are read (a Secret's decoded); a missing non-optional
// ConfigMap is the source's problem.
func TestHelmChartRefToGitRepository(t *testing.T) {
	t.Parallel()
	r := &memReader{objs: []*unstructured.Unstructured{
		helmReleaseObj(t, `{apiVersion: helm.toolkit.fluxcd.io/v2, kind: HelmRelease, metadata: {name: web, namespace: apps}, spec: {chartRef: {kind: HelmChart, name: web}, valuesFrom: [{kind: Secret, name: creds}]}}`),
		helmReleaseObj(t, `{apiVersion: source.toolkit.fluxcd.io/v1, kind: HelmChart, metadata: {name: web, namespace: apps}, spec: {chart: charts/web, valuesFiles: [charts/web/values-prod.yaml], sourceRef: {kind: GitRepository, name: fleet}}}`),
		helmReleaseObj(t, `{apiVersion: source.toolkit.fluxcd.io/v1, kind: GitRepository, metadata: {name: fleet, namespace: apps}, spec: {url: "https://git.example.com/fleet.git", ref: {tag: v1.2.0}}}`),
		helmReleaseObj(t, `{apiVersion: v1, kind: Secret, metadata: {name: creds, namespace: apps}, data: {values.yaml: `+base64.StdEncoding.EncodeToString([]byte("a: canary-s3cr3t-7f3a\n"))+`}}`),
		helmReleaseObj(t, `{apiVersion: helm.toolkit.fluxcd.io/v2, kind: HelmRelease, metadata: {name: broken, namespace: apps}, spec: {chart: {spec: {chart: x, sourceRef: {kind: GitRepository, name: fleet}}}, valuesFrom: [{kind: ConfigMap, name: absent}]}}`),
	}}
	s, err := GetFluxHelmRelease(context.Background(), r, "apps", "web")
	if err != nil {
		t.Fatal(err)
	}
	if s.Skip() != "" {
		t.Fatal(s.Skip())
	}
	if s.RepoURL != "https://git.example.com/fleet.git" || s.Revision != "v1.2.0" || s.Path != "charts/web" || s.Helm.Chart.Via != "apps/web" {
		t.Errorf("followed to %s@%s %s via %q", s.RepoURL, s.Revision, s.Path, s.Helm.Chart.Via)
	}
	if diff := cmp.Diff([]string{"charts/web/values-prod.yaml"}, s.Helm.Chart.ValuesFiles); diff != "" {
		t.Errorf("valuesFiles (-want +got):\n%s", diff)
	}
	if v := s.Helm.ValuesFrom[0]; !v.Found || string(v.Data) != "a: canary-s3cr3t-7f3a\n" {
		t.Errorf("valuesFrom read as %+v", v)
	}
	b, err := GetFluxHelmRelease(context.Background(), r, "apps", "broken")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.Skip(), "valuesFrom ConfigMap apps/absent: not found") {
		t.Errorf("missing ConfigMap: skip %q", b.Skip())
	}
}
