package repo

import (
	"bytes"
	"encoding/json"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolint"
	"github.com/kubectl-gitops/kubectl-gitops/test/sarifschema"
)

const helmCanary = "canary-s3cr3t-7f3a"

// helmLintRepo is a repository with a chart whose values have a schema
// (pkg/chartlint's testdata) and an Argo CD Application rendering it with
// a secret-like value that breaks the schema (the schema's pattern error
// quotes it) and that a template quotes in a fail message (helm lint only
// logs those).
func helmLintRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "charts", "web"), os.DirFS("../../pkg/chartlint/testdata/schema")); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"charts/web/templates/check.yaml": `{{- if .Values.db }}{{ fail (printf "bad password %s" .Values.db.password) }}{{ end }}` + "\n",
		"apps/qa/web.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-qa
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/example/repo.git
    targetRevision: main
    path: charts/web
    helm:
      valuesObject:
        db:
          password: ` + helmCanary + `
  destination:
    server: https://kubernetes.default.svc
    namespace: web
`,
		"apps/prod/web.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-prod
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/example/repo.git
    targetRevision: main
    path: charts/web
    helm:
      valuesObject:
        replicaCount: 0
        auth:
          password: ` + helmCanary + `
  destination:
    server: https://kubernetes.default.svc
    namespace: web
`,
	}
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLintHelmEveryOutput: the findings of helm lint on a chart of the
// repository with an environment's values are in every -o (text, json,
// sarif, markdown) at the value's file and line, with their rule and
// severity, and the secret-like value is in none of them, nor on stderr,
// nor in what the Helm SDK logs (a template's fail message in lint mode).
func TestLintHelmEveryOutput(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	dir := helmLintRepo(t)
	var logged bytes.Buffer
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)
	for _, o := range []string{"text", "json", "sarif", "markdown"} {
		r := runRepo(t, "", "lint", dir, "-o", o)
		if r.code != 1 {
			t.Errorf("-o %s: exit %d, want 1: %s", o, r.code, r)
		}
		for _, s := range []string{r.stdout, r.stderr} {
			if strings.Contains(s, helmCanary) {
				t.Errorf("-o %s repeats the secret value: %s", o, r)
			}
		}
		switch o {
		case "text":
			want := "apps/prod/web.yaml:16: error: chart charts/web with the values of Application argocd/web-prod (apps/prod/web.yaml): - at '/auth/password': '***' does not match pattern"
			if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "[helm-values]") || !strings.Contains(r.stdout, "[helm-template]") {
				t.Errorf("-o text lacks %q: %s", want, r)
			}
		case "json":
			var rep repolint.Report
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range rep.Findings {
				if f.Rule == "helm-values" && f.File == "apps/prod/web.yaml" && f.Line == 16 && f.Severity == repolint.SeverityError {
					found = true
				}
			}
			if !found {
				t.Errorf("-o json lacks the helm-values finding at apps/prod/web.yaml:16: %s", r.stdout)
			}
		case "sarif":
			sarifschema.Validate(t, []byte(r.stdout))
			if !strings.Contains(r.stdout, `"ruleId": "helm-values"`) || !strings.Contains(r.stdout, "apps/prod/web.yaml") {
				t.Errorf("-o sarif lacks the helm-values result: %s", r.stdout)
			}
		case "markdown":
			if !strings.Contains(r.stdout, "| error | apps/prod/web.yaml:16 | helm-values |") {
				t.Errorf("-o markdown lacks the helm-values row: %s", r.stdout)
			}
		}
	}
	if strings.Contains(logged.String(), helmCanary) {
		t.Errorf("the Helm SDK logged the secret value: %s", logged.String())
	}
}

// TestLintRepoOverride: --repo-override maps a HelmRepository's URL to a
// local directory, and the HelmRelease's values are checked against the
// chart found there; a malformed mapping is a usage error.
func TestLintRepoOverride(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	release := `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: stable
  namespace: flux-system
spec:
  url: https://charts.example.com/stable
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: flux-system
spec:
  chart:
    spec:
      chart: schema
      sourceRef:
        kind: HelmRepository
        name: stable
  values:
    image:
      pullPolicy: Sometimes
`
	if err := os.WriteFile(filepath.Join(dir, "web.yaml"), []byte(release), 0o644); err != nil {
		t.Fatal(err)
	}
	mirror := t.TempDir()
	if err := os.CopyFS(filepath.Join(mirror, "schema"), os.DirFS("../../pkg/chartlint/testdata/schema")); err != nil {
		t.Fatal(err)
	}
	r := runRepo(t, "", "lint", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "--repo-override https://charts.example.com/stable=DIR checks it") {
		t.Errorf("without --repo-override: %s", r)
	}
	r = runRepo(t, "", "lint", dir, "--repo-override", "https://charts.example.com/stable="+mirror)
	want := "web.yaml:23: error: HelmRelease flux-system/web: values against the schema of chart schema (https://charts.example.com/stable): values don't meet the specifications of the schema(s) in the following chart(s):\nschema:\n- at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never' [helm-values]\n"
	if r.code != 1 || r.stdout != want {
		t.Errorf("with --repo-override:\n%s\nwant stdout:\n%s", r, want)
	}
	r = runRepo(t, "", "lint", dir, "--repo-override", "https://charts.example.com/stable")
	if r.code != 2 || !strings.Contains(r.stderr, "invalid --repo-override") {
		t.Errorf("malformed --repo-override: %s", r)
	}
}
