package promotion

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// mustParse parses a pipeline that must be valid.
func mustParse(t *testing.T, text string) *Pipeline {
	t.Helper()
	p, err := Parse("pipeline.yaml", []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// header is the start of every small pipeline in these tests.
const header = "apiVersion: gitops.kubectl-gitops.dev/v1alpha1\nkind: Pipeline\n"

func TestLoadExample(t *testing.T) {
	p, err := Load("testdata/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Pipeline{
		File:   "testdata/pipeline.yaml",
		Remote: "origin",
		Branch: "main",
		Forge:  Forge{Type: ForgeGitea, URL: "http://127.0.0.1:3000", TokenEnv: "GITEA_TOKEN", URLPos: Position{8, 8}, TokenEnvPos: Position{9, 13}},
		Environments: []*Environment{
			{Name: "dev", Path: "envs/dev", Context: "dev-cluster", Namespace: "web-dev", Policy: PolicyAuto, Pos: Position{11, 5}},
			{Name: "staging", From: "dev", Path: "envs/staging", Namespace: "web-staging", Policy: PolicyAuto, Soak: 10 * time.Minute, Pos: Position{16, 5}},
			{Name: "prod-eu", From: "staging", Path: "envs/prod-eu", Namespace: "web", Policy: PolicyPullRequest, RequiredChecks: []string{"ci/test"}, Pos: Position{21, 5}},
			{Name: "prod-us", From: "staging", Branch: "env/prod-us", Path: "clusters/us", Namespace: "web", Policy: PolicyPullRequest, Pos: Position{27, 5}},
		},
		Applications: []*Application{
			{
				Name: "web",
				Versions: []Location{
					{File: "kustomization.yaml", KustomizeImage: "ghcr.io/acme/web", Pos: Position{36, 9}},
					{File: "values.yaml", HelmValues: "image.tag", Pos: Position{38, 9}},
				},
				Health: Health{Workload: &Workload{Kind: "Deployment", Name: "web"}},
				Pos:    Position{34, 5},
			},
			{
				Name: "api",
				Versions: []Location{
					{File: "api/helmrelease.yaml", HelmReleaseChart: true, Pos: Position{44, 9}},
					{File: "api/application.yaml", ArgoTargetRevision: true, Pos: Position{46, 9}},
					{File: "api/deployment.yaml", Setter: "flux-system:api", Pos: Position{48, 9}},
				},
				Health: Health{FluxHelmRelease: &ObjectRef{Name: "api-{env}", Namespace: "{namespace}"}},
				Pos:    Position{42, 5},
			},
		},
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestParseDefaults(t *testing.T) {
	p := mustParse(t, header+`
environments:
  - {name: a, path: a}
  - {name: b, branch: env/b}
applications:
  - name: x
    versions: [{file: k.yaml, kustomizeImage: x}]
`)
	if p.Remote != DefaultRemote || p.Branch != "" || p.Forge != (Forge{}) {
		t.Errorf("remote %q, branch %q, forge %+v: want origin, \"\", zero", p.Remote, p.Branch, p.Forge)
	}
	b, _ := p.Env("b")
	if b.From != "a" || b.Path != "." || b.Policy != PolicyAuto || !b.BranchPerEnv() {
		t.Errorf("b = %+v: want from a, path ., policy auto, branch per env", *b)
	}
	if got := b.FilePath(Location{File: "k.yaml"}); got != "k.yaml" {
		t.Errorf("FilePath on a branch root = %q, want k.yaml", got)
	}
	if p.Applications[0].Health.Kind() != "" {
		t.Errorf("health kind = %q, want none", p.Applications[0].Health.Kind())
	}
}

func TestParseForgejo(t *testing.T) {
	p := mustParse(t, header+`
forge: {type: forgejo}
environments: [{name: a, path: a}]
applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}]}]
`)
	if p.Forge.Type != ForgeGitea || DefaultTokenEnv(p.Forge.Type) != "GITEA_TOKEN" {
		t.Errorf("forge %+v: want gitea with GITEA_TOKEN", p.Forge)
	}
}

// TestParseBroken checks a file with many mistakes: all are reported, in
// file order, each at its line and column.
func TestParseBroken(t *testing.T) {
	_, err := Load("testdata/broken.pipeline.yaml")
	if err == nil {
		t.Fatal("Load succeeded on a broken file")
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error is %T, want *ValidationError", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "apiVersion" {
		t.Errorf("errors.As(*FieldError) = %v, want the apiVersion error first", fe)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the error shows the URL's password:\n%v", err)
	}
	golden.CheckString(t, "testdata/broken.golden", err.Error()+"\n")
}

func TestParseErrors(t *testing.T) {
	const envs = "environments: [{name: a, path: a}]\n"
	const apps = "applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}]}]\n"
	tests := []struct {
		name, text string
		want       []string // every error line, without the file name
	}{
		{"empty file", "", []string{": the file is empty"}},
		{"comments only", "# nothing\n", []string{": the file is empty"}},
		{"syntax", header + "environments: [\n", []string{":3: invalid YAML: did not find expected node content"}},
		{"two documents", header + envs + apps + "---\nkind: Pipeline\n", []string{":5:1: only one YAML document is allowed"}},
		{"not a mapping", "- a\n", []string{":1:1: must be a mapping, not a list"}},
		{"missing everything", "remote: upstream\n", []string{
			":1:1: apiVersion: missing (want gitops.kubectl-gitops.dev/v1alpha1)",
			":1:1: kind: missing (want Pipeline)",
			":1:1: environments: missing (the stages versions move through)",
			":1:1: applications: missing (what moves, and where its version is written)",
		}},
		{"wrong kind", "apiVersion: gitops.kubectl-gitops.dev/v1alpha1\nkind: Pipelines\n" + envs + apps,
			[]string{":2:7: kind: must be Pipeline, not \"Pipelines\""}},
		{"field twice", header + "remote: a\nremote: b\n" + envs + apps, []string{":4:1: remote: given twice"}},
		{"unknown field far from all", header + "colour: red\n" + envs + apps, []string{
			":3:1: colour: unknown field (want one of apiVersion, kind, remote, branch, forge, environments, applications)"}},
		{"field case", header + "Environments: []\n" + envs + apps, []string{":3:1: Environments: unknown field (did you mean \"environments\"?)"}},
		{"bad remote", header + "remote: git@host:x\n" + envs + apps, []string{":3:9: remote: \"git@host:x\" is not a remote name (see git remote)"}},
		{"bad branch", header + "branch: refs/heads/main\n" + envs + apps, []string{":3:9: branch: \"refs/heads/main\": give the branch name without refs/heads/"}},
		{"branch with dots", header + "branch: a..b\n" + envs + apps, []string{":3:9: branch: \"a..b\": not a valid Git branch name"}},
		{"forge url scheme", header + "forge: {url: \"ssh://git@example.com\"}\n" + envs + apps, []string{":3:14: forge.url: must be an http:// or https:// URL"}},
		{"tokenEnv any variable", header + "forge: {tokenEnv: AWS_SECRET_ACCESS_KEY}\n" + envs + apps,
			[]string{":3:19: forge.tokenEnv: \"AWS_…\" is not a forge token variable: name one in capitals ending in _TOKEN (like GITEA_TOKEN), not a cloud or CI credential"}},
		{"tokenEnv a cloud token", header + "forge: {tokenEnv: AWS_SESSION_TOKEN}\n" + envs + apps,
			[]string{":3:19: forge.tokenEnv: \"AWS_…\" is not a forge token variable: name one in capitals ending in _TOKEN (like GITEA_TOKEN), not a cloud or CI credential"}},
		{"tokenEnv holding a token", header + "forge: {tokenEnv: ghp_canary_s3cr3t_7f3a}\n" + envs + apps,
			[]string{":3:19: forge.tokenEnv: \"ghp_…\" is not a forge token variable: name one in capitals ending in _TOKEN (like GITEA_TOKEN), not a cloud or CI credential"}},
		{"tokenEnv holding a token with dashes", header + "forge: {tokenEnv: glpat-canary-s3cr3t}\n" + envs + apps,
			[]string{":3:19: forge.tokenEnv: \"glpa…\" is not an environment variable name (the token itself never goes in this file)"}},
		{"forge not a mapping", header + "forge: github\n" + envs + apps, []string{":3:8: forge: must be a mapping, not \"github\""}},
		{"no environments", header + "environments: []\n" + apps, []string{":3:15: environments: must list at least one environment"}},
		{"environment not a mapping", header + "environments: [dev]\n" + apps, []string{":3:16: environments[0]: must be a mapping, not \"dev\""}},
		{"environment without name", header + "environments: [{path: a}]\n" + apps, []string{":3:16: environments[0]: missing name"}},
		{"from itself", header + "environments: [{name: a, path: a}, {name: b, path: b, from: b}]\n" + apps,
			[]string{":3:61: environments[1].from: an environment cannot promote from itself"}},
		{"first has from", header + "environments: [{name: a, path: a, from: b}, {name: b, path: b}]\n" + apps,
			[]string{":3:41: environments[0].from: the first environment has no source: versions enter the pipeline here"}},
		{"first has checks", header + "environments: [{name: a, path: a, requiredChecks: [ci]}]\n" + apps,
			[]string{":3:35: environments[0].requiredChecks: the first environment has no source commit to check"}},
		{"negative soak", header + "environments: [{name: a, path: a}, {name: b, path: b, soak: -1m}]\n" + apps,
			[]string{":3:61: environments[1].soak: must be positive, not \"-1m\""}},
		{"soak without unit", header + "environments: [{name: a, path: a}, {name: b, path: b, soak: 10}]\n" + apps,
			[]string{":3:61: environments[1].soak: must be a duration such as 10m or 1h30m, not \"10\""}},
		{"policy near miss", header + "environments: [{name: a, path: a, policy: pull_request}]\n" + apps,
			[]string{":3:43: environments[0].policy: must be auto or pull-request, not \"pull_request\" (did you mean \"pull-request\"?)"}},
		{"bad namespace", header + "environments: [{name: a, path: a, namespace: Web}]\n" + apps,
			[]string{":3:46: environments[0].namespace: \"Web\" is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"}},
		{"empty context", header + "environments: [{name: a, path: a, context: \"\"}]\n" + apps,
			[]string{":3:44: environments[0].context: must not be empty"}},
		{"context null", header + "environments: [{name: a, path: a, context: }]\n" + apps,
			[]string{":3:44: environments[0].context: must be a string, not empty"}},
		{"check twice", header + "environments: [{name: a, path: a}, {name: b, path: b, requiredChecks: [ci, ci]}]\n" + apps,
			[]string{":3:76: environments[1].requiredChecks[1]: \"ci\" is listed twice"}},
		{"path with backslash", header + "environments: [{name: a, path: 'envs\\a'}]\n" + apps,
			[]string{":3:32: environments[0].path: \"envs\\\\a\": use forward slashes"}},
		{"no applications", header + envs + "applications: []\n", []string{":4:15: applications: must list at least one application"}},
		{"application without versions", header + envs + "applications: [{name: x}]\n", []string{
			":4:16: applications[0]: missing versions (where the version is written in each environment)"}},
		{"location without file", header + envs + "applications: [{name: x, versions: [{kustomizeImage: x}]}]\n",
			[]string{":4:37: applications[0].versions[0]: missing file (relative to the environment's path)"}},
		{"file is a directory", header + envs + "applications: [{name: x, versions: [{file: charts/, kustomizeImage: x}]}]\n",
			[]string{":4:44: applications[0].versions[0].file: \"charts/\" must name a file"}},
		{"false is no kind", header + envs + "applications: [{name: x, versions: [{file: a.yaml, argoTargetRevision: false}]}]\n",
			[]string{":4:37: applications[0].versions[0]: needs one of kustomizeImage, helmValues, helmReleaseChart, ociRepository, helmChart, argoTargetRevision, setter"}},
		{"env placeholder in file", header + envs + "applications: [{name: x, versions: [{file: 'values-{env}.yaml', helmValues: image.tag}]}]\n", nil},
		{"env placeholder in a directory", header + envs + "applications: [{name: x, versions: [{file: 'overlays/{env}/kustomization.yaml', kustomizeImage: x}]}]\n", nil},
		{"unknown placeholder in file", header + envs + "applications: [{name: x, versions: [{file: 'values-{namespace}.yaml', helmValues: image.tag}]}]\n",
			[]string{":4:52: applications[0].versions[0].file: unknown placeholder {namespace} (a versions file may hold only {env}, the environment's name)"}},
		{"placeholder near miss in file", header + envs + "applications: [{name: x, versions: [{file: 'values-{ENV}.yaml', helmValues: image.tag}]}]\n",
			[]string{":4:52: applications[0].versions[0].file: unknown placeholder {ENV} (did you mean \"{env}\"?) (a versions file may hold only {env}, the environment's name)"}},
		{"unclosed placeholder in file", header + envs + "applications: [{name: x, versions: [{file: 'v/{env}/values-{env.yaml', helmValues: image.tag}]}]\n",
			[]string{":4:60: applications[0].versions[0].file: \"v/{env}/values-{env.yaml\" has an unclosed placeholder (a versions file may hold only {env})"}},
		{"placeholder outside file", header + envs + "applications: [{name: x, versions: [{file: v.yaml, helmValues: 'image.{env}.tag'}]}]\n",
			[]string{":4:64: applications[0].versions[0].helmValues: \"image.{env}.tag\": placeholders are expanded only in file (as values-{env}.yaml)"}},
		{"placeholder in environment path", header + "environments: [{name: a, path: 'envs/{env}'}]\n" + apps,
			[]string{":3:32: environments[0].path: \"envs/{env}\": an environment's path is its own and expands no placeholder (write it out)"}},
		{"shared path with {env} files", header + "environments: [{name: a, path: charts/web}, {name: b, path: charts/web}]\n" +
			"applications: [{name: x, versions: [{file: 'values-{env}.yaml', helmValues: image.tag}]}]\n", nil},
		{"shared path with one shared file", header + "environments: [{name: a, path: charts/web}, {name: b, path: charts/web}]\n" +
			"applications: [{name: x, versions: [{file: 'values-{env}.yaml', helmValues: image.tag}, {file: Chart.yaml, helmValues: appVersion}]}]\n",
			[]string{":3:61: environments[1].path: \"charts/web\" is already where environments[0] (a) lives (environments share a path only when every versions file holds {env})"}},
		{"oci repository", header + envs + "applications: [{name: x, versions: [{file: oci.yaml, ociRepository: true}, {file: chart.yaml, helmChart: true}]}]\n", nil},
		{"two helm kinds", header + envs + "applications: [{name: x, versions: [{file: oci.yaml, ociRepository: true, helmReleaseChart: true}]}]\n",
			[]string{":4:37: applications[0].versions[0]: give only one of kustomizeImage, helmValues, helmReleaseChart, ociRepository, helmChart, argoTargetRevision, setter (found ociRepository and helmReleaseChart)"}},
		{"digest in image", header + envs + "applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: 'x@sha256:00'}]}]\n",
			[]string{":4:68: applications[0].versions[0].kustomizeImage: \"x@sha256:00\" must be the image name without a tag or digest (the tag is the version)"}},
		{"registry port is no tag", header + envs + "applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: 'localhost:5000/x'}]}]\n", nil},
		{"helm values path", header + envs + "applications: [{name: x, versions: [{file: v.yaml, helmValues: image..tag}]}]\n",
			[]string{":4:64: applications[0].versions[0].helmValues: \"image..tag\" must be a dotted path such as image.tag"}},
		{"setter with marker", header + envs + "applications: [{name: x, versions: [{file: d.yaml, setter: 'flux-system:web:tag'}]}]\n",
			[]string{":4:60: applications[0].versions[0].setter: \"flux-system:web:tag\": give the image policy as namespace:name; its :tag markers are found from it"}},
		{"setter without namespace", header + envs + "applications: [{name: x, versions: [{file: d.yaml, setter: web}]}]\n",
			[]string{":4:60: applications[0].versions[0].setter: \"web\" must name a Flux image policy as namespace:name"}},
		{"location twice", header + envs + "applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}, {file: ./k.yaml, kustomizeImage: x}]}]\n",
			[]string{":4:72: applications[0].versions[1]: repeats versions[0]"}},
		{"workload kind", header + envs + "applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}], health: {workload: {kind: Pod, name: x}}}]\n",
			[]string{":4:99: applications[0].health.workload.kind: must be Deployment, StatefulSet or DaemonSet, not \"Pod\""}},
		{"workload without name", header + envs + "applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}], health: {workload: {kind: DaemonSet}}}]\n",
			[]string{":4:92: applications[0].health.workload: missing name"}},
		{"unclosed placeholder", header + envs + "applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}], health: {argocd: {name: 'x-{env'}}}]\n",
			[]string{":4:97: applications[0].health.argocd.name: \"x-{env\" has an unclosed placeholder (want {env} or {namespace})"}},
		{"placeholder near miss", header + envs + "applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}], health: {fluxKustomization: {name: 'x-{Env}'}}}]\n",
			[]string{":4:108: applications[0].health.fluxKustomization.name: unknown placeholder {Env} (did you mean \"{env}\"?) (want {env} or {namespace})"}},
		{"expanded name invalid", header + envs + "applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}], health: {argocd: {name: 'X_{env}'}}}]\n",
			[]string{":4:97: applications[0].health.argocd.name: \"X_{env}\" is not a valid name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"}},
		{"namespace placeholder with namespaces", header + "environments: [{name: a, path: a, namespace: ns}]\n" +
			"applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}], health: {argocd: {name: 'x-{namespace}'}}}]\n", nil},
		{"namespace placeholder, one env without", header + "environments: [{name: a, path: a, namespace: ns}, {name: b, path: b}]\n" +
			"applications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}], health: {argocd: {name: 'x-{namespace}'}}}]\n",
			[]string{":4:97: applications[0].health.argocd.name: uses {namespace}, but environment b sets no namespace"}},
		{"alias", header + "base: &p {name: a, path: a}\nenvironments: [*p]\n" + apps, []string{
			":3:1: base: unknown field (want one of apiVersion, kind, remote, branch, forge, environments, applications)"}},
		{"alias in list", header + "environments:\n  - &p {name: a, path: a}\n  - *p\n" + apps, []string{
			":4:15: environments[1].name: \"a\" is already the name of environments[0]",
			":4:24: environments[1].path: \"a\" is already where environments[0] (a) lives (environments share a path only when every versions file holds {env})",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("f.yaml", []byte(tt.text))
			var got []string
			if err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					got = append(got, strings.TrimPrefix(line, "f.yaml"))
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "pipeline.yaml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "reading pipeline: ") {
		t.Errorf("Load = %v, want a reading error wrapping ErrNotExist", err)
	}
}

func TestAccessors(t *testing.T) {
	p, err := Load("testdata/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := func(envs []*Environment) []string {
		var out []string
		for _, e := range envs {
			out = append(out, e.Name)
		}
		return out
	}
	if diff := cmp.Diff([]string{"dev", "staging", "prod-eu", "prod-us"}, p.Order()); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"web", "api"}, p.AppNames()); diff != "" {
		t.Errorf("AppNames (-want +got):\n%s", diff)
	}
	tests := []struct {
		env        string
		source     string
		downstream []string
		upstream   []string
	}{
		{env: "dev", downstream: []string{"staging"}},
		{env: "staging", source: "dev", downstream: []string{"prod-eu", "prod-us"}, upstream: []string{"dev"}},
		{env: "prod-eu", source: "staging", upstream: []string{"staging", "dev"}},
		{env: "prod-us", source: "staging", upstream: []string{"staging", "dev"}},
		{env: "nowhere"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			src, ok := p.Source(tt.env)
			if ok != (tt.source != "") || (ok && src.Name != tt.source) {
				t.Errorf("Source = %v, %v; want %q", src, ok, tt.source)
			}
			if diff := cmp.Diff(tt.downstream, names(p.Downstream(tt.env))); diff != "" {
				t.Errorf("Downstream (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.upstream, names(p.Upstream(tt.env))); diff != "" {
				t.Errorf("Upstream (-want +got):\n%s", diff)
			}
			e, ok := p.Env(tt.env)
			if ok != (tt.env != "nowhere") || (ok && e.Name != tt.env) {
				t.Errorf("Env = %v, %v", e, ok)
			}
		})
	}
	if _, ok := p.App("api"); !ok {
		t.Error("App(api) not found")
	}
	if _, ok := p.App("db"); ok {
		t.Error("App(db) found")
	}
	web, _ := p.App("web")
	us, _ := p.Env("prod-us")
	eu, _ := p.Env("prod-eu")
	if got := eu.FilePath(web.Versions[1]); got != "envs/prod-eu/values.yaml" {
		t.Errorf("FilePath = %q", got)
	}
	if got := us.FilePath(web.Versions[0]); got != "clusters/us/kustomization.yaml" {
		t.Errorf("FilePath on a branch env = %q", got)
	}
}

func TestHealthExpand(t *testing.T) {
	env := &Environment{Name: "staging", Namespace: "web-staging"}
	bare := &Environment{Name: "dev"}
	tests := []struct {
		name   string
		health Health
		env    *Environment
		want   Health
		str    string
	}{
		{"none", Health{}, env, Health{}, ""},
		{"workload takes the env namespace", Health{Workload: &Workload{Kind: "Deployment", Name: "web"}}, env,
			Health{Workload: &Workload{Kind: "Deployment", Name: "web", Namespace: "web-staging"}}, "Deployment/web-staging/web"},
		{"workload, env without namespace", Health{Workload: &Workload{Kind: "StatefulSet", Name: "db-{env}"}}, bare,
			Health{Workload: &Workload{Kind: "StatefulSet", Name: "db-dev"}}, "StatefulSet/db-dev"},
		{"workload namespace given", Health{Workload: &Workload{Kind: "DaemonSet", Name: "agent", Namespace: "{env}-system"}}, env,
			Health{Workload: &Workload{Kind: "DaemonSet", Name: "agent", Namespace: "staging-system"}}, "DaemonSet/staging-system/agent"},
		{"argocd default namespace", Health{ArgoCD: &ObjectRef{Name: "web-{env}"}}, env,
			Health{ArgoCD: &ObjectRef{Name: "web-staging", Namespace: "argocd"}}, "Application/argocd/web-staging"},
		{"flux kustomization default namespace", Health{FluxKustomization: &ObjectRef{Name: "web"}}, env,
			Health{FluxKustomization: &ObjectRef{Name: "web", Namespace: "flux-system"}}, "Kustomization/flux-system/web"},
		{"flux helmrelease in the env namespace", Health{FluxHelmRelease: &ObjectRef{Name: "web", Namespace: "{namespace}"}}, env,
			Health{FluxHelmRelease: &ObjectRef{Name: "web", Namespace: "web-staging"}}, "HelmRelease/web-staging/web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.health.String()
			got := tt.health.Expand(tt.env)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Expand (-want +got):\n%s", diff)
			}
			if got.String() != tt.str {
				t.Errorf("String = %q, want %q", got.String(), tt.str)
			}
			if tt.health.String() != orig {
				t.Errorf("Expand changed its receiver: %q, was %q", tt.health.String(), orig)
			}
		})
	}
}

func TestLocationString(t *testing.T) {
	tests := []struct {
		loc  Location
		kind LocationKind
		want string
	}{
		{Location{File: "k.yaml", KustomizeImage: "ghcr.io/acme/web"}, LocationKustomizeImage, "k.yaml (kustomizeImage ghcr.io/acme/web)"},
		{Location{File: "v.yaml", HelmValues: "image.tag"}, LocationHelmValues, "v.yaml (helmValues image.tag)"},
		{Location{File: "h.yaml", HelmReleaseChart: true}, LocationHelmReleaseChart, "h.yaml (helmReleaseChart)"},
		{Location{File: "a.yaml", ArgoTargetRevision: true}, LocationArgoTargetRevision, "a.yaml (argoTargetRevision)"},
		{Location{File: "d.yaml", Setter: "flux-system:web"}, LocationSetter, "d.yaml (setter flux-system:web)"},
		{Location{File: "x.yaml"}, "", "x.yaml"},
	}
	for _, tt := range tests {
		if tt.loc.Kind() != tt.kind || tt.loc.String() != tt.want {
			t.Errorf("%+v: kind %q, string %q; want %q, %q", tt.loc, tt.loc.Kind(), tt.loc.String(), tt.kind, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"name", "from", "path", "branch", "requiredChecks"}
	tests := []struct{ word, want string }{
		{"ptah", ` (did you mean "path"?)`},
		{"required_checks", ` (did you mean "requiredChecks"?)`},
		{"brnch", ` (did you mean "branch"?)`},
		{"zzz", ""},
		{"branches", ` (did you mean "branch"?)`},
		{"colour", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.word, known); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

// TestDocs keeps docs/promotion.md honest: its example parses and its
// sample errors are the ones Parse gives for testdata/broken.pipeline.yaml.
func TestDocs(t *testing.T) {
	data, err := os.ReadFile("../../docs/promotion.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	block := func(fence string) string {
		_, rest, ok := strings.Cut(doc, fence+"\n")
		if !ok {
			t.Fatalf("no %s block in docs/promotion.md", fence)
		}
		text, _, _ := strings.Cut(rest, "```\n")
		return text
	}
	if _, err := Parse("docs/promotion.md", []byte(block("```yaml"))); err != nil {
		t.Errorf("the example in docs/promotion.md: %v", err)
	}
	golden, err := os.ReadFile("testdata/broken.golden")
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(doc, "### Errors")
	doc = after
	for _, line := range strings.Split(strings.TrimSpace(block("```")), "\n") {
		line = strings.Replace(line, ".gitops/pipeline.yaml", "testdata/broken.pipeline.yaml", 1)
		if !strings.Contains(string(golden), line+"\n") {
			t.Errorf("docs/promotion.md shows an error Parse does not give:\n%s", line)
		}
	}
}

func TestRemoteURLNotEchoed(t *testing.T) {
	_, err := Parse("p.yaml", []byte("apiVersion: gitops.kubectl-gitops.dev/v1alpha1\nkind: Pipeline\nremote: https://bot:s3cr3t-token@git.example.com/org/repo.git\nenvironments:\n- name: dev\n  path: dev\napplications:\n- name: web\n  versions:\n  - file: v.yaml\n    helmValues: image.tag\n"))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "https://***@git.example.com/org/repo.git") {
		t.Fatalf("error: %v", err)
	}
}
