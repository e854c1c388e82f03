package gitopsapi

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
)

// Kinds read.
var (
	ApplicationGVK   = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}
	KustomizationGVK = schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}
	GitRepositoryGVK = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}
	configMapGVK     = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
)

// InClusterServer is the destination server of applications deployed to
// the cluster Argo CD runs in.
const InClusterServer = "https://kubernetes.default.svc"

// ArgoSettings are the Argo CD settings that change how applications are
// read: from the argocd-cm ConfigMap of Argo CD's namespace.
type ArgoSettings struct {
	// Namespace is Argo CD's own namespace: applications there are tracked
	// by their name alone, others by "<namespace>_<name>".
	Namespace string
	// TrackingMethod is application.resourceTrackingMethod (default
	// annotation, Argo CD 3's default).
	TrackingMethod string
	// InstanceLabelKey is application.instanceLabelKey (default
	// app.kubernetes.io/instance).
	InstanceLabelKey string
	// InstallationID is installationID, when set.
	InstallationID string
	// ValuesFileSchemes is helm.valuesFileSchemes, when set: the URL
	// schemes allowed for remote Helm value files.
	ValuesFileSchemes []string
}

// ReadArgoSettings reads argocd-cm in namespace. A missing or unreadable
// ConfigMap gives the defaults and a warning; only a failure to reach the
// cluster is an error.
func ReadArgoSettings(ctx context.Context, r cluster.Reader, namespace string) (ArgoSettings, string, error) {
	st := ArgoSettings{Namespace: namespace, TrackingMethod: TrackingAnnotation, InstanceLabelKey: ArgoDefaultLabelKey}
	m, err := r.Mapping(ctx, configMapGVK)
	if err != nil {
		return st, "", fmt.Errorf("reading Argo CD settings: %w", err)
	}
	cm, err := r.Get(ctx, m, namespace, "argocd-cm")
	if err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			return st, fmt.Sprintf("reading Argo CD settings (ConfigMap %s/argocd-cm): %v; assuming annotation tracking", namespace, reason(err)), nil
		}
		return st, "", fmt.Errorf("reading Argo CD settings: %w", err)
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	if v := strings.TrimSpace(data["application.resourceTrackingMethod"]); v != "" {
		st.TrackingMethod = v
	}
	if v := strings.TrimSpace(data["application.instanceLabelKey"]); v != "" {
		st.InstanceLabelKey = v
	}
	st.InstallationID = strings.TrimSpace(data["installationID"])
	if v, ok := data["helm.valuesFileSchemes"]; ok {
		st.ValuesFileSchemes = []string{}
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				st.ValuesFileSchemes = append(st.ValuesFileSchemes, item)
			}
		}
	}
	return st, "", nil
}

func reason(err error) string {
	switch {
	case apierrors.IsNotFound(err):
		return "not found"
	case apierrors.IsForbidden(err):
		return "forbidden"
	}
	return err.Error()
}

// GetArgoApp reads the Application namespace/name.
func GetArgoApp(ctx context.Context, r cluster.Reader, st ArgoSettings, namespace, name string) (*Source, error) {
	m, err := mapping(ctx, r, ApplicationGVK, "Argo CD")
	if err != nil {
		return nil, err
	}
	app, err := r.Get(ctx, m, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("reading Argo CD Application %s/%s: %w", namespace, name, err)
	}
	return ArgoSource(app, st), nil
}

// ListArgoApps reads every Application in namespace ("" for all), sorted by
// namespace and name.
func ListArgoApps(ctx context.Context, r cluster.Reader, st ArgoSettings, namespace string) ([]*Source, error) {
	m, err := mapping(ctx, r, ApplicationGVK, "Argo CD")
	if err != nil {
		return nil, err
	}
	apps, err := r.List(ctx, m, namespace, "")
	if err != nil {
		return nil, fmt.Errorf("listing Argo CD Applications: %w", err)
	}
	out := make([]*Source, 0, len(apps))
	for i := range apps {
		out = append(out, ArgoSource(&apps[i], st))
	}
	sortSources(out)
	return out, nil
}

