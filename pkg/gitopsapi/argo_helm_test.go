package gitopsapi

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func argoApp(t *testing.T, source string) *unstructured.Unstructured {
	t.Helper()
	doc := `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: apps}
spec:
  project: default
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  source:
` + source
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// TestArgoHelmTemplate: the helm template command line built from an
// Application's spec.source.helm as Argo CD v3.2's repo-server builds it
// (reposerver/repository helmTemplate, util/helm/cmd.go template): the
// release name and namespace defaults, value files relative to the path
// ("/x" to the repository's top), missing ones left out only when asked,
// valuesObject over values as the last --values, parameters as --set or
// --set-string with their commas escaped ({lists} not) and the build
// environment expanded, file parameters as --set-file, kube version
// normalised, CRDs unless skipCrds.
func TestArgoHelmTemplate(t *testing.T) {
	root := exampleApps(t)
	chart := filepath.Join(root, "helm-guestbook")
	abs := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	tests := []struct {
		name, source string
		values       string
		want         []string
	}{{
		name:   "defaults",
		source: "    {repoURL: r, path: helm-guestbook}\n",
		want:   []string{"template", chart, "--name-template", "guestbook", "--namespace", "shop", "--kube-version", "v1.37.2", "--api-versions", "policy/v1", "--include-crds"},
	}, {
		name: "every option",
		source: `    repoURL: r
    path: helm-guestbook
    helm:
      releaseName: gb
      namespace: other
      valueFiles: [values-production.yaml, /helm-guestbook/values.yaml, missing.yaml]
      ignoreMissingValueFiles: true
      values: "replicaCount: 9"
      valuesObject: {replicaCount: 4}
      parameters:
      - {name: image.tag, value: "v6"}
      - {name: config.greeting, value: "hi, $ARGOCD_APP_NAMESPACE"}
      - {name: config.tags, value: "{a,b}"}
      - {name: containerPort, value: "8080", forceString: true}
      fileParameters:
      - {name: config.motd, path: files/motd.txt}
      kubeVersion: v1.30.1
      apiVersions: [policy/v1/PodDisruptionBudget]
      skipCrds: true
      skipSchemaValidation: true
`,
		values: "replicaCount: 4\n",
		want: []string{"template", chart, "--name-template", "gb", "--namespace", "other", "--kube-version", "1.30.1",
			"--set", `config.greeting=hi\, shop`, "--set", "config.tags={a,b}", "--set", "image.tag=v6",
			"--set-string", "containerPort=8080", "--set-file", "config.motd=" + abs("helm-guestbook/files/motd.txt"),
			"--values", abs("helm-guestbook/values-production.yaml"), "--values", abs("helm-guestbook/values.yaml"), "--values", "VALUES",
			"--api-versions", "policy/v1/PodDisruptionBudget", "--skip-schema-validation"},
	}, {
		name:   "values string",
		source: "    {repoURL: r, path: helm-guestbook, helm: {values: \"replicaCount: 9\\n\", valueFiles: [missing.yaml]}}\n",
		values: "replicaCount: 9\n",
		want: []string{"template", chart, "--name-template", "guestbook", "--namespace", "shop", "--kube-version", "v1.37.2",
			"--values", abs("helm-guestbook/missing.yaml"), "--values", "VALUES", "--api-versions", "policy/v1", "--include-crds"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := ArgoSource(argoApp(t, tc.source), ArgoSettings{Namespace: "argocd"})
			if src.Skip() != "" {
				t.Fatalf("skipped: %s", src.Skip())
			}
			if !ArgoHelmChart(src, root) {
				t.Fatal("not a Helm chart source")
			}
			tpl, err := ArgoHelmTemplate(src, root)
			if err != nil {
				t.Fatal(err)
			}
			vf := ""
			if tpl.Values != nil {
				vf = "VALUES"
			}
			if diff := cmp.Diff(tc.want, tpl.Args(root, vf, "v1.37.2", []string{"policy/v1"})); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if string(tpl.Values) != tc.values {
				t.Errorf("values file %q, want %q", tpl.Values, tc.values)
			}
		})
	}
}

// TestArgoHelmTemplateRefused: value and file parameter paths leading out
// of the checkout (.., a symbolic link) or to its top are errors, in Argo
// CD's words; a value file with a URL scheme follows Argo CD's rule: a
// scheme outside helm.valuesFileSchemes (default https, http) is Argo CD's
// error, an allowed one is not supported (drift downloads nothing), its
// URL shown without its password.
func TestArgoHelmTemplateRefused(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "helm-guestbook"), os.DirFS(filepath.Join(exampleApps(t), "helm-guestbook"))); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "v.yaml"), []byte("a: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "v.yaml"), filepath.Join(root, "helm-guestbook", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ helm, want string }{
		{"{valueFiles: [../../etc/passwd]}", "file '../../etc/passwd' resolved to outside repository root"},
		{"{valueFiles: [/../x.yaml]}", "file '/../x.yaml' resolved to outside repository root"},
		{"{valueFiles: [/]}", "path resolved to repository root, which is not allowed"},
		{"{valueFiles: [link.yaml]}", "symbolic link to outside the repository"},
		{"{fileParameters: [{name: a, path: ../../x}]}", "resolved to outside repository root"},
		{"{valueFiles: [\"https://deploy:canary-s3cr3t-7f3a@example.com/v.yaml\"]}", `helm.valueFiles "https://example.com/v.yaml": remote value file https://example.com/v.yaml: drift does not download value files: not supported`},
		{"{valueFiles: [\"http://example.com/v.yaml\"]}", "remote value file http://example.com/v.yaml: drift does not download value files: not supported"},
		{"{valueFiles: [\"s3://bucket/v.yaml\"]}", "the URL scheme 's3' is not allowed"},
		{"{valueFiles: [\"file:///etc/passwd\"]}", "the URL scheme 'file' is not allowed"},
	} {
		src := ArgoSource(argoApp(t, "    {repoURL: r, path: helm-guestbook, helm: "+tc.helm+"}\n"), ArgoSettings{Namespace: "argocd"})
		_, err := ArgoHelmTemplate(src, root)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.helm, err, tc.want)
		}
		if strings.Contains(tc.want, "remote") != errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v: ErrUnsupported %v", tc.helm, err, errors.Is(err, ErrUnsupported))
		}
		if err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("%s: the URL's password leaked: %v", tc.helm, err)
		}
	}
	// argocd-cm helm.valuesFileSchemes replaces Argo CD's default.
	src := ArgoSource(argoApp(t, "    {repoURL: r, path: helm-guestbook, helm: {valueFiles: [\"https://example.com/v.yaml\"]}}\n"), ArgoSettings{Namespace: "argocd", ValuesFileSchemes: []string{"s3"}})
	if _, err := ArgoHelmTemplate(src, root); err == nil || !strings.Contains(err.Error(), "the URL scheme 'https' is not allowed") {
		t.Errorf("with helm.valuesFileSchemes s3: %v", err)
	}
	// A single source has no refs: Argo CD expands "$values" as a variable
	// of its build environment, which it is not ("").
	src = ArgoSource(argoApp(t, "    {repoURL: r, path: helm-guestbook, helm: {valueFiles: [$values/helm-guestbook/values.yaml]}}\n"), ArgoSettings{Namespace: "argocd"})
	if tpl, err := ArgoHelmTemplate(src, root); err != nil || len(tpl.ValueFiles) != 1 || tpl.ValueFiles[0] != (HelmFile{Path: "helm-guestbook/values.yaml"}) {
		t.Errorf("$values in a single source: %+v %v", tpl, err)
	}
}

