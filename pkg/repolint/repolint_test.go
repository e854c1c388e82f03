package repolint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolayout"
)

// brief is a finding as the tests compare it.
func brief(f Finding) string {
	return fmt.Sprintf("%s %s %s", f.Location(), f.Severity, f.Rule)
}

func briefs(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, brief(f))
	}
	return out
}

func lint(t *testing.T, opts Options) *Report {
	t.Helper()
	rep, err := Lint(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Every mistake seeded in examples/broken-repo (its README lists them) is
// found at its file and line, and the two intended exceptions are not.
func TestBrokenRepo(t *testing.T) {
	rep := lint(t, Options{Root: "../../examples/broken-repo"})
	want := []string{
		".gitops/pipeline.yaml:11 error pipeline",
		"argocd/apps/dev/web.yaml:11 error missing-path",
		"argocd/apps/prod/kustomization.yaml:3 error missing-app",
		"base/web/deployment.yaml:6 error schema",
		"base/worker/deployment.yaml:17 error unpinned-image",
		"clusters/dev/apps.yaml:11 error missing-path",
		"clusters/dev/apps.yaml:14 warning unknown-dependency",
		"envs/dev/broken.yaml:6 error yaml",
		"envs/dev/web/secret.yaml:6 error plaintext-secret",
		"envs/prod/kustomization.yaml:4 error missing-app",
		"envs/staging/kustomization.yaml:8 error build",
		"envs/staging/web/kustomization.yaml:8 error unpinned-image",
	}
	if diff := cmp.Diff(want, briefs(rep.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if rep.Excluded != 3 {
		t.Errorf("excluded %d, want 3 (busybox by lint.yaml, debug by two lint:ignore comments)", rep.Excluded)
	}
	if rep.Errors() != 11 {
		t.Errorf("errors %d", rep.Errors())
	}
	msgs := map[string]string{}
	for _, f := range rep.Findings {
		msgs[brief(f)] = f.Message
		if strings.Contains(f.Message, "not-encrypted") {
			t.Errorf("a secret value in a message: %s", f.Message)
		}
		if strings.Contains(f.Message, "/work/") || strings.Contains(f.Message, string(filepath.Separator)+"examples") {
			t.Errorf("an absolute path in a message: %s", f.Message)
		}
	}
	for k, w := range map[string]string{
		"envs/prod/kustomization.yaml:4 error missing-app":           "envs/prod has no worker/, which dev, staging have",
		"argocd/apps/prod/kustomization.yaml:3 error missing-app":    "argocd/apps/prod has no Application worker",
		"base/web/deployment.yaml:6 error schema":                    `unknown field "spec.replica"`,
		"base/worker/deployment.yaml:17 error unpinned-image":        `image "ghcr.io/acme/worker:latest" of container worker in Deployment worker-dev/worker is tagged latest`,
		"envs/staging/kustomization.yaml:8 error build":              "../../base/cache",
		"argocd/apps/dev/web.yaml:11 error missing-path":             "envs/dev/wbe, which does not exist",
		"clusters/dev/apps.yaml:14 warning unknown-dependency":       "flux-system/infra",
		".gitops/pipeline.yaml:11 error pipeline":                    `environments[2].policy: must be auto or pull-request, not "manual"`,
		"envs/staging/web/kustomization.yaml:8 error unpinned-image": "newTag latest",
	} {
		if !strings.Contains(msgs[k], w) {
			t.Errorf("%s: message %q lacks %q", k, msgs[k], w)
		}
	}
}

// The example repository and fresh init output are clean.
func TestCleanRepos(t *testing.T) {
	dirs := map[string]string{"examples/gitops-repo": "../../examples/gitops-repo"}
	for _, op := range []repolayout.Operator{repolayout.OperatorArgoCD, repolayout.OperatorFlux} {
		for _, l := range []repolayout.Layout{repolayout.LayoutMono, repolayout.LayoutPerTeam} {
			for _, st := range []repolayout.EnvStrategy{repolayout.EnvDirs, repolayout.EnvBranches} {
				dirs[fmt.Sprintf("init %s %s %s", op, l, st)] = initRepo(t, repolayout.Spec{Operator: op, Layout: l, EnvStrategy: st})
			}
		}
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			rep := lint(t, Options{Root: dir})
			if p := problems(rep.Findings); len(p) > 0 {
				t.Errorf("findings:\n%s", strings.Join(messages(p), "\n"))
			}
			if rep.Kustomizations == 0 || rep.Objects == 0 {
				t.Errorf("nothing checked: %+v", rep)
			}
		})
	}
}

func messages(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Location()+": "+f.Message+" ["+f.Rule+"]")
	}
	return out
}

