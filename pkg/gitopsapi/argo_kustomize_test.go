package gitopsapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/kustomize/v5/commands/edit"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// argoSourceKustomize is Argo CD's ApplicationSourceKustomize
// (pkg/apis/application/v1alpha1), the fields the repo-server's Build
// reads, with its JSON names.
type argoSourceKustomize struct {
	NamePrefix                string            `json:"namePrefix,omitempty"`
	NameSuffix                string            `json:"nameSuffix,omitempty"`
	Images                    []string          `json:"images,omitempty"`
	CommonLabels              map[string]string `json:"commonLabels,omitempty"`
	CommonAnnotations         map[string]string `json:"commonAnnotations,omitempty"`
	ForceCommonLabels         bool              `json:"forceCommonLabels,omitempty"`
	ForceCommonAnnotations    bool              `json:"forceCommonAnnotations,omitempty"`
	Namespace                 string            `json:"namespace,omitempty"`
	CommonAnnotationsEnvsubst bool              `json:"commonAnnotationsEnvsubst,omitempty"`
	Replicas                  []struct {
		Name  string             `json:"name"`
		Count intstr.IntOrString `json:"count"`
	} `json:"replicas,omitempty"`
	Patches                 []any    `json:"patches,omitempty"`
	Components              []string `json:"components,omitempty"`
	IgnoreMissingComponents bool     `json:"ignoreMissingComponents,omitempty"`
	LabelWithoutSelector    bool     `json:"labelWithoutSelector,omitempty"`
	LabelIncludeTemplates   bool     `json:"labelIncludeTemplates,omitempty"`
}