// TestArgoHelmChart: Argo CD's discovery: a path with Chart.yaml and no
// kustomization is a chart; a kustomization wins; spec.source.helm makes
// any path a chart; a Flux source never is.
func TestArgoHelmChart(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"chart/Chart.yaml", "both/Chart.yaml", "both/kustomization.yaml", "plain/cm.yaml"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		src  *Source
		want bool
	}{
		{&Source{Operator: ArgoCD, Path: "chart"}, true},
		{&Source{Operator: ArgoCD, Path: "both"}, false},
		{&Source{Operator: ArgoCD, Path: "plain"}, false},
		{&Source{Operator: ArgoCD, Path: "plain", ArgoHelm: &ArgoHelm{}}, true},
		{&Source{Operator: Flux, Path: "chart"}, false},
	} {
		if got := ArgoHelmChart(tc.src, root); got != tc.want {
			t.Errorf("%s %s helm=%v: %v, want %v", tc.src.Operator, tc.src.Path, tc.src.ArgoHelm != nil, got, tc.want)
		}
	}
}

// TestArgoHelmSecretValues: the values drift masks in the Application
// (pkg/redact's rules) are the ones swept from the rendered objects: a
// parameter with a secret-like name, secret-like keys of values and
// valuesObject; not the others.
func TestArgoHelmSecretValues(t *testing.T) {
	src := ArgoSource(argoApp(t, `    repoURL: r
    path: helm-guestbook
    helm:
      parameters:
      - {name: auth.password, value: canary-s3cr3t-7f3a-param}
      - {name: image.tag, value: v6-not-secret}
      values: "db:\n  token: canary-s3cr3t-7f3a-values\n"
      valuesObject: {grafana: {adminPassword: canary-s3cr3t-7f3a-object, replicas: 3}}
`), ArgoSettings{Namespace: "argocd"})
	got := src.ArgoHelm.SecretValues
	for _, want := range []string{"canary-s3cr3t-7f3a-param", "canary-s3cr3t-7f3a-values", "canary-s3cr3t-7f3a-object"} {
		if !slices.Contains(got, want) {
			t.Errorf("secret values %q lack %q", got, want)
		}
	}
	if slices.Contains(got, "v6-not-secret") {
		t.Errorf("secret values %q hold a value that is not secret", got)
	}
}