// ArgoSource reads an Argo CD Application.
func ArgoSource(app *unstructured.Unstructured, st ArgoSettings) *Source {
	s := &Source{Operator: ArgoCD, Kind: "Application", Namespace: app.GetNamespace(), Name: app.GetName()}
	o := app.Object
	s.Status = OperatorStatus{
		Sync:     str(o, "status", "sync", "status"),
		Health:   str(o, "status", "health", "status"),
		Revision: str(o, "status", "sync", "revision"),
		// Operators' messages may quote repository URLs with credentials.
		Message: gitsource.RedactURL(argoMessage(o)),
	}
	if s.Status.Revision == "" {
		if revs, _, _ := unstructured.NestedStringSlice(o, "status", "sync", "revisions"); len(revs) > 0 {
			s.Status.Revision = revs[0]
		}
	}
	instance := s.Name
	if s.Namespace != "" && s.Namespace != st.Namespace {
		instance = s.Namespace + "_" + s.Name
	}
	method := st.TrackingMethod
	if method == "" {
		method = TrackingAnnotation
	}
	s.Tracking = Tracking{Method: method, Instance: instance, LabelKey: st.InstanceLabelKey, InstallationID: st.InstallationID}
	opts, _, _ := unstructured.NestedStringSlice(o, "spec", "syncPolicy", "syncOptions")
	s.Tracking.ArgoPrune, _ = compare.ArgoPruneOption(opts)
	s.DefaultNamespace = str(o, "spec", "destination", "namespace")

	if entries, ok, _ := unstructured.NestedSlice(o, "spec", "ignoreDifferences"); ok {
		set, err := ignore.FromArgo(entries, s.ID(), "spec.ignoreDifferences")
		if err != nil {
			s.Problem = err.Error()
		}
		s.Ignore = set
	}
	switch method {
	case TrackingAnnotation, TrackingLabel, TrackingAnnotationAndLabel:
	default:
		s.Unsupported = fmt.Sprintf("resource tracking method %q", method)
	}

	if server := str(o, "spec", "destination", "server"); server != "" && server != InClusterServer {
		s.Unsupported = "deploys to another cluster (" + gitsource.RedactURL(server) + "); run against that cluster with --repo, --revision and --path"
	}
	if dn := str(o, "spec", "destination", "name"); dn != "" && dn != "in-cluster" {
		s.Unsupported = "deploys to another cluster (" + dn + "); run against that cluster with --repo, --revision and --path"
	}

	src, hasSource, _ := unstructured.NestedMap(o, "spec", "source")
	sources, _, _ := unstructured.NestedSlice(o, "spec", "sources")
	hydrator, hasHydrator, _ := unstructured.NestedMap(o, "spec", "sourceHydrator")
	switch {
	case hasHydrator:
		// The manifests the hydrator pushed: plain files in the sync branch.
		s.RepoURL = str(hydrator, "drySource", "repoURL")
		s.Revision = str(hydrator, "syncSource", "targetBranch")
		s.Path = str(hydrator, "syncSource", "path")
		return s
	case len(sources) > 0:
		argoMultiSource(s, o, sources)
		for _, p := range s.Parts {
			if p.ArgoHelm != nil {
				p.ArgoHelm.ValuesFileSchemes = st.ValuesFileSchemes
			}
		}
		return s
	case !hasSource:
		setUnsupported(s, "no spec.source")
		return s
	}
	argoSourceSpec(s, o, src, "spec.source")
	if s.ArgoHelm != nil {
		s.ArgoHelm.ValuesFileSchemes = st.ValuesFileSchemes
	}
	return s
}

// argoMultiSource reads spec.sources: each source is a Part, fetched at its
// own revision; a source with a ref and no path only lends its files to
// Helm value files, and contributes no manifests.
func argoMultiSource(s *Source, o map[string]any, sources []any) {
	revs, _, _ := unstructured.NestedStringSlice(o, "status", "sync", "revisions")
	refs := argoRefs(s, sources, revs)
	for i, e := range sources {
		m, ok := e.(map[string]any)
		if !ok {
			setUnsupported(s, fmt.Sprintf("spec.sources[%d] is not an object", i))
			continue
		}
		part := &Source{Operator: s.Operator, Kind: s.Kind, Namespace: s.Namespace, Name: s.Name,
			DefaultNamespace: s.DefaultNamespace, Tracking: s.Tracking, ArgoRefs: refs}
		argoSourceSpec(part, o, m, fmt.Sprintf("spec.sources[%d]", i))
		if part.Unsupported != "" {
			setUnsupported(s, part.Unsupported)
		}
		if str(m, "ref") != "" && part.Path == "" && str(m, "chart") == "" {
			continue
		}
		if i < len(revs) {
			part.Status.Revision = revs[i]
		}
		s.Parts = append(s.Parts, part)
	}
	if len(s.Parts) == 0 {
		setUnsupported(s, "no spec.sources entry with manifests")
		return
	}
	// The first source is the one shown as the application's origin.
	s.RepoURL, s.Revision, s.Path = s.Parts[0].RepoURL, s.Parts[0].Revision, s.Parts[0].Path
}

// argoRefKey is what Argo CD allows as a source's ref (util/argo
// GetRefSources).
var argoRefKey = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// argoRefs reads the sources with a ref as Argo CD's GetRefSources does:
// keys "$<ref>", each ref made only of letters, digits, '_' and '-', no
// two alike (else a problem of s, with Argo CD's message).
func argoRefs(s *Source, sources []any, revs []string) map[string]*ArgoRef {
	refs := map[string]*ArgoRef{}
	for i, e := range sources {
		m, _ := e.(map[string]any)
		ref := str(m, "ref")
		if ref == "" {
			continue
		}
		if !argoRefKey.MatchString(ref) {
			s.Problem = fmt.Sprintf("sources.ref %s cannot contain any special characters except '_' and '-'", ref)
			return refs
		}
		key := "$" + ref
		if _, dup := refs[key]; dup {
			s.Problem = "invalid sources: multiple sources had the same `ref` key"
			return refs
		}
		r := &ArgoRef{Index: i, RepoURL: str(m, "repoURL"), Revision: str(m, "targetRevision"), Chart: str(m, "chart")}
		if i < len(revs) {
			r.AppliedRevision = revs[i]
		}
		refs[key] = r
	}
	return refs
}