// argoBuildOracle is what Argo CD's repo-server does for a kustomize
// source (argo-cd util/kustomize/kustomize.go, Build), with the kustomize
// CLI's own edit commands (sigs.k8s.io/kustomize/kustomize/v5) run in
// process instead of the binary: in a copy of the checkout, each
// `kustomize edit` in the path's directory in Build's order, the patches
// appended to the file as Build appends them, then `kustomize build` of
// the path with the CLI's defaults. It returns the objects as YAML
// documents, sorted, or the error the repo-server would report.
func argoBuildOracle(t *testing.T, root, appPath, spec string, env map[string]string) ([]string, error) {
	t.Helper()
	var opts argoSourceKustomize
	if err := sigsyaml.UnmarshalStrict([]byte(spec), &opts); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	repo := t.TempDir()
	if err := os.CopyFS(repo, os.DirFS(root)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(repo, filepath.FromSlash(appPath))
	t.Chdir(dir)
	envsubst := func(s string) string {
		return os.Expand(s, func(n string) string {
			if n == "$" {
				return "$"
			}
			return env[n]
		})
	}
	pairs := func(m map[string]string) []string {
		var args []string
		for k, v := range m {
			args = append(args, k+":"+v)
		}
		return args
	}
	kustomize := func(args ...string) error {
		fs := filesys.MakeFsOnDisk()
		pvd := provider.NewDefaultDepProvider()
		cmd := edit.NewCmdEdit(fs, pvd.GetFieldValidator(), pvd.GetResourceFactory(), io.Discard)
		cmd.SetArgs(args[1:])
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		if err := cmd.Execute(); err != nil {
			return fmt.Errorf("kustomize %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	if opts.NamePrefix != "" {
		if err := kustomize("edit", "set", "nameprefix", "--", opts.NamePrefix); err != nil {
			return nil, err
		}
	}
	if opts.NameSuffix != "" {
		if err := kustomize("edit", "set", "namesuffix", "--", opts.NameSuffix); err != nil {
			return nil, err
		}
	}
	if len(opts.Images) > 0 {
		args := []string{"edit", "set", "image"}
		for _, image := range opts.Images {
			args = append(args, envsubst(image))
		}
		if err := kustomize(args...); err != nil {
			return nil, err
		}
	}
	if len(opts.Replicas) > 0 {
		args := []string{"edit", "set", "replicas"}
		for _, r := range opts.Replicas {
			count := r.Count.IntValue()
			if r.Count.Type == intstr.String {
				var err error
				if _, err = fmt.Sscan(r.Count.StrVal, &count); err != nil {
					return nil, fmt.Errorf("expected integer value for count. Received: %s", r.Count.StrVal)
				}
			}
			args = append(args, fmt.Sprintf("%s=%d", r.Name, count))
		}
		if err := kustomize(args...); err != nil {
			return nil, err
		}
	}
	if len(opts.CommonLabels) > 0 {
		args := []string{"edit", "add", "label"}
		if opts.ForceCommonLabels {
			args = append(args, "--force")
		}
		if opts.LabelWithoutSelector {
			args = append(args, "--without-selector")
		}
		if opts.LabelIncludeTemplates {
			args = append(args, "--include-templates")
		}
		labels := map[string]string{}
		for k, v := range opts.CommonLabels {
			labels[k] = envsubst(v)
		}
		if err := kustomize(append(args, pairs(labels)...)...); err != nil {
			return nil, err
		}
	}
	if len(opts.CommonAnnotations) > 0 {
		args := []string{"edit", "add", "annotation"}
		if opts.ForceCommonAnnotations {
			args = append(args, "--force")
		}
		ann := opts.CommonAnnotations
		if opts.CommonAnnotationsEnvsubst {
			ann = map[string]string{}
			for k, v := range opts.CommonAnnotations {
				ann[k] = envsubst(v)
			}
		}
		if err := kustomize(append(args, pairs(ann)...)...); err != nil {
			return nil, err
		}
	}
	if opts.Namespace != "" {
		if err := kustomize("edit", "set", "namespace", "--", opts.Namespace); err != nil {
			return nil, err
		}
	}
	if len(opts.Patches) > 0 {
		file := filepath.Join(dir, kustomizationIn(dir))
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var k map[string]any
		if err := sigsyaml.Unmarshal(b, &k); err != nil {
			return nil, err
		}
		if own, ok := k["patches"].([]any); ok {
			k["patches"] = append(own, opts.Patches...)
		} else {
			k["patches"] = opts.Patches
		}
		out, err := sigsyaml.Marshal(k)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			return nil, err
		}
	}
	if len(opts.Components) > 0 {
		found := opts.Components
		if opts.IgnoreMissingComponents {
			found = nil
			r, err := os.OpenRoot(repo)
			if err != nil {
				return nil, err
			}
			defer func() { _ = r.Close() }()
			for _, c := range opts.Components {
				rel, err := filepath.Rel(repo, filepath.Join(dir, c))
				if err != nil {
					return nil, err
				}
				if _, err := r.Stat(rel); err == nil {
					found = append(found, c)
				}
			}
		}
		if len(found) > 0 {
			if err := kustomize(append([]string{"edit", "add", "component"}, found...)...); err != nil {
				return nil, err
			}
		}
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, d := range strings.Split(string(out), "\n---\n") {
		var m map[string]any
		if err := sigsyaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		y, err := sigsyaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(y))
	}
	sort.Strings(docs)
	return docs, nil
}

// TestArgoKustomizeEditsAsArgoCD: an Argo CD Application's
// spec.source.kustomize renders exactly what Argo CD's repo-server renders
// — the kustomize CLI's edit commands run in the path's own kustomization,
// then the build — for each option, over kustomizations that already set
// what the option sets. The expected objects are not written by hand: they
// are the oracle's (argoBuildOracle). Before, the options were a
// kustomization on top of the build: two name prefixes, an image the file
// renames left alone, a component patch missing the names it targets, an
// existing label overwritten where Argo CD fails.
func TestArgoKustomizeEditsAsArgoCD(t *testing.T) {
	const web = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          envFrom: [{configMapRef: {name: settings}}]
        - name: sidecar
          image: busybox:1.36
`
	root := writeTree(t, map[string]string{
		"base/kustomization.yaml": "resources: [web.yaml, settings.yaml, svc.yaml]\n",
		"base/web.yaml":           web,
		"base/settings.yaml":      cm("settings", "data: {mode: base}\n"),
		"base/svc.yaml":           "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n",
		// An overlay as real repositories write them: its own prefix,
		// namespace, images, replicas, labels, annotations and a component.
		"apps/shop/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../base]
namePrefix: shop-
namespace: shop
commonLabels: {team: shop}
commonAnnotations: {owner: shop-team}
images:
  - {name: nginx, newName: registry.example.org/mirror/nginx, newTag: "1.26"}
  - {name: busybox, newTag: "1.37"}
replicas: [{name: web, count: 3}]
components: [../../components/probes]
patches:
  - target: {kind: ConfigMap, name: settings}
    patch: '[{"op": "replace", "path": "/data/mode", "value": "shop"}]'
`,
		"apps/plain/kustomization.yaml": "resources: [../../base]\n",
		"components/probes/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target: {kind: Deployment, name: web}
    patch: '[{"op": "add", "path": "/spec/template/spec/containers/0/readinessProbe", "value": {"httpGet": {"port": 80}}}]'
`,
		"components/scale/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target: {kind: Deployment, name: web}
    patch: '[{"op": "replace", "path": "/spec/replicas", "value": 9}]'
`,
		"components/tls/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [tls.yaml]\n",
		"components/tls/tls.yaml":           cm("tls", "data: {cert: none}\n"),
	})
	env := map[string]string{"ARGOCD_APP_NAME": "shop", "ARGOCD_APP_REVISION": "0123456789abcdef0123456789abcdef01234567"}
	tests := []struct {
		name, path, spec string
	}{
		{"namePrefix replaces the file's prefix", "apps/shop", "namePrefix: staging-\n"},
		{"namePrefix on a kustomization without one; references follow", "apps/plain", "namePrefix: staging-\n"},
		{"nameSuffix", "apps/shop", "nameSuffix: -v2\n"},
		{"an image the file renames: replaced whole", "apps/shop", "images: [nginx:1.27]\n"},
		{"an image keeping the file's new name", "apps/shop", "images: ['nginx=*:1.27']\n"},
		{"an image the file does not name", "apps/shop", "images: ['redis=ghcr.io/redis:7', 'busybox@sha256:" + strings.Repeat("ab", 32) + "']\n"},
		{"an image from the build environment", "apps/plain", "images: ['nginx=registry.example.org/shop:${ARGOCD_APP_REVISION}']\n"},
		{"replicas replace the file's entry", "apps/shop", "replicas: [{name: web, count: 5}]\n"},
		{"replicas as a string", "apps/plain", "replicas: [{name: web, count: '4'}]\n"},
		{"commonLabels", "apps/plain", "commonLabels: {tier: front, app-name: '${ARGOCD_APP_NAME}'}\n"},
		{"commonLabels: a key the file has fails", "apps/shop", "commonLabels: {team: payments}\n"},
		{"commonLabels: forced over the file's", "apps/shop", "commonLabels: {team: payments}\nforceCommonLabels: true\n"},
		{"commonLabels without selector", "apps/shop", "commonLabels: {team: payments, tier: front}\nlabelWithoutSelector: true\n"},
		{"commonLabels without selector, in templates", "apps/plain", "commonLabels: {tier: front}\nlabelWithoutSelector: true\nlabelIncludeTemplates: true\n"},
		{"commonAnnotations: a key the file has fails", "apps/shop", "commonAnnotations: {owner: someone}\n"},
		{"commonAnnotations: forced, not expanded", "apps/shop", "commonAnnotations: {owner: '${ARGOCD_APP_NAME}', note: x}\nforceCommonAnnotations: true\n"},
		{"commonAnnotations expanded", "apps/plain", "commonAnnotations: {rev: '$ARGOCD_APP_REVISION'}\ncommonAnnotationsEnvsubst: true\n"},
		{"namespace replaces the file's", "apps/shop", "namespace: shop-staging\n"},
		{"patches target the names before the prefix", "apps/shop", `patches:
  - target: {kind: Deployment, name: web}
    patch: '[{"op": "replace", "path": "/spec/replicas", "value": 1}]'
`},
		{"components after the file's, before its prefix", "apps/shop", "components: [../../components/scale, ../../components/tls]\n"},
		{"a component the file has is not added twice", "apps/shop", "components: [../../components/probes]\n"},
		{"a missing component fails", "apps/shop", "components: [../../components/nope]\n"},
		{"a missing component ignored", "apps/shop", "components: [../../components/nope, ../../components/tls]\nignoreMissingComponents: true\n"},
		{"everything at once", "apps/shop", `namePrefix: staging-
nameSuffix: -x
namespace: staging
images: ['nginx=*:1.27', 'busybox:1.38']
replicas: [{name: web, count: 1}]
commonLabels: {env: staging}
commonAnnotations: {ticket: OPS-1}
patches:
  - target: {kind: Service}
    patch: '[{"op": "add", "path": "/spec/type", "value": "NodePort"}]'
components: [../../components/tls]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := argoBuildOracle(t, root, tt.path, tt.spec, env)
			app := obj(t, fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: shop, namespace: argocd}
spec:
  source:
    repoURL: https://git.example.com/fleet.git
    path: %s
    kustomize:
%s
  destination: {server: https://kubernetes.default.svc, namespace: default}
`, tt.path, indent(tt.spec, "      ")))
			src := ArgoSource(app, argoDefaults)
			if src.Unsupported != "" {
				t.Fatalf("unsupported: %s", src.Unsupported)
			}
			src.SetRevisionEnv(env["ARGOCD_APP_REVISION"])
			set, err := Render(t.Context(), src, root)
			if wantErr != nil {
				if err == nil {
					t.Fatalf("rendered, where Argo CD fails: %v", wantErr)
				}
				t.Logf("Argo CD: %v\ndrift: %v", wantErr, err)
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			var got []string
			for _, o := range set.Objects {
				y, err := sigsyaml.Marshal(o.Obj.Object)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(y))
			}
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rendered (-Argo CD +drift):\n%s", diff)
			}
		})
	}
}

func indent(s, prefix string) string {
	var b bytes.Buffer
	for _, l := range strings.SplitAfter(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix + l)
	}
	return b.String()
}

// TestArgoKustomizeOracleFails keeps the oracle honest: it fails where the
// kustomize CLI does.
func TestArgoKustomizeOracleFails(t *testing.T) {
	root := writeTree(t, map[string]string{"app/kustomization.yaml": "commonLabels: {a: b}\nresources: [cm.yaml]\n", "app/cm.yaml": cm("x")})
	_, err := argoBuildOracle(t, root, "app", "commonLabels: {a: c}\n", nil)
	if err == nil || !strings.Contains(err.Error(), "already in kustomization file") {
		t.Errorf("oracle: %v, want kustomize's 'already in kustomization file'", err)
	}
	if errors.Is(err, os.ErrNotExist) {
		t.Error(err)
	}
}