func initRepo(t *testing.T, s repolayout.Spec) string {
	t.Helper()
	files, err := repolayout.Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := repolayout.Write(dir, files, repolayout.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t *testing.T, dir, p, content string) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Mistakes made to init output, one at a time.
func TestInitOutputMistakes(t *testing.T) {
	tests := []struct {
		name   string
		spec   repolayout.Spec
		break_ func(t *testing.T, dir string)
		want   []string
	}{
		{"an application removed from prod (Argo CD)", repolayout.Spec{Operator: repolayout.OperatorArgoCD},
			func(t *testing.T, dir string) {
				for _, p := range []string{"envs/prod/web", "argocd/apps/prod/web.yaml"} {
					if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
						t.Fatal(err)
					}
				}
				writeFile(t, dir, "envs/prod/kustomization.yaml", "resources:\n  - api\n")
				writeFile(t, dir, "argocd/apps/prod/kustomization.yaml", "resources:\n  - ../../projects\n  - api.yaml\n  - infrastructure.yaml\n  - tenants.yaml\n")
			},
			[]string{
				".gitops/pipeline.yaml:17 error missing-app",
				"argocd/apps/prod/kustomization.yaml:1 error missing-app",
				"envs/prod/kustomization.yaml:1 error missing-app",
			}},
		{"an application removed from prod, on purpose", repolayout.Spec{Operator: repolayout.OperatorFlux},
			func(t *testing.T, dir string) {
				if err := os.RemoveAll(filepath.Join(dir, "envs/prod/web")); err != nil {
					t.Fatal(err)
				}
				writeFile(t, dir, "envs/prod/kustomization.yaml", "# lint:ignore missing-app web\nresources:\n  - api\n")
				writeFile(t, dir, ".gitops/lint.yaml", "exclude:\n  - rule: missing-app\n    env: prod\n    subject: web\n    reason: not in prod\n")
			},
			nil},
		{"a path typo, an unpinned image and a plaintext Secret (Flux)", repolayout.Spec{Operator: repolayout.OperatorFlux, Layout: repolayout.LayoutPerTeam},
			func(t *testing.T, dir string) {
				data, _ := os.ReadFile(filepath.Join(dir, "clusters/dev/apps.yaml"))
				writeFile(t, dir, "clusters/dev/apps.yaml", strings.Replace(string(data), "path: ./envs/dev/team-a", "path: ./envs/dev/team-x", 1))
				data, _ = os.ReadFile(filepath.Join(dir, "teams/team-b/api/base/deployment.yaml"))
				writeFile(t, dir, "teams/team-b/api/base/deployment.yaml", strings.Replace(string(data), "image: ghcr.io/example/api:0.1.0", "image: docker.io/library/redis", 1))
				writeFile(t, dir, "infrastructure/dev/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  token: c2VjcmV0\n")
			},
			[]string{
				"clusters/dev/apps.yaml:15 error missing-path",
				"infrastructure/dev/secret.yaml:6 error plaintext-secret",
				"teams/team-b/api/base/deployment.yaml:22 error unpinned-image",
			}},
		{"a SOPS Secret whose last-applied copy is in clear (Flux)", repolayout.Spec{Operator: repolayout.OperatorFlux},
			func(t *testing.T, dir string) {
				writeFile(t, dir, "infrastructure/dev/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n"+
					"    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"token\":\"c2VjcmV0\"},\"kind\":\"Secret\"}'\n"+
					"data:\n  token: ENC[AES256_GCM,data:abcd,iv:efgh,tag:ijkl,type:str]\n"+
					"sops:\n  mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n  encrypted_regex: ^(data|stringData)$\n  version: 3.13.3\n")
			},
			[]string{"infrastructure/dev/secret.yaml:6 error plaintext-secret"}},
		{"an unknown repository is not checked", repolayout.Spec{Operator: repolayout.OperatorArgoCD, RepoURL: "https://github.com/acme/platform.git"},
			func(t *testing.T, dir string) {
				data, _ := os.ReadFile(filepath.Join(dir, "argocd/apps/dev/web.yaml"))
				s := strings.Replace(string(data), "path: envs/dev/web", "path: deploy/web", 1)
				s = strings.Replace(s, "https://github.com/acme/platform.git", "https://github.com/acme/web.git", 1)
				writeFile(t, dir, "argocd/apps/dev/web.yaml", s)
			},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := initRepo(t, tt.spec)
			tt.break_(t, dir)
			rep := lint(t, Options{Root: dir})
			got := briefs(rep.Findings)
			if tt.want == nil {
				tt.want = []string{}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%s", diff, strings.Join(messages(rep.Findings), "\n"))
			}
		})
	}
}