// TestArgoChart: spec.source.chart's repository as Argo CD names it: an
// https chart repository, an OCI registry path without scheme (Argo CD's
// own spelling) or with oci://; value files of such a chart are the
// chart's own.
func TestArgoChart(t *testing.T) {
	for _, tc := range []struct{ repo, url, typ string }{
		{"https://charts.example.com", "https://charts.example.com", "default"},
		{"registry.example.com/charts/", "oci://registry.example.com/charts", "oci"},
		{"oci://ghcr.io/org/charts", "oci://ghcr.io/org/charts", "oci"},
	} {
		src := ArgoSource(argoApp(t, "    {repoURL: \""+tc.repo+"\", chart: redis, targetRevision: 1.x}\n"), ArgoSettings{Namespace: "argocd"})
		if src.Skip() != "" || src.ArgoChart == nil {
			t.Fatalf("%s: skip %q", tc.repo, src.Skip())
		}
		if want := (ArgoChart{URL: tc.url, Type: tc.typ, Chart: "redis", Version: "1.x"}); *src.ArgoChart != want {
			t.Errorf("%s: %+v, want %+v", tc.repo, *src.ArgoChart, want)
		}
	}
	// Value files of such a chart are its own (Argo CD's application path
	// and repository root are the chart), found in its archive later:
	// nothing is looked up on this machine's file system, and the paths are
	// checked as any others.
	src := ArgoSource(argoApp(t, "    {repoURL: r, chart: redis, targetRevision: 1.0.0, helm: {ignoreMissingValueFiles: true, valueFiles: [values-prod.yaml, /ci/x.yaml, missing.yaml], fileParameters: [{name: a, path: files/a.txt}]}}\n"), ArgoSettings{Namespace: "argocd"})
	if src.Skip() != "" {
		t.Fatalf("skip %q", src.Skip())
	}
	tpl, err := ArgoHelmTemplate(src, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []HelmFile{{Path: "values-prod.yaml"}, {Path: "ci/x.yaml"}, {Path: "missing.yaml"}}
	if diff := cmp.Diff(want, tpl.ValueFiles); diff != "" || !tpl.InChart(tpl.ValueFiles[0]) || !tpl.IgnoreMissingValueFiles || tpl.SetFile["a"] != "files/a.txt" {
		t.Errorf("value files (-want +got):\n%s\n%+v", diff, tpl)
	}
	for f, want := range map[string]string{"../x.yaml": "file '../x.yaml' resolved to outside repository root", "/": "path resolved to repository root"} {
		src := ArgoSource(argoApp(t, "    {repoURL: r, chart: redis, targetRevision: 1.0.0, helm: {valueFiles: [\""+f+"\"]}}\n"), ArgoSettings{Namespace: "argocd"})
		if _, err := ArgoHelmTemplate(src, ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", f, err, want)
		}
	}
}

// TestArgoHelmTemplateRefFiles: in a multi-source application, value files
// and file parameters "$<ref>/…" are read from the ref source's checkout,
// from its top, as Argo CD's getResolvedRefValueFile reads them: missing
// ones left out only with ignoreMissingValueFiles, ordered among the
// source's own; a path leading out of the ref's checkout (.., a symbolic
// link), or to its top, is refused with Argo CD's words; a ref no source
// has, or a ref to a chart, is Argo CD's error.
func TestArgoHelmTemplateRefFiles(t *testing.T) {
	root := exampleApps(t)
	values := t.TempDir()
	outside := t.TempDir()
	for name, data := range map[string]string{"envs/prod/values.yaml": "replicaCount: 3\n", "motd.txt": "hi\n"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(values, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(values, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "v.yaml"), []byte("a: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "v.yaml"), filepath.Join(values, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	app := func(helm, refSource string) *Source {
		t.Helper()
		u := obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  sources:
  - {repoURL: "https://git.example.com/apps.git", path: helm-guestbook, helm: `+helm+`}
  - `+refSource+`
`)
		s := ArgoSource(u, ArgoSettings{Namespace: "argocd"})
		if s.Skip() != "" {
			t.Fatalf("skipped: %s", s.Skip())
		}
		p := *s.Parts[0]
		p.RefRoots = map[string]string{"$values": values}
		return &p
	}
	const ref = `{repoURL: "https://git.example.com/values.git", targetRevision: v2, ref: values}`

	src := app(`{ignoreMissingValueFiles: true, valueFiles: [values-production.yaml, $values/envs/prod/values.yaml, $values/missing.yaml, "$values/envs/$ARGOCD_APP_NAMESPACE/../prod/values.yaml"], fileParameters: [{name: config.motd, path: $values/motd.txt}]}`, ref)
	tpl, err := ArgoHelmTemplate(src, root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"template", filepath.Join(root, "helm-guestbook"), "--name-template", "guestbook", "--namespace", "shop", "--kube-version", "v1.37.2",
		"--set-file", "config.motd=" + filepath.Join(values, "motd.txt"),
		"--values", filepath.Join(root, "helm-guestbook", "values-production.yaml"),
		"--values", filepath.Join(values, "envs", "prod", "values.yaml"),
		"--values", filepath.Join(values, "envs", "prod", "values.yaml"),
		"--include-crds"}
	if diff := cmp.Diff(want, tpl.Args(root, "", "v1.37.2", nil)); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	// Without ignoreMissingValueFiles a missing file stays: reading it fails.
	tpl, err = ArgoHelmTemplate(app(`{valueFiles: [$values/missing.yaml]}`, ref), root)
	if err != nil || len(tpl.ValueFiles) != 1 || tpl.ValueFiles[0].String() != "$values/missing.yaml" {
		t.Errorf("missing file: %+v %v", tpl, err)
	}

	for _, tc := range []struct{ helm, ref, want string }{
		{`{valueFiles: [$values/../x.yaml]}`, ref, `helm.valueFiles "$values/../x.yaml": file '/../x.yaml' resolved to outside repository root`},
		{`{valueFiles: [$values/envs/../../../x.yaml]}`, ref, `file '/envs/../../../x.yaml' resolved to outside repository root`},
		{`{fileParameters: [{name: a, path: $values/../../etc/passwd}]}`, ref, `helm.fileParameters a: file '/../../etc/passwd' resolved to outside repository root`},
		{`{valueFiles: [$values]}`, ref, "path resolved to repository root, which is not allowed"},
		{`{valueFiles: [$values/]}`, ref, "path resolved to repository root, which is not allowed"},
		{`{valueFiles: [$values/link.yaml]}`, ref, "a symbolic link to outside the repository"},
		{`{valueFiles: [$other/v.yaml]}`, ref, `source referenced "$other", which is not one of the available sources ($values)`},
		{`{valueFiles: [$values/v.yaml]}`, `{repoURL: "https://git.example.com/other.git", path: x}`, `source referenced "$values", but no source has a 'ref' field defined`},
		{`{valueFiles: [$values/v.yaml]}`, `{repoURL: "https://charts.example.com", chart: redis, targetRevision: 1.0.0, ref: values}`, "source has a 'chart' field defined, but Helm charts are not yet not supported for 'ref' sources"},
	} {
		_, err := ArgoHelmTemplate(app(tc.helm, tc.ref), root)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.helm, err, tc.want)
		}
	}
}