// argoSourceSpec reads one Application source (spec.source, or an entry of
// spec.sources named field) into s.
func argoSourceSpec(s *Source, app, src map[string]any, field string) {
	s.RepoURL = str(src, "repoURL")
	s.Revision = str(src, "targetRevision")
	s.Path = str(src, "path")
	if chart := str(src, "chart"); chart != "" {
		s.ArgoChart = argoChart(s.RepoURL, chart, s.Revision)
	} else if _, ok := src["chart"]; ok {
		setUnsupported(s, "an empty "+field+".chart")
	}
	if h, ok := src["helm"].(map[string]any); ok {
		a, unsupported := argoHelm(h, field)
		if unsupported != "" {
			setUnsupported(s, unsupported)
		}
		if a != nil {
			a.SecretValues = argoHelmSecrets(h)
		}
		s.ArgoHelm = a
	}
	if _, ok := src["plugin"]; ok {
		setUnsupported(s, "config management plugins ("+field+".plugin)")
	}
	if dir, ok := src["directory"].(map[string]any); ok {
		s.Directory = Directory{Recurse: boolean(dir, "recurse"), Include: str(dir, "include"), Exclude: str(dir, "exclude")}
		if j, ok := dir["jsonnet"].(map[string]any); ok && len(j) > 0 {
			s.Directory.Jsonnet = &Jsonnet{TLAs: jsonnetVars(j["tlas"]), ExtVars: jsonnetVars(j["extVars"])}
			s.Directory.Jsonnet.Libs, _, _ = unstructured.NestedStringSlice(j, "libs")
		}
	}
	if k, ok := src["kustomize"].(map[string]any); ok {
		ak, unsupported := argoKustomize(k)
		if unsupported != "" {
			setUnsupported(s, unsupported)
		}
		s.ArgoKustomize = ak
	}
	// Argo CD's build environment, as jsonnet options may name it.
	s.BuildEnv = map[string]string{
		"ARGOCD_APP_NAME":                   s.Tracking.Instance,
		"ARGOCD_APP_NAMESPACE":              s.DefaultNamespace,
		"ARGOCD_APP_PROJECT_NAME":           str(app, "spec", "project"),
		"ARGOCD_APP_SOURCE_REPO_URL":        s.RepoURL,
		"ARGOCD_APP_SOURCE_PATH":            s.Path,
		"ARGOCD_APP_SOURCE_TARGET_REVISION": s.Revision,
	}
}

func jsonnetVars(v any) []JsonnetVar {
	list, _ := v.([]any)
	var out []JsonnetVar
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, JsonnetVar{Name: str(m, "name"), Value: str(m, "value"), Code: boolean(m, "code")})
		}
	}
	return out
}

func setUnsupported(s *Source, what string) {
	if s.Unsupported == "" {
		s.Unsupported = what
	}
}

func (ov *Overlay) empty() bool {
	return ov.Namespace == "" && ov.NamePrefix == "" && ov.NameSuffix == "" && len(ov.Labels) == 0 &&
		len(ov.Annotations) == 0 && len(ov.Kustomization) == 0 && len(ov.Components) == 0
}

func argoMessage(o map[string]any) string {
	phase := str(o, "status", "operationState", "phase")
	if phase == "Failed" || phase == "Error" {
		return str(o, "status", "operationState", "message")
	}
	conds, _, _ := unstructured.NestedSlice(o, "status", "conditions")
	for _, c := range conds {
		if cm, ok := c.(map[string]any); ok {
			if msg := str(cm, "message"); msg != "" {
				return str(cm, "type") + ": " + msg
			}
		}
	}
	return ""
}

// ErrNotInstalled is returned (wrapped) when the cluster does not serve an
// operator's kind: its CRDs are not installed.
var ErrNotInstalled = errors.New("not installed")

// mapping resolves gvk, saying which operator is missing when its CRD is.
func mapping(ctx context.Context, r cluster.Reader, gvk schema.GroupVersionKind, operator string) (*meta.RESTMapping, error) {
	m, err := r.Mapping(ctx, gvk)
	if errors.Is(err, cluster.ErrKindNotServed) {
		return nil, fmt.Errorf("%s is %w: the cluster does not serve %s (%w)", operator, ErrNotInstalled, gvk.GroupKind(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", gvk.Kind, err)
	}
	return m, nil
}

func sortSources(s []*Source) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Namespace != s[j].Namespace {
			return s[i].Namespace < s[j].Namespace
		}
		return s[i].Name < s[j].Name
	})
}

func str(o map[string]any, path ...string) string {
	v, _, _ := unstructured.NestedFieldNoCopy(o, path...)
	s, _ := v.(string)
	return s
}

func boolean(o map[string]any, path ...string) bool {
	v, _, _ := unstructured.NestedFieldNoCopy(o, path...)
	b, _ := v.(bool)
	return b
}
