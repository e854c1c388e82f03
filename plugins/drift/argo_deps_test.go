package drift

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v4/pkg/registry"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// TestArgoChartDependencies: an Argo CD chart path whose Chart.yaml
// depends on a real chart (argocd-example-apps' helm-guestbook, packaged
// and indexed by the real Helm CLI, three versions served over HTTP) that
// is not vendored in charts/. drift fetches it through pkg/chartsource as
// Argo CD's `helm dependency build` would: with the Chart.lock the Helm CLI
// wrote (pinning 0.1.0) the locked version, without a lock the highest
// version matching the constraint (0.2.0); each time the same objects as
// the real Helm CLI's `helm dependency build` then `helm template` with
// Argo CD's command line. From an OCI registry (in-process, Helm's push
// code) the highest matching tag; a repository only --repo-override
// reaches is fetched from where it points. A lock out of sync with
// Chart.yaml is Helm's error, a repository named after Argo CD's
// configuration ("@stable") an error saying so.
func TestArgoChartDependencies(t *testing.T) {
	helm := peertools.Require(t, peertools.Helm, "helm")
	setGitEnv(t)
	run := helmCLI(t, helm)
	repoDir := t.TempDir()
	guestbook, err := filepath.Abs(filepath.Join(argoExampleApps, "helm-guestbook"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(repoDir)))
	defer srv.Close()
	run("", "package", guestbook, "-d", repoDir) // 0.1.0
	run("", "repo", "index", repoDir, "--url", srv.URL)

	// The parent chart; its lock written by the Helm CLI while 0.1.0 was
	// the only version.
	chartYAML := "apiVersion: v2\nname: shop\nversion: 1.0.0\ndependencies:\n- {name: helm-guestbook, version: 0.x, repository: \"" + srv.URL + "\"}\n"
	work := t.TempDir()
	files := map[string]string{
		"shop/Chart.yaml":          chartYAML,
		"shop/values.yaml":         "helm-guestbook: {replicaCount: 2}\nowner: team-a\n",
		"shop/templates/info.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-info}\ndata: {owner: {{ .Values.owner | quote }}}\n",
	}
	for name, data := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(work, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("", "repo", "add", "shop-deps", srv.URL)
	run(work, "dependency", "update", "shop")
	lock, err := os.ReadFile(filepath.Join(work, "shop", "Chart.lock"))
	if err != nil || !strings.Contains(string(lock), "version: 0.1.0") {
		t.Fatalf("Chart.lock: %v\n%s", err, lock)
	}
	run("", "package", guestbook, "-d", repoDir, "--version", "0.2.0")
	run("", "package", guestbook, "-d", repoDir, "--version", "1.0.0")
	run("", "repo", "index", repoDir, "--url", srv.URL)
	run("", "repo", "update")

	files["shop/Chart.lock"] = string(lock)
	base := t.TempDir()
	repo := bareRepo(t, base, "shop", "", files) // charts/ is not committed
	noLock := map[string]string{}
	for k, v := range files {
		if k != "shop/Chart.lock" {
			noLock[k] = v
		}
	}
	repoNoLock := bareRepo(t, base, "shop-unlocked", "", noLock)
	outOfSync := map[string]string{}
	for k, v := range files {
		outOfSync[k] = v
	}
	outOfSync["shop/Chart.yaml"] = strings.Replace(chartYAML, "version: 0.x", "version: 0.2.x", 1)
	repoOutOfSync := bareRepo(t, base, "shop-out-of-sync", "", outOfSync)

	// The same chart from an OCI registry (Helm's push code, 0.2.0 and
	// 0.3.0), and from a repository that only --repo-override reaches.
	reg := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	rc, err := registry.NewClient(registry.ClientOptPlainHTTP(), registry.ClientOptWriter(io.Discard),
		registry.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "push.json")))
	if err != nil {
		t.Fatal(err)
	}
	ociDir := t.TempDir()
	run("", "package", guestbook, "-d", ociDir, "--version", "0.3.0")
	for _, a := range []string{filepath.Join(repoDir, "helm-guestbook-0.2.0.tgz"), filepath.Join(ociDir, "helm-guestbook-0.3.0.tgz")} {
		data, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(a), "helm-guestbook-"), ".tgz")
		if _, err := rc.Push(data, host+"/charts/helm-guestbook:"+v); err != nil {
			t.Fatalf("helm push %s: %v", v, err)
		}
	}
	withRepo := func(repository string) map[string]string {
		out := map[string]string{}
		for k, v := range noLock {
			out[k] = v
		}
		out["shop/Chart.yaml"] = strings.Replace(chartYAML, `"`+srv.URL+`"`, `"`+repository+`"`, 1)
		return out
	}
	repoOCI := bareRepo(t, base, "shop-oci", "", withRepo("oci://"+host+"/charts"))
	const private = "https://charts.example.com/stable"
	repoPrivate := bareRepo(t, base, "shop-private", "", withRepo(private))
	repoAlias := bareRepo(t, base, "shop-alias", "", withRepo("@stable"))

	overrides := []string{private + "=" + srv.URL}
	cf, err := chartsource.New(chartsource.Options{CacheDir: t.TempDir(), Override: func(u string) string { return desired.OverrideURL(overrides, u) }})
	if err != nil {
		t.Fatal(err)
	}
	caps := helmrender.Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"policy/v1/PodDisruptionBudget"}}
	render := func(ctx context.Context, op *gitopsapi.Source, chartPath, root string) (*desired.HelmRender, error) {
		return renderArgoHelm(ctx, op, chartPath, root, caps, argoDependencies(chartsourceFetcher{cf}, op), nil)
	}
	f := desired.NewFetcher(desired.Options{Helm: render, Charts: chartsourceFetcher{cf}})
	defer f.Close()
	drift := func(repo string) desired.Source {
		t.Helper()
		var app map[string]any
		if err := yaml.Unmarshal([]byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: shop, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  source: {repoURL: "file://`+repo+`", targetRevision: main, path: shop}
`), &app); err != nil {
			t.Fatal(err)
		}
		op := gitopsapi.ArgoSource(&unstructured.Unstructured{Object: app}, gitopsapi.ArgoSettings{Namespace: "argocd"})
		return f.Operator(t.Context(), op, true, func(u *unstructured.Unstructured) bool { return u.GetKind() != "CustomResourceDefinition" })
	}
	// Argo CD's repo-server: helm dependency build in the checkout, then
	// helm template (its command line for this source: no options).
	argo := func(files map[string]string) map[string]map[string]any {
		t.Helper()
		dir := t.TempDir()
		for name, data := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		run(filepath.Join(dir, "shop"), "dependency", "build")
		return helmTemplateObjects(t, run(dir, "template", "shop", "--name-template", "shop", "--namespace", "shop", "--kube-version", "1.37.2",
			"--api-versions", "policy/v1/PodDisruptionBudget", "--include-crds"))
	}

	for _, tc := range []struct {
		name    string
		repo    string
		files   map[string]string // nil: no comparison with the Helm CLI
		version string
	}{
		{"locked", repo, files, "0.1.0"},
		{"no lock", repoNoLock, noLock, "0.2.0"},
		{"oci", repoOCI, nil, "0.3.0"},
		{"repo-override", repoPrivate, nil, "0.2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := drift(tc.repo)
			if s.Skip != "" {
				t.Fatalf("skipped: %s", s.Skip)
			}
			ours := desiredObjects(t, s)
			if got := ours["Deployment/shop-helm-guestbook"]; got == nil || !strings.Contains(mustJSON(t, got), "helm-guestbook-"+tc.version) {
				t.Errorf("the dependency rendered is not helm-guestbook %s: %v", tc.version, got)
			}
			if tc.files == nil {
				return
			}
			if diff := cmp.Diff(argo(tc.files), ours); diff != "" {
				t.Errorf("objects (-helm +drift):\n%s", diff)
			}
		})
	}
	t.Run("Argo CD's named repositories", func(t *testing.T) {
		s := drift(repoAlias)
		const want = "dependency helm-guestbook: repository @stable names a repository of Argo CD's configuration, which drift does not read: not supported"
		if !s.SkipIsError || !strings.Contains(s.Skip, want) {
			t.Errorf("skip %q (error %v), want %q", s.Skip, s.SkipIsError, want)
		}
	})
	t.Run("lock out of sync", func(t *testing.T) {
		s := drift(repoOutOfSync)
		const want = "the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies with 'helm dependency update'"
		if !s.SkipIsError || !strings.Contains(s.Skip, want) {
			t.Errorf("skip %q (error %v), want %q", s.Skip, s.SkipIsError, want)
		}
	})
}

// helmTemplateObjects reads helm template's output: its objects by kind and name,
// hooks left out, as Argo CD leaves them out.
func helmTemplateObjects(t *testing.T, out string) map[string]map[string]any {
	t.Helper()
	objs := map[string]map[string]any{}
	for _, doc := range strings.Split(out, "\n---") {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := utiljson.Unmarshal(js, &m); err != nil {
			t.Fatal(err)
		}
		u := unstructured.Unstructured{Object: m}
		if len(m) == 0 || u.GetAnnotations()["helm.sh/hook"] != "" {
			continue
		}
		objs[u.GetKind()+"/"+u.GetName()] = m
	}
	return objs
}

// desiredObjects are s's objects by kind and name, without what drift adds
// for comparison (the tracking annotation, the destination namespace).
func desiredObjects(t *testing.T, s desired.Source) map[string]map[string]any {
	objs := map[string]map[string]any{}
	for _, d := range s.Desired {
		o := desiredObject(t, d)
		ann := o.GetAnnotations()
		delete(ann, gitopsapi.ArgoTrackingID)
		o.SetAnnotations(ann)
		if len(ann) == 0 {
			o.SetAnnotations(nil)
		}
		o.SetNamespace("")
		objs[o.GetKind()+"/"+o.GetName()] = o.Object
	}
	return objs
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := utiljson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