func TestUnpinned(t *testing.T) {
	for img, want := range map[string]string{
		"nginx":                      "has no tag or digest",
		"nginx:latest":               "is tagged latest",
		"registry:5000/team/web":     "has no tag or digest",
		"registry:5000/team/web:1.2": "",
		"ghcr.io/a/b@sha256:" + strings.Repeat("a", 64): "",
		"ghcr.io/a/b:1.0@sha256:abc":                    "",
		"ghcr.io/a/b@":                                  "has an empty digest",
		"":                                              "is empty",
	} {
		if got := unpinned(img); got != want {
			t.Errorf("unpinned(%q) = %q, want %q", img, got, want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name, data string
		want       []string
	}{
		{"unknown field", "repoURL: x\n", []string{`.gitops/lint.yaml:1: unknown field "repoURL"`}},
		{"unknown rule", "exclude:\n  - rule: nope\n", []string{`.gitops/lint.yaml:2: exclude[0].rule: unknown rule "nope"`}},
		{"no rule", "exclude:\n  - subject: x\n", []string{".gitops/lint.yaml:2: exclude[0].rule: required"}},
		{"wrong kind", "kind: Pipeline\n", []string{"kind must be LintConfig"}},
		{"bad glob", "exclude:\n  - rule: build\n    path: '[x'\n", []string{"exclude[0].path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(ConfigFile, []byte(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	c, err := ParseConfig(ConfigFile, []byte("apiVersion: gitops.kubectl-gitops.dev/v1alpha1\nkind: LintConfig\nrepoURLs: [a]\nenvironments: [blue, green]\nexclude:\n  - rule: missing-app\n    path: 'envs/**'\n"))
	if err != nil || !slices.Equal(c.Environments, []string{"blue", "green"}) || c.Exclude[0].line != 6 {
		t.Errorf("valid config: %+v %v", c, err)
	}
}

func TestExclusionMatches(t *testing.T) {
	f := Finding{File: "envs/prod/kustomization.yaml", Rule: RuleMissingApp, Subject: "team-a/web", Env: "prod"}
	for _, tt := range []struct {
		e    Exclusion
		want bool
	}{
		{Exclusion{Rule: RuleMissingApp}, true},
		{Exclusion{Rule: RuleBuild}, false},
		{Exclusion{Rule: RuleMissingApp, Subject: "web"}, true},
		{Exclusion{Rule: RuleMissingApp, Subject: "team-a/web"}, true},
		{Exclusion{Rule: RuleMissingApp, Subject: "api"}, false},
		{Exclusion{Rule: RuleMissingApp, Env: "dev"}, false},
		{Exclusion{Rule: RuleMissingApp, Path: "envs/**"}, true},
		{Exclusion{Rule: RuleMissingApp, Path: "**/kustomization.yaml"}, true},
		{Exclusion{Rule: RuleMissingApp, Path: "envs/*"}, false},
	} {
		if got := tt.e.matches(f); got != tt.want {
			t.Errorf("%+v: %v, want %v", tt.e, got, tt.want)
		}
	}
}

// fakeDryRunner answers from a table: the pure logic of how dry-run
// results become findings (the real server is exercised in plugins/repo).
type fakeDryRunner struct {
	calls []string
}

func (f *fakeDryRunner) DryRun(_ context.Context, obj *unstructured.Unstructured) ([]string, error) {
	f.calls = append(f.calls, obj.GetKind()+"/"+obj.GetName())
	switch obj.GetName() {
	case "widget", "gadget":
		return nil, fmt.Errorf("%w: Widget.example.com", ErrKindNotServed)
	case "in-new-ns", "in-missing-ns":
		return nil, fmt.Errorf("%w: %s", ErrNamespaceNotFound, obj.GetNamespace())
	case "rejected":
		return nil, apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "rejected", field.ErrorList{field.Invalid(field.NewPath("data"), "x", "bad")})
	case "unreachable":
		return nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	case "warned":
		return []string{`unknown field "spec.colour"`, "v1 thing is deprecated"}, nil
	}
	return nil, nil
}

func TestDryRunFindings(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "crd.yaml", `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`)
	writeFile(t, dir, "objs.yaml", `apiVersion: example.com/v1
kind: Widget
metadata: {name: widget, namespace: new}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: gadget, namespace: new}
---
apiVersion: v1
kind: Namespace
metadata: {name: new}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: in-new-ns, namespace: new}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: in-missing-ns, namespace: gone}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: rejected, namespace: new}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: warned, namespace: new}
`)
	fake := &fakeDryRunner{}
	rep := lint(t, Options{Root: dir, DryRunner: fake})
	want := []string{
		"objs.yaml:1 warning dry-run-skipped",
		"objs.yaml:5 error dry-run",
		"objs.yaml:13 warning dry-run-skipped",
		"objs.yaml:17 error dry-run",
		"objs.yaml:21 error dry-run",
		"objs.yaml:25 warning dry-run",
		"objs.yaml:25 error schema",
	}
	if diff := cmp.Diff(want, briefs(rep.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%s", diff, strings.Join(messages(rep.Findings), "\n"))
	}
	// CRDs first, then Namespaces, then the rest in file order.
	if diff := cmp.Diff([]string{"CustomResourceDefinition/widgets.example.com", "Namespace/new", "Widget/widget", "Gadget/gadget",
		"ConfigMap/in-new-ns", "ConfigMap/in-missing-ns", "ConfigMap/rejected", "ConfigMap/warned"}, fake.calls); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if rep.DryRun != 8 {
		t.Errorf("dry run count %d", rep.DryRun)
	}

	// A server that does not answer fails the lint instead.
	writeFile(t, dir, "more.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unreachable, namespace: new}\n")
	_, err := Lint(context.Background(), Options{Root: dir, DryRunner: &fakeDryRunner{}})
	if err == nil || !strings.Contains(err.Error(), "dry run of ConfigMap new/unreachable: dial tcp") {
		t.Errorf("unreachable server: %v", err)
	}
}

// An object with generateName (an Argo CD or Helm hook) cannot be sent as a
// server-side apply: it is skipped with a warning that says why, and the
// other objects are still dry-run (the lint does not stop).
func TestDryRunGenerateName(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "objs.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: new}
---
apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
  namespace: new
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: "busybox:1.37"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: rejected, namespace: new}
`)
	fake := &fakeDryRunner{}
	rep := lint(t, Options{Root: dir, DryRunner: fake})
	want := []string{"objs.yaml:5 warning dry-run-skipped", "objs.yaml:17 error dry-run"}
	if diff := cmp.Diff(want, briefs(rep.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%s", diff, strings.Join(messages(rep.Findings), "\n"))
	}
	if len(rep.Findings) > 0 && !strings.Contains(rep.Findings[0].Message, `Job new/migrate-* not validated: it has generateName "migrate-"`) {
		t.Errorf("skip note: %q", rep.Findings[0].Message)
	}
	if diff := cmp.Diff([]string{"Namespace/new", "ConfigMap/rejected"}, fake.calls); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if rep.DryRun != 2 {
		t.Errorf("dryRun %d, want 2", rep.DryRun)
	}
}
