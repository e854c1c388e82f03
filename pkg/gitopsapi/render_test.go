package gitopsapi

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
)

// writeTree is test/builders' WriteTree.
var writeTree = builders.WriteTree

func cm(name string, extra ...string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n" + strings.Join(extra, "")
}

const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.25}]}
`

// rendered lists "Kind namespace/name <- source" sorted, plus skipped
// files as "skipped <source>: <reason>".
func rendered(t *testing.T, src *Source, root string) []string {
	t.Helper()
	set, err := Render(t.Context(), src, root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range set.Objects {
		out = append(out, o.Obj.GetKind()+" "+o.Obj.GetNamespace()+"/"+o.Obj.GetName()+" <- "+o.Source.String())
	}
	for _, s := range set.Skipped {
		out = append(out, "skipped "+s.Source.String()+": "+s.Reason)
	}
	sort.Strings(out)
	return out
}

func TestRenderDirectory(t *testing.T) {
	root := writeTree(t, map[string]string{
		"apps/web/a.yaml":         cm("a"),
		"apps/web/b.json":         `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}`,
		"apps/web/notes.txt":      "not a manifest",
		"apps/web/sub/c.yml":      cm("c"),
		"apps/web/sub/test/d.yml": cm("d"),
		"apps/web/gen.jsonnet":    "{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'g'}}",
		"apps/other/e.yaml":       cm("e"),
	})
	argo := func(d Directory) *Source {
		return &Source{Operator: ArgoCD, Namespace: "argocd", Name: "web", Path: "apps/web", Directory: d}
	}
	tests := []struct {
		name string
		dir  Directory
		want []string
	}{
		{"top level only", Directory{}, []string{
			"ConfigMap /a <- apps/web/a.yaml:1", "ConfigMap /b <- apps/web/b.json:1", "ConfigMap /g <- apps/web/gen.jsonnet (jsonnet)"}},
		{"recurse", Directory{Recurse: true}, []string{
			"ConfigMap /a <- apps/web/a.yaml:1", "ConfigMap /b <- apps/web/b.json:1", "ConfigMap /c <- apps/web/sub/c.yml:1",
			"ConfigMap /d <- apps/web/sub/test/d.yml:1", "ConfigMap /g <- apps/web/gen.jsonnet (jsonnet)"}},
		{"include", Directory{Recurse: true, Include: "{a.yaml,sub/*}"}, []string{
			"ConfigMap /a <- apps/web/a.yaml:1", "ConfigMap /c <- apps/web/sub/c.yml:1", "ConfigMap /d <- apps/web/sub/test/d.yml:1"}},
		{"exclude", Directory{Recurse: true, Exclude: "*test*"}, []string{
			"ConfigMap /a <- apps/web/a.yaml:1", "ConfigMap /b <- apps/web/b.json:1", "ConfigMap /c <- apps/web/sub/c.yml:1",
			"ConfigMap /g <- apps/web/gen.jsonnet (jsonnet)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, rendered(t, argo(tt.dir), root)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("path through a symbolic link", func(t *testing.T) {
		if err := os.Symlink("web", filepath.Join(root, "apps", "link")); err != nil {
			t.Fatal(err)
		}
		src := &Source{Operator: ArgoCD, Namespace: "argocd", Name: "web", Path: "apps/link"}
		want := []string{"ConfigMap /a <- apps/web/a.yaml:1", "ConfigMap /b <- apps/web/b.json:1", "ConfigMap /g <- apps/web/gen.jsonnet (jsonnet)"}
		if diff := cmp.Diff(want, rendered(t, src, root)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestRenderKustomize(t *testing.T) {
	root := writeTree(t, map[string]string{
		"base/kustomization.yaml":           "resources: [web.yaml, cfg.yaml]\n",
		"base/web.yaml":                     deploy,
		"base/cfg.yaml":                     cm("cfg"),
		"overlays/prod/kustomization.yaml":  "resources: [../../base]\nnamespace: prod\n",
		"components/tls/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [tls.yaml]\n",
		"components/tls/tls.yaml":           cm("tls"),
		// Flux: no kustomization file.
		"flux/apps/web.yaml":                  deploy,
		"flux/apps/readme.yaml":               "title: not a Kubernetes object\n",
		"flux/apps/nested/kustomization.yaml": "resources: [x.yaml]\n",
		"flux/apps/nested/x.yaml":             cm("x"),
		"flux/apps/nested/ignored.yaml":       cm("not-listed"),
		"flux/apps/more/y.yaml":               cm("y"),
		// Flux builds without load restrictions: a patch file outside the
		// kustomization's directory is fine.
		"flux/patched/kustomization.yaml": "resources: [../../base]\npatches: [{path: ../../patches/replicas.yaml}]\n",
		"patches/replicas.yaml":           "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
	})
	tests := []struct {
		name string
		src  *Source
		want []string
	}{
		{"Argo CD kustomization", &Source{Operator: ArgoCD, Path: "overlays/prod"}, []string{
			"ConfigMap prod/cfg <- overlays/prod (kustomize)", "Deployment prod/web <- overlays/prod (kustomize)"}},
		{"Argo CD kustomize options", &Source{Operator: ArgoCD, Path: "overlays/prod", ArgoKustomize: &ArgoKustomize{
			NamePrefix: "p-", Namespace: "staging", Components: []string{"../../components/tls"},
			Images: []string{"nginx:1.27"}, CommonLabels: map[string]string{"team": "a"},
		}}, []string{
			"ConfigMap staging/p-cfg <- overlays/prod (kustomize)", "ConfigMap staging/p-tls <- overlays/prod (kustomize)",
			"Deployment staging/p-web <- overlays/prod (kustomize)"}},
		{"Flux generated kustomization", &Source{Operator: Flux, Kustomize: true, Path: "./flux/apps"}, []string{
			"ConfigMap /x <- flux/apps (kustomize)", "ConfigMap /y <- flux/apps (kustomize)", "Deployment /web <- flux/apps (kustomize)",
			"skipped flux/apps/readme.yaml: no Kubernetes object in it"}},
		{"Flux target namespace and common metadata", &Source{Operator: Flux, Kustomize: true, Path: "flux/apps",
			Overlay: &Overlay{Namespace: "prod", Labels: map[string]string{"team": "a"}}}, []string{
			"ConfigMap prod/x <- flux/apps (kustomize)", "ConfigMap prod/y <- flux/apps (kustomize)", "Deployment prod/web <- flux/apps (kustomize)",
			"skipped flux/apps/readme.yaml: no Kubernetes object in it"}},
		{"Flux, no load restrictions", &Source{Operator: Flux, Kustomize: true, Path: "flux/patched"}, []string{
			"ConfigMap /cfg <- flux/patched (kustomize)", "Deployment /web <- flux/patched (kustomize)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, rendered(t, tt.src, root)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("overlay content", func(t *testing.T) {
		set, err := Render(t.Context(), &Source{Operator: ArgoCD, Path: "overlays/prod", ArgoKustomize: &ArgoKustomize{
			Images: []string{"nginx:1.27"}, CommonLabels: map[string]string{"team": "a"},
		}}, root)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range set.Objects {
			if o.Obj.GetLabels()["team"] != "a" {
				t.Errorf("%s: no commonLabels", o.Obj.GetName())
			}
			if o.Obj.GetKind() == "Deployment" {
				img := o.Obj.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"]
				if img != "nginx:1.27" {
					t.Errorf("image %v", img)
				}
			}
		}
		set, err = Render(t.Context(), &Source{Operator: Flux, Kustomize: true, Path: "flux/apps", Overlay: &Overlay{
			Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"owner": "b"}}}, root)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range set.Objects {
			if o.Obj.GetLabels()["team"] != "a" || o.Obj.GetAnnotations()["owner"] != "b" {
				t.Errorf("%s: common metadata missing: %v %v", o.Obj.GetName(), o.Obj.GetLabels(), o.Obj.GetAnnotations())
			}
			if o.Obj.GetKind() == "Deployment" {
				tmpl := o.Obj.Object["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)
				if _, ok := tmpl["annotations"]; ok {
					t.Errorf("common metadata reached the pod template: %v", tmpl)
				}
			}
		}
	})
}

func TestRenderErrors(t *testing.T) {
	root := writeTree(t, map[string]string{
		"chart/Chart.yaml":               "name: x\n",
		"chart/values.yaml":              "a: 1\n",
		"plain/a.yaml":                   cm("a"),
		"bad/a.yaml":                     "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n",
		"escape/kustomization.yaml":      "configMapGenerator: [{name: x, files: [../../../../../../etc/hostname]}]\n",
		"argo-escape/kustomization.yaml": "resources: [../plain/a.yaml]\n",
	})
	tests := []struct {
		name   string
		src    *Source
		want   string
		wantIs error
	}{
		{"Helm chart", &Source{Operator: ArgoCD, Path: "chart"}, "chart is a Helm chart", ErrUnsupported},
		{"kustomize options without a kustomization", &Source{Operator: ArgoCD, Path: "plain", ArgoKustomize: &ArgoKustomize{NamePrefix: "x"}}, "has no kustomization file", nil},
		{"missing path", &Source{Operator: ArgoCD, Path: "nope"}, `path "nope" is not a directory`, nil},
		{"path leaving the checkout", &Source{Operator: ArgoCD, Path: "../x"}, "outside the checkout", nil},
		{"bad manifest names the file and line", &Source{Operator: ArgoCD, Path: "bad"}, "bad/a.yaml:3", nil},
		{"Flux builds never read outside the checkout", &Source{Operator: Flux, Kustomize: true, Path: "escape"}, "etc/hostname", nil},
		{"Argo CD builds are restricted to the kustomization", &Source{Operator: ArgoCD, Path: "argo-escape"}, "security", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(t.Context(), tt.src, root)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if strings.Contains(err.Error(), root) {
				t.Errorf("error names the temporary directory: %v", err)
			}
		})
	}
}

func TestCompileGlob(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		nomatch []string
	}{
		{"*.yaml", []string{"a.yaml", "sub/a.yaml"}, []string{"a.yml"}},
		{"{a,b}.yaml", []string{"a.yaml", "b.yaml"}, []string{"c.yaml"}},
		{"sub/?.yaml", []string{"sub/a.yaml"}, []string{"sub/ab.yaml"}},
		{"[ab]*", []string{"a.yaml", "b/c"}, []string{"c"}},
		{"[!a]*", []string{"b"}, []string{"a"}},
		{"a.b", []string{"a.b"}, []string{"axb"}},
	}
	for _, tt := range tests {
		re, err := compileGlob(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		for _, m := range tt.match {
			if !re.MatchString(m) {
				t.Errorf("%s does not match %s", tt.pattern, m)
			}
		}
		for _, m := range tt.nomatch {
			if re.MatchString(m) {
				t.Errorf("%s matches %s", tt.pattern, m)
			}
		}
	}
	for _, bad := range []string{"{a,b", "[ab"} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("%q compiles", bad)
		}
	}
}
