package gitopsapi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
)

var obj = builders.FromYAML

// view is what the tests check of a Source.
type view struct {
	ID, RepoURL, Revision, Semver, Path string
	Directory                           Directory
	Kustomize                           bool
	Overlay                             *Overlay
	ArgoKustomize                       *ArgoKustomize
	DefaultNamespace                    string
	Tracking                            Tracking
	Rules                               []string
	Inventory                           []ObjectRef
	Disabled, Unsupported, Problem      string
	Suspended                           bool
	Warnings                            []string
	Status                              OperatorStatus
}

func viewOf(s *Source) view {
	v := view{ID: s.ID(), RepoURL: s.RepoURL, Revision: s.Revision, Semver: s.Semver, Path: s.Path, Directory: s.Directory,
		Kustomize: s.Kustomize, Overlay: s.Overlay, ArgoKustomize: s.ArgoKustomize, DefaultNamespace: s.DefaultNamespace, Tracking: s.Tracking,
		Inventory: s.Inventory, Disabled: s.Disabled, Unsupported: s.Unsupported, Problem: s.Problem,
		Suspended: s.Suspended, Warnings: s.Warnings, Status: s.Status}
	for _, r := range s.Ignore.Rules() {
		v.Rules = append(v.Rules, r.Name)
	}
	return v
}

var argoDefaults = ArgoSettings{Namespace: "argocd", TrackingMethod: TrackingAnnotation, InstanceLabelKey: ArgoDefaultLabelKey}

