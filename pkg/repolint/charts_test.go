package repolint

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/test/chartrepo"
)

const canary = "canary-s3cr3t-7f3a"

// helmRepo writes a repository with a chart whose values have a schema
// (pkg/chartlint's testdata) and the environments that render it: Argo CD
// Applications with value files, valuesObject and parameters, and Flux
// HelmReleases of a GitRepository of this repository and of a chart
// repository.
func helmRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "charts", "web"), os.DirFS("../chartlint/testdata/schema")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "charts/web/values-prod.yaml", "image:\n  tag: \"2.0\"\nreplicaCount: two\n")
	writeFile(t, dir, "apps/prod/web.yaml", webApp("prod", `      valueFiles: [values-prod.yaml]
      valuesObject:
        auth:
          password: `+canary+`
`))
	writeFile(t, dir, "apps/staging/web.yaml", webApp("staging", "      valueFiles: [values-staging.yaml]\n"))
	writeFile(t, dir, "apps/qa/web.yaml", webApp("qa", `      parameters:
        - name: replicaCount
          value: "3"
`))
	writeFile(t, dir, "flux/dev/web.yaml", `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
  namespace: flux-system
spec:
  url: https://github.com/example/repo
  ref:
    branch: main
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: flux-system
spec:
  targetNamespace: web
  chart:
    spec:
      chart: ./charts/web
      sourceRef:
        kind: GitRepository
        name: repo
  values:
    image:
      pullPolicy: Sometimes
    db:
      token: `+canary+`-token
`)
	writeFile(t, dir, "flux/dev/podinfo.yaml", `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: flux-system
spec:
  chart:
    spec:
      chart: podinfo
      sourceRef:
        kind: HelmRepository
        name: podinfo
  values:
    replicaCount: 2
`)
	return dir
}

