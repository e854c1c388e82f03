package gitopsapi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
)

func exampleApps(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", "argocd-example-apps"))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestRenderArgoHooks: hooks (generateName, delete policies, Helm hooks)
// and Skip objects are left out of an Argo CD source's objects, as Argo CD
// leaves them out of its comparison; a crd-install Helm "hook" is not one.
// Another operator's source keeps them.
func TestRenderArgoHooks(t *testing.T) {
	root := exampleApps(t)
	argo := &Source{Operator: ArgoCD, Namespace: "argocd", Name: "hooks", Path: "pre-post-sync"}
	want := []string{
		"ConfigMap /guestbook-ui <- pre-post-sync/guestbook-ui.yaml:1",
		"skipped pre-post-sync/slack-notification.yaml:18: Argo CD Helm pre-install hook ConfigMap/helm-pre-install: not compared, as Argo CD does not compare hooks",
		"skipped pre-post-sync/slack-notification.yaml:1: Argo CD PostSync hook Job/after: not compared, as Argo CD does not compare hooks",
		"skipped pre-post-sync/slack-notification.yaml:26: ConfigMap/never-applied is marked argocd.argoproj.io/hook: Skip: Argo CD does not apply it",
		"skipped pre-post-sync/upgrade-sql-schema.yaml:1: Argo CD PreSync hook Job/upgrade-sql-schema-*: not compared, as Argo CD does not compare hooks",
	}
	if diff := cmp.Diff(want, rendered(t, argo, root)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	waves := &Source{Operator: ArgoCD, Namespace: "argocd", Name: "waves", Path: "sync-waves"}
	want = []string{
		"ConfigMap /wave-backend <- sync-waves/manifests.yaml:1",
		"ConfigMap /wave-frontend <- sync-waves/manifests.yaml:9",
		"skipped sync-waves/manifests.yaml:17: Argo CD PreSync hook Job/upgrade-sql-schema-*: not compared, as Argo CD does not compare hooks",
	}
	if diff := cmp.Diff(want, rendered(t, waves, root)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	git := &Source{Operator: "git", Name: "x", Path: "pre-post-sync"}
	if got := rendered(t, git, root); len(got) != 5 {
		t.Errorf("a plain Git source keeps every object, got %v", got)
	}
}

func TestArgoHookOf(t *testing.T) {
	tests := []struct {
		ann        map[string]string
		hook, skip bool
	}{
		{map[string]string{"argocd.argoproj.io/hook": "PreSync"}, true, false},
		{map[string]string{"argocd.argoproj.io/hook": "PreSync,PostSync"}, true, false},
		{map[string]string{"argocd.argoproj.io/hook": "Skip"}, false, true},
		{map[string]string{"argocd.argoproj.io/hook": "Skip,PreSync"}, true, false},
		{map[string]string{"helm.sh/hook": "pre-install,pre-upgrade"}, true, false},
		{map[string]string{"helm.sh/hook": "crd-install"}, false, false},
		{map[string]string{"argocd.argoproj.io/sync-wave": "1"}, false, false},
		{nil, false, false},
	}
	for _, tt := range tests {
		u := &unstructured.Unstructured{Object: map[string]any{}}
		u.SetAnnotations(tt.ann)
		if hook, skip := compare.ArgoHookOf(u); hook != tt.hook || skip != tt.skip {
			t.Errorf("%v: hook %v skip %v, want %v %v", tt.ann, hook, skip, tt.hook, tt.skip)
		}
	}
}

func jsonnetApp(path string) *Source {
	return &Source{
		Operator: ArgoCD, Namespace: "argocd", Name: "jsonnet-guestbook", Path: path,
		Directory: Directory{Jsonnet: &Jsonnet{
			TLAs:    []JsonnetVar{{Name: "replicas", Value: "2", Code: true}, {Name: "containerPort", Value: "8080", Code: true}},
			ExtVars: []JsonnetVar{{Name: "env", Value: "prod"}, {Name: "namespace", Value: "${ARGOCD_APP_NAMESPACE}"}, {Name: "tier", Value: "{a: 1}", Code: true}},
			Libs:    []string{"jsonnet-lib"},
		}},
		BuildEnv: map[string]string{"ARGOCD_APP_NAMESPACE": "guestbook"},
	}
}

// TestRenderJsonnet: .jsonnet files of an Argo CD directory source are
// evaluated as Argo CD does (TLAs, extVars with code, libs from the
// repository's top, an array flattened, a List flattened, .libsonnet files
// only imported).
func TestRenderJsonnet(t *testing.T) {
	root := exampleApps(t)
	src := jsonnetApp("jsonnet-guestbook")
	set, err := Render(t.Context(), src, root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range set.Objects {
		got = append(got, o.Obj.GetKind()+"/"+o.Obj.GetName()+" <- "+o.Source.String())
	}
	want := []string{
		"Service/jsonnet-guestbook-ui <- jsonnet-guestbook/guestbook-ui.jsonnet (jsonnet)",
		"Deployment/jsonnet-guestbook-ui <- jsonnet-guestbook/guestbook-ui.jsonnet (jsonnet)",
		"ConfigMap/jsonnet-guestbook-ui-env <- jsonnet-guestbook/guestbook-ui.jsonnet (jsonnet)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	if len(set.Skipped) != 0 {
		t.Errorf("skipped %v", set.Skipped)
	}
	dep, cfg := set.Objects[1].Obj.Object, set.Objects[2].Obj.Object
	if r, _, _ := unstructured.NestedInt64(dep, "spec", "replicas"); r != 2 {
		t.Errorf("replicas (tla code) = %d, want 2", r)
	}
	if env, _, _ := unstructured.NestedString(dep, "metadata", "labels", "environment"); env != "prod" {
		t.Errorf("label from the lib's extVar = %q", env)
	}
	data, _, _ := unstructured.NestedStringMap(cfg, "data")
	if diff := cmp.Diff(map[string]string{"env": "prod", "namespace": "guestbook", "tier": `{"a": 1}`}, data); diff != "" {
		t.Errorf("extVars (-want +got)\n%s", diff)
	}

	// A missing extVar is an error, never an empty, in-sync source.
	broken := jsonnetApp("jsonnet-guestbook")
	broken.Directory.Jsonnet.ExtVars = nil
	if _, err := Render(t.Context(), broken, root); err == nil || !strings.Contains(err.Error(), "Undefined external variable: env") {
		t.Errorf("missing extVar: %v", err)
	}
	// The revision is known once fetched; the cluster's version is not:
	// naming it makes the source unsupported.
	rev := jsonnetApp("jsonnet-guestbook")
	rev.Directory.Jsonnet.ExtVars[0].Value = "${ARGOCD_APP_REVISION_SHORT}-$$x"
	if _, err := Render(t.Context(), rev, root); !errors.Is(err, ErrUnsupported) {
		t.Errorf("$ARGOCD_APP_REVISION_SHORT before fetching: %v, want ErrUnsupported", err)
	}
	rev.SetRevisionEnv("0123456789abcdef")
	set, err = Render(t.Context(), rev, root)
	if err != nil {
		t.Fatal(err)
	}
	if env, _, _ := unstructured.NestedString(set.Objects[2].Obj.Object, "data", "env"); env != "0123456-$x" {
		t.Errorf("$ARGOCD_APP_REVISION_SHORT = %q, want 0123456-$x", env)
	}
	kube := jsonnetApp("jsonnet-guestbook")
	kube.Directory.Jsonnet.ExtVars[0].Value = "$KUBE_VERSION"
	if _, err := Render(t.Context(), kube, root); !errors.Is(err, ErrUnsupported) {
		t.Errorf("$KUBE_VERSION: %v, want ErrUnsupported", err)
	}
}

// TestJsonnetImportsStayInTheRepository: repository files are untrusted; a
// jsonnet import or importstr of a file outside the checkout (absolute,
// "..", a symbolic link, a lib) is an error and its content never shows.
func TestJsonnetImportsStayInTheRepository(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte(canary), 0o600); err != nil {
		t.Fatal(err)
	}
	cmOf := func(expr string) string {
		return `{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'x'}, data: {v: ` + expr + `}}`
	}
	tests := map[string]string{
		"absolute": cmOf(`importstr '` + outside + `'`),
		"dotdot":   cmOf(`importstr '` + strings.Repeat("../", 20) + strings.TrimPrefix(outside, "/") + `'`),
		"symlink":  cmOf(`importstr 'link.txt'`),
	}
	for name, code := range tests {
		t.Run(name, func(t *testing.T) {
			root := writeTree(t, map[string]string{"app/main.jsonnet": code})
			if err := os.Symlink(outside, filepath.Join(root, "app", "link.txt")); err != nil {
				t.Fatal(err)
			}
			src := &Source{Operator: ArgoCD, Name: "x", Path: "app"}
			set, err := Render(t.Context(), src, root)
			if err == nil {
				t.Fatalf("read outside the repository: %v", set.Objects[0].Obj.Object)
			}
			if !strings.Contains(err.Error(), "outside the repository") || strings.Contains(err.Error(), canary) {
				t.Errorf("error: %v", err)
			}
		})
	}
	// The Application is cluster data: its code values are no more trusted.
	t.Run("extVar code", func(t *testing.T) {
		root := writeTree(t, map[string]string{"app/main.jsonnet": cmOf("std.extVar('v')")})
		for _, path := range []string{outside, "secret.txt", "../../../../../../../../../.." + outside} {
			src := &Source{Operator: ArgoCD, Name: "x", Path: "app", Directory: Directory{Jsonnet: &Jsonnet{
				ExtVars: []JsonnetVar{{Name: "v", Value: "importstr '" + path + "'", Code: true}}}}}
			_, err := Render(t.Context(), src, root)
			if err == nil || strings.Contains(err.Error(), canary) {
				t.Errorf("extVar importstr %s: %v", path, err)
			}
		}
	})
	root := writeTree(t, map[string]string{"app/main.jsonnet": cmOf("'x'")})
	src := &Source{Operator: ArgoCD, Name: "x", Path: "app", Directory: Directory{Jsonnet: &Jsonnet{Libs: []string{"../../.."}}}}
	if _, err := Render(t.Context(), src, root); err == nil || !strings.Contains(err.Error(), "outside the repository") {
		t.Errorf("lib outside the repository: %v", err)
	}
}

// TestArgoMultiSource: every entry of spec.sources with manifests is a
// part, at its own revision; a ref-only source gives none; a Helm source
// makes the whole application unsupported (never compared in part).
func TestArgoMultiSource(t *testing.T) {
	app := obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: multi, namespace: argocd}
spec:
  project: shop
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  sources:
  - {repoURL: "https://git.example.com/a.git", targetRevision: main, path: apps/a, directory: {recurse: true}}
  - {repoURL: "https://git.example.com/values.git", targetRevision: v2, ref: values}
  - {repoURL: "https://git.example.com/b.git", targetRevision: v1, path: apps/b, directory: {jsonnet: {tlas: [{name: n, value: "$ARGOCD_APP_NAME", code: false}]}}}
status:
  sync: {status: Synced, revisions: [aaaa, bbbb, cccc]}
`)
	s := ArgoSource(app, ArgoSettings{Namespace: "argocd", TrackingMethod: TrackingAnnotation})
	if s.Skip() != "" {
		t.Fatalf("skipped: %s", s.Skip())
	}
	var got []string
	for _, p := range s.Parts {
		got = append(got, p.RepoURL+"@"+p.Revision+"/"+p.Path+" applied "+p.Status.Revision+" ns "+p.DefaultNamespace+" instance "+p.Tracking.Instance)
	}
	want := []string{
		"https://git.example.com/a.git@main/apps/a applied aaaa ns shop instance multi",
		"https://git.example.com/b.git@v1/apps/b applied cccc ns shop instance multi",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("parts (-want +got)\n%s", diff)
	}
	if !s.Parts[0].Directory.Recurse || s.Parts[1].Directory.Jsonnet == nil || s.Parts[1].BuildEnv["ARGOCD_APP_SOURCE_REPO_URL"] != "https://git.example.com/b.git" {
		t.Errorf("part options: %+v %+v", s.Parts[0].Directory, s.Parts[1])
	}
	if s.RepoURL != "https://git.example.com/a.git" || s.Path != "apps/a" {
		t.Errorf("origin %s %s", s.RepoURL, s.Path)
	}

	helm := obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: multi, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  sources:
  - {repoURL: "https://charts.example.com", chart: redis, targetRevision: 1.0.0, helm: {valueFiles: [$values/redis.yaml]}}
  - {repoURL: "https://git.example.com/values.git", targetRevision: v2, ref: values}
  - {repoURL: "https://git.example.com/a.git", path: apps/a}
`)
	// A chart with value files of a ref source: each part knows the refs,
	// with the revision Argo CD would check them out at.
	hs := ArgoSource(helm, ArgoSettings{Namespace: "argocd"})
	if hs.Skip() != "" || len(hs.Parts) != 2 {
		t.Fatalf("Helm in spec.sources: skip %q, %d parts", hs.Skip(), len(hs.Parts))
	}
	refs, err := ArgoRefsUsed(hs.Parts[0])
	if err != nil {
		t.Fatal(err)
	}
	if r := refs["$values"]; len(refs) != 1 || r == nil || r.RepoURL != "https://git.example.com/values.git" || r.Revision != "v2" || r.Index != 1 {
		t.Errorf("refs %+v", refs)
	}
	if refs, err := ArgoRefsUsed(hs.Parts[1]); refs != nil || err != nil {
		t.Errorf("a part without $ref files: %v %v", refs, err)
	}
	// Argo CD's GetRefSources refuses bad and repeated ref names.
	for ref, want := range map[string]string{
		"va/lues": "sources.ref va/lues cannot contain any special characters except '_' and '-'",
		"values":  "invalid sources: multiple sources had the same `ref` key",
	} {
		bad := obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: multi, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  sources:
  - {repoURL: "https://charts.example.com", chart: redis, targetRevision: 1.0.0, helm: {valueFiles: [$values/redis.yaml]}}
  - {repoURL: "https://git.example.com/values.git", targetRevision: v2, ref: values}
  - {repoURL: "https://git.example.com/other.git", targetRevision: v2, ref: "`+ref+`"}
`)
		if got := ArgoSource(bad, ArgoSettings{Namespace: "argocd"}).Skip(); got != want {
			t.Errorf("ref %q: skip %q, want %q", ref, got, want)
		}
	}
	refOnly := obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: multi, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  sources: [{repoURL: "https://git.example.com/values.git", ref: values}]
`)
	if got := ArgoSource(refOnly, ArgoSettings{Namespace: "argocd"}).Skip(); got == "" {
		t.Error("an application whose only source is a ref is compared (as in sync, with nothing)")
	}
}

// TestJsonnetInterrupted: a long evaluation returns as soon as the context
// is cancelled, with the context's error (the worker is killed:
// pkg/jsonneteval TestCancelKillsTheWorker).
func TestJsonnetInterrupted(t *testing.T) {
	root := writeTree(t, map[string]string{
		"app/slow.jsonnet": `local n = std.length(std.foldl(function(acc, i) acc + [i], std.range(1, 30000), []));
{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'n' + n}}`,
	})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	src := &Source{Operator: ArgoCD, Name: "slow", Path: "app"}
	_, err := Render(ctx, src, root)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Render: %v, want the context's error", err)
	}
}

// TestJsonnetBudget: repository jsonnet that allocates without end is
// stopped at the memory budget in its worker: an error of the file naming
// the limit, never the code, and the other files of the source are not
// read as if it had succeeded.
func TestJsonnetBudget(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	root := writeTree(t, map[string]string{
		"app/bomb.jsonnet": "// " + canary + "\nlocal f(s, n) = if n == 0 then std.length(s) else f(s + s, n - 1);\n{v: f('" + canary + "', 40)}\n",
	})
	src := &Source{Operator: ArgoCD, Name: "bomb", Path: "app"}
	_, err := Render(t.Context(), src, root)
	var budget *jsonneteval.BudgetError
	if !errors.As(err, &budget) || !strings.Contains(err.Error(), "evaluating jsonnet app/bomb.jsonnet: exceeded the 512 MiB memory budget") ||
		strings.Contains(err.Error(), canary) {
		t.Errorf("Render: %v, want the file and the memory budget", err)
	}
}