func TestArgoSource(t *testing.T) {
	tests := []struct {
		name     string
		app      string
		settings ArgoSettings
		want     view
	}{
		{
			name: "directory source with ignoreDifferences and status",
			app: `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  project: default
  source:
    repoURL: https://git.example.com/org/fleet.git
    targetRevision: main
    path: apps/web
    directory: {recurse: true, include: '*.yaml', exclude: 'test/*'}
  destination: {server: https://kubernetes.default.svc, namespace: shop}
  ignoreDifferences:
  - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}
status:
  sync: {status: OutOfSync, revision: "0123456789012345678901234567890123456789"}
  health: {status: Healthy}
  conditions: [{type: SyncError, message: boom}]
`,
			settings: argoDefaults,
			want: view{
				ID: "argocd/argocd/web", RepoURL: "https://git.example.com/org/fleet.git", Revision: "main", Path: "apps/web",
				Directory:        Directory{Recurse: true, Include: "*.yaml", Exclude: "test/*"},
				DefaultNamespace: "shop",
				Tracking:         Tracking{Method: "annotation", Instance: "web", LabelKey: ArgoDefaultLabelKey},
				Rules:            []string{"argocd/argocd/web spec.ignoreDifferences[0]"},
				Status:           OperatorStatus{Sync: "OutOfSync", Health: "Healthy", Revision: "0123456789012345678901234567890123456789", Message: "SyncError: boom"},
			},
		},
		{
			name: "application outside Argo CD's namespace, label tracking, kustomize options",
			app: `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: api, namespace: team-a}
spec:
  source:
    repoURL: https://git.example.com/org/fleet.git
    path: overlays/prod
    kustomize:
      namePrefix: p-
      namespace: prod
      images: [nginx:1.27, "app=registry:5000/app@sha256:abc"]
      commonLabels: {team: a}
      components: [../../components/tls]
  destination: {name: in-cluster, namespace: prod}
status:
  operationState: {phase: Failed, message: "sync failed"}
`,
			settings: ArgoSettings{Namespace: "argocd", TrackingMethod: "annotation+label", InstanceLabelKey: "argocd.example/app", InstallationID: "prod-1"},
			want: view{
				ID: "argocd/team-a/api", RepoURL: "https://git.example.com/org/fleet.git", Path: "overlays/prod", DefaultNamespace: "prod",
				ArgoKustomize: &ArgoKustomize{Namespace: "prod", NamePrefix: "p-", Components: []string{"../../components/tls"},
					CommonLabels: map[string]string{"team": "a"}, Images: []string{"nginx:1.27", "app=registry:5000/app@sha256:abc"}},
				Tracking: Tracking{Method: "annotation+label", Instance: "team-a_api", LabelKey: "argocd.example/app", InstallationID: "prod-1"},
				Status:   OperatorStatus{Message: "sync failed"},
			},
		},
		{
			name: "multi-source",
			app: `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: multi, namespace: argocd}
spec:
  sources: [{repoURL: https://a, path: x}, {repoURL: https://b, chart: c}]
  destination: {server: https://kubernetes.default.svc}
`,
			settings: argoDefaults,
			// The chart source is fetched from its Helm repository.
			want: view{ID: "argocd/argocd/multi", RepoURL: "https://a", Path: "x", Tracking: Tracking{Method: "annotation", Instance: "multi", LabelKey: ArgoDefaultLabelKey}},
		},
		{
			name: "Helm chart, remote cluster, bad ignore rule",
			app: `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: chart, namespace: argocd}
spec:
  source: {repoURL: https://charts.example.com, chart: redis, targetRevision: 1.2.3}
  destination: {server: https://prod.example.com:6443}
  ignoreDifferences: [{kind: Deployment, jsonPointers: [spec/replicas]}]
`,
			settings: argoDefaults,
			want: view{ID: "argocd/argocd/chart", RepoURL: "https://charts.example.com", Revision: "1.2.3",
				Tracking:    Tracking{Method: "annotation", Instance: "chart", LabelKey: ArgoDefaultLabelKey},
				Unsupported: "deploys to another cluster (https://prod.example.com:6443); run against that cluster with --repo, --revision and --path",
				Problem:     `parsing argocd/argocd/chart: spec.ignoreDifferences[0].jsonPointers[0]: invalid JSON pointer "spec/replicas": must start with "/"`},
		},
		{
			name: "source hydrator",
			app: `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: hyd, namespace: argocd}
spec:
  sourceHydrator:
    drySource: {repoURL: https://git.example.com/dry.git, targetRevision: main, path: apps}
    syncSource: {targetBranch: environment/prod, path: apps/prod}
  destination: {server: https://kubernetes.default.svc, namespace: prod}
`,
			settings: argoDefaults,
			want: view{ID: "argocd/argocd/hyd", RepoURL: "https://git.example.com/dry.git", Revision: "environment/prod", Path: "apps/prod",
				DefaultNamespace: "prod", Tracking: Tracking{Method: "annotation", Instance: "hyd", LabelKey: ArgoDefaultLabelKey}},
		},
		{
			name: "plugin and unknown tracking method",
			app: `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: plug, namespace: argocd}
spec:
  source: {repoURL: https://a, path: p, plugin: {name: cmp}}
  destination: {server: https://kubernetes.default.svc}
`,
			settings: ArgoSettings{Namespace: "argocd", TrackingMethod: "sticky-notes"},
			want: view{ID: "argocd/argocd/plug", RepoURL: "https://a", Path: "p",
				Tracking:    Tracking{Method: "sticky-notes", Instance: "plug"},
				Unsupported: `resource tracking method "sticky-notes"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := viewOf(ArgoSource(obj(t, tt.app), tt.settings))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFluxSource(t *testing.T) {
	repo := func(ref string) string {
		return `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec:
  url: https://git.example.com/org/fleet.git
  interval: 1m
` + ref
	}
	ks := `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps/prod
  prune: true
  sourceRef: {kind: GitRepository, name: fleet}
  targetNamespace: prod
  commonMetadata: {labels: {team: a}}
  images: [{name: nginx, newTag: "1.27"}]
  ignore:
  - paths: [/spec/replicas]
    target: {kind: Deployment}
status:
  lastAppliedRevision: main@sha1:0123456789012345678901234567890123456789
  conditions:
  - {type: Ready, status: "True", reason: ReconciliationSucceeded, message: "Applied revision: main@sha1:0123"}
  inventory:
    entries:
    - {id: prod_web_apps_Deployment, v: v1}
    - {id: _prod__Namespace, v: v1}
    - {id: _system__aggregate_rbac.authorization.k8s.io_ClusterRole, v: v1}
    - {id: broken, v: v1}
`
	wantBase := view{
		ID: "flux/flux-system/apps", RepoURL: "https://git.example.com/org/fleet.git", Path: "./apps/prod", Kustomize: true,
		Overlay: &Overlay{Namespace: "prod", Labels: map[string]string{"team": "a"},
			Kustomization: map[string]any{"images": []any{map[string]any{"name": "nginx", "newTag": "1.27"}}}},
		Tracking: Tracking{Method: "labels", Instance: "flux-system/apps"},
		Rules:    []string{"flux/flux-system/apps spec.ignore[0]"},
		Inventory: []ObjectRef{
			{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "prod", Name: "web"},
			{Version: "v1", Kind: "Namespace", Name: "prod"},
			{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: "system:aggregate"},
		},
		Warnings: []string{`invalid inventory entry "broken"`},
		Status:   OperatorStatus{Ready: "True", Message: "Applied revision: main@sha1:0123", Revision: "main@sha1:0123456789012345678901234567890123456789"},
	}
	with := func(f func(*view)) view {
		v := wantBase
		f(&v)
		return v
	}
	tests := []struct {
		name     string
		ks, repo string
		want     view
	}{
		{"branch", ks, repo("  ref: {branch: main}\n"), with(func(v *view) { v.Revision = "main" })},
		{"no ref: master", ks, repo(""), with(func(v *view) { v.Revision = "master" })},
		{"tag", ks, repo("  ref: {tag: v1.0.0, branch: main}\n"), with(func(v *view) { v.Revision = "v1.0.0" })},
		{"semver", ks, repo("  ref: {semver: '>=1.0.0', tag: v1.0.0}\n"), with(func(v *view) { v.Semver = ">=1.0.0" })},
		{"commit wins", ks, repo("  ref: {branch: main, commit: '0123456789012345678901234567890123456789'}\n"),
			with(func(v *view) { v.Revision = "0123456789012345678901234567890123456789" })},
		{"ref name", ks, repo("  ref: {name: refs/pull/4/head}\n"), with(func(v *view) { v.Revision = "refs/pull/4/head" })},
		{"missing GitRepository", ks, "", with(func(v *view) {
			v.RepoURL = ""
			v.Problem = "GitRepository flux-system/fleet not found"
		})},
		{"reconcile disabled, suspended", strings.Replace(ks, "namespace: flux-system}", "namespace: flux-system, annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}}", 1) + "",
			repo("  ref: {branch: main}\n"), with(func(v *view) {
				v.Revision = "main"
				v.Disabled = "kustomize.toolkit.fluxcd.io/reconcile: disabled"
			})},
		{"suspended, remote cluster", strings.Replace(ks, "  prune: true\n", "  prune: true\n  suspend: true\n  kubeConfig: {secretRef: {name: prod}}\n", 1),
			repo("  ref: {branch: main}\n"), with(func(v *view) {
				v.Revision, v.Suspended = "main", true
				v.Unsupported = "applies to another cluster (spec.kubeConfig); run against that cluster with --repo, --revision and --path"
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *unstructured.Unstructured
			if tt.repo != "" {
				r = obj(t, tt.repo)
			}
			got := viewOf(FluxSource(obj(t, tt.ks), r))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("OCIRepository", func(t *testing.T) {
		oks := strings.Replace(ks, "kind: GitRepository", "kind: OCIRepository", 1)
		s := FluxSource(obj(t, oks), nil)
		if s.Problem != "OCIRepository flux-system/fleet not found" || s.Unsupported != "" {
			t.Errorf("missing: problem %q, unsupported %q", s.Problem, s.Unsupported)
		}
		repo := "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: fleet, namespace: flux-system}\n" +
			"spec: {url: oci://ghcr.io/org/app, ref: {semver: '>=1.0.0', semverFilter: '-rc', tag: v1, digest: 'sha256:ab'}, " +
			"layerSelector: {mediaType: application/x-tar, operation: copy}, insecure: true, ignore: 'a/\nb/', secretRef: {name: regcred}, verify: {provider: cosign}}\n" +
			"status: {artifact: {revision: 'v1@sha256:ab'}}\n"
		s = FluxSource(obj(t, oks), obj(t, repo))
		want := &OCISource{Namespace: "flux-system", Name: "fleet", URL: "oci://ghcr.io/org/app", Tag: "v1", Semver: ">=1.0.0", SemverFilter: "-rc",
			Digest: "sha256:ab", LayerMediaType: "application/x-tar", LayerOperation: "copy", Insecure: true, SecretName: "regcred", Revision: "v1@sha256:ab"}
		ign := "a/ b/" // a folded flow scalar
		want.Ignore = &ign
		if diff := cmp.Diff(want, s.OCI); diff != "" || s.RepoURL != want.URL || s.Skip() != "" {
			t.Errorf("OCI (-want +got):\n%s\nrepo %q, skip %q", diff, s.RepoURL, s.Skip())
		}
		if w := s.Warnings; len(w) == 0 || !strings.Contains(w[len(w)-1], "OCIRepository flux-system/fleet: its signatures are not verified") {
			t.Errorf("warnings %q", s.Warnings)
		}
		s = FluxSource(obj(t, oks), obj(t, strings.Replace(repo, "insecure: true", "provider: aws", 1)))
		if !strings.HasPrefix(s.Skip(), "not supported: provider aws of OCIRepository flux-system/fleet") {
			t.Errorf("provider aws: skip %q", s.Skip())
		}
		s = FluxSource(obj(t, strings.Replace(ks, "kind: GitRepository", "kind: Bucket", 1)), nil)
		if s.Unsupported != "sources of kind Bucket (only GitRepository, OCIRepository and ExternalArtifact are)" {
			t.Errorf("Bucket: unsupported %q", s.Unsupported)
		}
	})
	t.Run("no inventory", func(t *testing.T) {
		s := FluxSource(obj(t, "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a, namespace: b}\nspec: {sourceRef: {kind: GitRepository, name: r}}\n"), obj(t, repo("")))
		if s.Inventory != nil || s.Overlay != nil || s.Ignore != nil {
			t.Errorf("inventory %v, overlay %v, ignore %v: want none", s.Inventory, s.Overlay, s.Ignore)
		}
	})
}

func TestParseInventoryID(t *testing.T) {
	tests := []struct {
		id   string
		want ObjectRef
		bad  bool
	}{
		{id: "shop_web_apps_Deployment", want: ObjectRef{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web"}},
		{id: "shop_cfg__ConfigMap", want: ObjectRef{Kind: "ConfigMap", Namespace: "shop", Name: "cfg"}},
		{id: "_shop__Namespace", want: ObjectRef{Kind: "Namespace", Name: "shop"}},
		{id: "_system__controller__x_rbac.authorization.k8s.io_ClusterRole", want: ObjectRef{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:controller:x"}},
		{id: "x", bad: true}, {id: "a_b", bad: true}, {id: "ns__g_K", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseInventoryID(tt.id)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseInventoryID(%q) = %+v, %v", tt.id, got, err)
		}
	}
}

func TestTrack(t *testing.T) {
	argo := func(method string) *Source {
		return &Source{Operator: ArgoCD, DefaultNamespace: "shop",
			Tracking: Tracking{Method: method, Instance: "team_web", LabelKey: ArgoDefaultLabelKey, InstallationID: ""}}
	}
	flux := &Source{Operator: Flux, Tracking: Tracking{Method: "labels", Instance: "flux-system/apps"}}
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"
	ns := "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
	role := "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: other}\n"
	tests := []struct {
		name       string
		src        *Source
		obj        string
		namespaced bool
		want       string
	}{
		{"annotation, namespace defaulted", argo("annotation"), cm, true,
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    argocd.argoproj.io/tracking-id: team_web:/ConfigMap:shop/cfg\n  name: cfg\n  namespace: shop\n"},
		{"annotation, cluster-scoped: the destination namespace", argo("annotation"), ns, false,
			"apiVersion: v1\nkind: Namespace\nmetadata:\n  annotations:\n    argocd.argoproj.io/tracking-id: team_web:/Namespace:shop/shop\n  name: shop\n"},
		{"label", argo("label"), role, true,
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  labels:\n    app.kubernetes.io/instance: team_web\n  name: r\n  namespace: other\n"},
		{"annotation+label", argo("annotation+label"), role, true,
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  annotations:\n    argocd.argoproj.io/tracking-id: team_web:rbac.authorization.k8s.io/Role:other/r\n  labels:\n    app.kubernetes.io/instance: team_web\n  name: r\n  namespace: other\n"},
		{"flux", flux, cm, true,
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    kustomize.toolkit.fluxcd.io/name: apps\n    kustomize.toolkit.fluxcd.io/namespace: flux-system\n  name: cfg\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := obj(t, tt.obj)
			tt.src.Track(o, tt.namespaced)
			data, err := yaml.Marshal(o.Object)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(data)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	s := argo("annotation")
	s.Tracking.InstallationID = "prod-1"
	o := obj(t, cm)
	s.Track(o, true)
	if o.GetAnnotations()[ArgoInstallationID] != "prod-1" {
		t.Errorf("no installation id: %v", o.GetAnnotations())
	}
	if got := labelValue(strings.Repeat("a", 62) + "-_b"); got != strings.Repeat("a", 62) {
		t.Errorf("labelValue: %q", got)
	}
}

func TestParseSetImage(t *testing.T) {
	tests := []struct {
		in   string
		want types.Image
	}{
		{"nginx:1.27", types.Image{Name: "nginx", NewTag: "1.27"}},
		{"nginx@sha256:abc", types.Image{Name: "nginx", Digest: "sha256:abc"}},
		{"nginx=ghcr.io/me/nginx:2", types.Image{Name: "nginx", NewName: "ghcr.io/me/nginx", NewTag: "2"}},
		{"localhost:5000/app:v1", types.Image{Name: "localhost:5000/app", NewTag: "v1"}},
		{"app=registry:5000/app", types.Image{Name: "app", NewName: "registry:5000/app"}},
		{"app=*:v2", types.Image{Name: "app", NewName: "*", NewTag: "v2"}},
	}
	for _, tt := range tests {
		got, err := parseSetImage(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.in, diff)
		}
	}
	if _, err := parseSetImage("nginx"); err == nil {
		t.Error("an image without a tag, digest or new name: no error, as kustomize edit set image gives")
	}
}

func TestAppliedCommit(t *testing.T) {
	sha := "0123456789012345678901234567890123456789"
	for rev, want := range map[string]string{
		sha: sha, "main@sha1:" + sha: sha, "v1.0.0@sha1:" + sha: sha, "main": "", "": "", "main@sha1:abc": "",
	} {
		s := &Source{Status: OperatorStatus{Revision: rev}}
		if got := s.AppliedCommit(); got != want {
			t.Errorf("AppliedCommit(%q) = %q, want %q", rev, got, want)
		}
	}
}