// webApp is an Argo CD Application named web-<env> rendering
// charts/web of this repository with the given spec.source.helm lines
// (indented six spaces); the helm lines start at line 13.
func webApp(env, helm string) string {
	return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-` + env + `
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/example/repo.git
    targetRevision: main
    path: charts/web
    helm:
` + helm + `  destination:
    server: https://kubernetes.default.svc
    namespace: web
`
}

// TestLintHelmCharts: a chart of the repository is linted as helm lint
// does with its own values (clean here) and with every environment's
// values: an Argo CD Application's value file breaking the chart's
// schema is reported at the value's line in that file (and its inline
// valuesObject at the Application's line), a HelmRelease's spec.values at
// its line; an Application whose values file is missing, and a
// HelmRelease whose chart comes from a chart repository, get a note that
// their values were not checked; an environment whose values are fine
// (parameters) adds nothing. The secret-like value the schema quotes
// (pattern) is masked in every message.
func TestLintHelmCharts(t *testing.T) {
	dir := helmRepo(t)
	rep := lint(t, Options{Root: dir, RepoURLs: []string{"https://github.com/example/repo"}})
	var got []string
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Rule, "helm-") {
			got = append(got, brief(f))
		}
		for _, s := range []string{f.Message, f.Subject} {
			if strings.Contains(s, canary) {
				t.Errorf("finding repeats a secret value: %s", s)
			}
		}
	}
	want := []string{
		"apps/prod/web.yaml:16 error helm-template",
		"apps/prod/web.yaml:16 error helm-values",
		"apps/staging/web.yaml:1 info helm-values-not-checked",
		"flux/dev/podinfo.yaml:1 info helm-values-not-checked",
		"flux/dev/web.yaml:26 error helm-template",
		"flux/dev/web.yaml:26 error helm-values",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("helm findings (-want +got):\n%s\nall:\n%s", diff, strings.Join(messages(rep.Findings), "\n"))
	}
	msgs := map[string]string{}
	for _, f := range rep.Findings {
		msgs[brief(f)] = f.Message
	}
	for k, w := range map[string][]string{
		"apps/prod/web.yaml:16 error helm-values":              {"chart charts/web with the values of Application argocd/web-prod (apps/prod/web.yaml)", "- at '/auth/password': '***' does not match pattern", "- at '/replicaCount': got string, want integer"},
		"flux/dev/web.yaml:26 error helm-values":               {"HelmRelease flux-system/web", "- at '/image/pullPolicy': value must be one of"},
		"apps/staging/web.yaml:1 info helm-values-not-checked": {"helm.valueFiles charts/web/values-staging.yaml", "no such file"},
		"flux/dev/podinfo.yaml:1 info helm-values-not-checked": {"podinfo comes from HelmRepository flux-system/podinfo"},
	} {
		for _, s := range w {
			if !strings.Contains(msgs[k], s) {
				t.Errorf("%s: message %q lacks %q", k, msgs[k], s)
			}
		}
	}

	// The chart broken: Chart.yaml and a template, found with the chart's
	// own values, at their files and lines.
	writeFile(t, dir, "charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\nicon: https://example.com/i.png\nsources: [\"not a url\"]\n")
	writeFile(t, dir, "charts/web/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ .Values.x | nosuchfunc }}\n")
	rep = lint(t, Options{Root: dir, RepoURLs: []string{"https://github.com/example/repo"}})
	got = nil
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.File, "charts/web/") {
			got = append(got, brief(f)+" "+f.Message)
		}
	}
	want = []string{
		"charts/web/Chart.yaml error helm-chart chart charts/web: invalid source URL 'not a url'",
		`charts/web/templates/cm.yaml:6 error helm-template chart charts/web: parse error at (web/templates/cm.yaml:6): function "nosuchfunc" not defined`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("broken chart (-want +got):\n%s", diff)
	}
}

// testCharts is a ChartFetcher of pkg/chartsource with --repo-override's
// mapping of repository URLs to local directories.
type testCharts struct {
	dirs map[string]string
	f    *chartsource.Fetcher
}

func (c *testCharts) Offline(url string) bool { return c.dirs[url] != "" }

func (c *testCharts) Fetch(ctx context.Context, ref chartsource.ChartRef) (string, string, error) {
	return c.f.Fetch(ctx, ref)
}

// TestLintHelmReleaseValuesAgainstFetchedChart: a HelmRelease whose chart
// comes from a HelmRepository mapped to a local directory (--repo-override)
// has its values checked against the chart's schema there, the violations
// at their lines in spec.values and the secret-like value the schema
// quotes masked; one from an OCIRepository that is not mapped gets a note
// naming the flag, and with no fetcher at all both get notes.
func TestLintHelmReleaseValuesAgainstFetchedChart(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "infra/sources.yaml", `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: stable
  namespace: flux-system
spec:
  url: https://charts.example.com/stable
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: web
  namespace: flux-system
spec:
  url: oci://registry.example.com/charts/web
  ref:
    tag: 1.0.0
`)
	writeFile(t, dir, "apps/web.yaml", `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: flux-system
spec:
  chart:
    spec:
      chart: schema
      version: 0.1.x
      sourceRef:
        kind: HelmRepository
        name: stable
  values:
    replicaCount: two
    auth:
      password: `+canary+`
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web-oci
  namespace: flux-system
spec:
  chartRef:
    kind: OCIRepository
    name: web
  values:
    replicaCount: 1
`)
	mirror := t.TempDir()
	if err := os.CopyFS(filepath.Join(mirror, "schema"), os.DirFS("../chartlint/testdata/schema")); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{"https://charts.example.com/stable": mirror}
	f, err := chartsource.New(chartsource.Options{CacheDir: t.TempDir(), Override: func(u string) string {
		if d := dirs[u]; d != "" {
			return d
		}
		return u
	}})
	if err != nil {
		t.Fatal(err)
	}
	rep := lint(t, Options{Root: dir, Charts: &testCharts{dirs: dirs, f: f}})
	got := messages(rep.Findings)
	want := []string{
		"apps/web.yaml:17: HelmRelease flux-system/web: values against the schema of chart schema (https://charts.example.com/stable): values don't meet the specifications of the schema(s) in the following chart(s):\nschema:\n- at '/auth/password': '***' does not match pattern '^[a-z]{3}$'\n- at '/replicaCount': got string, want integer [helm-values]",
		"apps/web.yaml:19: HelmRelease flux-system/web-oci: values not checked against the chart's schema: the chart comes from OCIRepository flux-system/web, not from this repository (not available offline: --repo-override oci://registry.example.com/charts/web=DIR checks it) [helm-values-not-checked]",
	}
	var helm []string
	for _, g := range got {
		if strings.Contains(g, "[helm-") {
			helm = append(helm, g)
		}
		if strings.Contains(g, canary) {
			t.Errorf("finding repeats a secret value: %s", g)
		}
	}
	if diff := cmp.Diff(want, helm); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	rep = lint(t, Options{Root: dir})
	var notes int
	for _, f := range rep.Findings {
		if f.Rule == RuleHelmNotChecked && strings.Contains(f.Message, "(not available offline") {
			notes++
		}
	}
	if notes != 2 {
		t.Errorf("without a fetcher: %d not-checked notes, want 2:\n%s", notes, strings.Join(messages(rep.Findings), "\n"))
	}
}

// TestLintHelmChartConfined: a chart of the repository is untrusted: one
// with a symbolic link leading out of the repository (Helm's loader would
// follow it into a template or .Files) or a values schema whose $ref is a
// file or URL outside it (the validator would read or fetch it) is not
// linted — an error says why, and nothing outside is read.
func TestLintHelmChartConfined(t *testing.T) {
	var hits atomic.Int32
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"type": "string"}`))
	}))
	t.Cleanup(web.Close)
	t.Cleanup(func() {
		if n := hits.Load(); n != 0 {
			t.Errorf("a schema's $ref'd URL was asked %d times", n)
		}
	})
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte(canary), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		edit func(t *testing.T, chart string)
		want string
	}{
		"symlink out": {func(t *testing.T, chart string) {
			if err := os.Symlink(outside, filepath.Join(chart, "templates", "leak.yaml")); err != nil {
				t.Fatal(err)
			}
		}, "templates/leak.yaml is a symbolic link that leads out of the repository"},
		"schema file ref": {func(t *testing.T, chart string) {
			writeFile(t, chart, "values.schema.json", `{"type": "object", "properties": {"a": {"$ref": "file://`+outside+`"}}}`)
		}, "values.schema.json has a $ref to file://"},
		"schema relative ref": {func(t *testing.T, chart string) {
			writeFile(t, chart, "values.schema.json", `{"type": "object", "properties": {"a": {"$ref": "defs.json#/x"}}}`)
		}, "values.schema.json has a $ref to defs.json#/x"},
		// helm lint validates the values of a subchart vendored as an
		// archive against its schema too.
		"a vendored archive's schema URL ref": {func(t *testing.T, chart string) {
			sub := t.TempDir()
			writeFile(t, sub, "Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n")
			writeFile(t, sub, "values.yaml", "a: 1\n")
			writeFile(t, sub, "values.schema.json", `{"type": "object", "properties": {"a": {"$ref": "`+web.URL+`/a.json"}}}`)
			if _, err := chartrepo.Package(sub, filepath.Join(chart, "charts"), ""); err != nil {
				t.Fatal(err)
			}
			writeFile(t, chart, "values.yaml", "sub: {a: 2}\n")
		}, "charts/sub-0.1.0.tgz: chart sub 0.1.0 not loaded: values.schema.json has a $ref to " + web.URL + "/a.json, outside the chart"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := helmRepo(t)
			tc.edit(t, filepath.Join(dir, "charts", "web"))
			rep := lint(t, Options{Root: dir, RepoURLs: []string{"https://github.com/example/repo"}})
			var got []string
			for _, f := range rep.Findings {
				if strings.HasPrefix(f.Rule, "helm-") && f.Rule != RuleHelmNotChecked && strings.HasPrefix(f.File, "charts/web/") {
					got = append(got, brief(f)+" "+f.Message)
				}
			}
			want := []string{"charts/web/Chart.yaml error helm-chart chart charts/web not linted: " + tc.want}
			if len(got) != 1 || !strings.HasPrefix(got[0], want[0]) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), want[0])
			}
		})
	}
	// A link inside the repository and $refs inside the schema are fine.
	dir := helmRepo(t)
	if err := os.Symlink("../values-prod.yaml", filepath.Join(dir, "charts", "web", "templates", "notes.txt")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "charts/web/values.schema.json", `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "$defs": {"n": {"type": "integer"}}, "properties": {"replicaCount": {"$ref": "#/$defs/n"}}}`)
	for _, f := range lint(t, Options{Root: dir}).Findings {
		if f.Rule == "helm-chart" && strings.Contains(f.Message, "not linted") {
			t.Errorf("confined chart not linted: %s", f.Message)
		}
	}
}

// TestLintHelmAppOfAppsPaths: the Applications a Helm app of apps renders
// with its Application's values are checked like written ones: one whose
// path does not exist is a missing-path finding at the template that
// renders it (no line: the rendered text's lines are not the
// template's).
func TestLintHelmAppOfAppsPaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/layouts/argocd-helm-app-of-apps")); err != nil {
		t.Fatal(err)
	}
	if p := problems(lint(t, Options{Root: dir}).Findings); len(p) > 0 {
		t.Errorf("findings:\n%s", strings.Join(messages(p), "\n"))
	}
	root := filepath.Join(dir, "bootstrap", "root.yaml")
	data, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "bootstrap/root.yaml", strings.Replace(string(data), "      valueFiles:\n        - values.yaml\n",
		"      valueFiles:\n        - values.yaml\n      valuesObject:\n        applications:\n          - name: billing\n            path: teams/billing\n            namespace: billing\n", 1))
	got := messages(problems(lint(t, Options{Root: dir}).Findings))
	want := []string{"apps/templates/applications.yaml: Application argocd/billing points at teams/billing, which does not exist in the repository [missing-path]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestLintArgoChartFromARepositoryIsNoted: an Argo CD Application whose
// chart comes from a Helm repository (or an OCI registry) is not fetched by
// repo lint; a note says its values were not checked, never a silent pass,
// and the repository URL (with its credentials) is not repeated.
func TestLintArgoChartFromARepositoryIsNoted(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"apps/redis.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: redis, namespace: argocd}
spec:
  project: default
  source:
    repoURL: https://user:canary-s3cr3t-7f3a@charts.example.com/stable
    chart: redis
    targetRevision: 18.1.0
    helm:
      valuesObject: {replicaCount: 2}
  destination: {server: https://kubernetes.default.svc, namespace: redis}
`,
	})
	rep := lint(t, Options{Root: dir})
	var notes []string
	for _, f := range rep.Findings {
		if strings.Contains(f.Message, "canary-s3cr3t-7f3a") {
			t.Errorf("a finding repeats the URL's password: %s", f.Message)
		}
		if f.Rule == RuleHelmNotChecked {
			notes = append(notes, fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Message))
		}
	}
	want := []string{"apps/redis.yaml:8: Application argocd/redis: values not checked against the schema of chart redis: it comes from a Helm repository or registry, which repo lint does not fetch for Argo CD Applications"}
	if diff := cmp.Diff(want, notes); diff != "" {
		t.Errorf("not-checked notes (-want +got):\n%s", diff)
	}
}

// TestLintHelmReleaseSourceNamespace: a HelmRelease's GitRepository is the
// one in the namespace Flux resolves: the sourceRef's, else the
// HelmRelease's own, written or set by kustomize; a GitRepository without
// a namespace matches only a HelmRelease without one. The chart's values
// are checked (a helm-values error) only when the source is found.
func TestLintHelmReleaseSourceNamespace(t *testing.T) {
	gitRepo := func(ns string) string {
		meta := ""
		if ns != "" {
			meta = "\n  namespace: " + ns
		}
		return "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: repo" + meta +
			"\nspec:\n  url: https://github.com/example/repo\n  ref:\n    branch: main\n"
	}
	release := func(ns, refNs string) string {
		meta, ref := "", ""
		if ns != "" {
			meta = "\n  namespace: " + ns
		}
		if refNs != "" {
			ref = "\n        namespace: " + refNs
		}
		return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web" + meta +
			"\nspec:\n  chart:\n    spec:\n      chart: ./charts/web\n      sourceRef:\n        kind: GitRepository\n        name: repo" + ref +
			"\n  values:\n    replicaCount: two\n"
	}
	kust := func(ns string) string {
		return "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + ns + "\nresources: [release.yaml]\n"
	}
	tests := []struct {
		name  string
		files map[string]string
		found bool
	}{
		{"same namespace written", map[string]string{"src/repo.yaml": gitRepo("flux-system"), "app/release.yaml": release("flux-system", "")}, true},
		{"sourceRef namespace", map[string]string{"src/repo.yaml": gitRepo("flux-system"), "app/release.yaml": release("apps", "flux-system")}, true},
		{"namespace from kustomize", map[string]string{"src/repo.yaml": gitRepo("flux-system"), "app/release.yaml": release("", ""), "app/kustomization.yaml": kust("flux-system")}, true},
		{"kustomize overrides the written one", map[string]string{"src/repo.yaml": gitRepo("flux-system"), "app/release.yaml": release("apps", ""), "app/kustomization.yaml": kust("flux-system")}, true},
		{"neither has a namespace", map[string]string{"src/repo.yaml": gitRepo(""), "app/release.yaml": release("", "")}, true},
		{"source in another namespace", map[string]string{"src/repo.yaml": gitRepo("other"), "app/release.yaml": release("flux-system", "")}, false},
		{"source without namespace, release with one", map[string]string{"src/repo.yaml": gitRepo(""), "app/release.yaml": release("flux-system", "")}, false},
		{"source without namespace, sourceRef with one", map[string]string{"src/repo.yaml": gitRepo(""), "app/release.yaml": release("", "flux-system")}, false},
		{"release without namespace, source with one", map[string]string{"src/repo.yaml": gitRepo("flux-system"), "app/release.yaml": release("", "")}, false},
		{"kustomize gives the release another namespace", map[string]string{"src/repo.yaml": gitRepo("flux-system"), "app/release.yaml": release("", ""), "app/kustomization.yaml": kust("apps")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(filepath.Join(dir, "charts", "web"), os.DirFS("../chartlint/testdata/schema")); err != nil {
				t.Fatal(err)
			}
			for p, c := range tt.files {
				writeFile(t, dir, p, c)
			}
			rep := lint(t, Options{Root: dir, RepoURLs: []string{"https://github.com/example/repo"}})
			checked, notFound := false, false
			for _, f := range rep.Findings {
				checked = checked || (f.File == "app/release.yaml" && f.Rule == "helm-values")
				notFound = notFound || (f.Rule == RuleHelmNotChecked && strings.Contains(f.Message, "is not in this repository"))
			}
			if checked != tt.found || notFound == tt.found {
				t.Errorf("values checked %v, source not found %v; want found %v; findings:\n%s", checked, notFound, tt.found, strings.Join(messages(rep.Findings), "\n"))
			}
		})
	}
}
