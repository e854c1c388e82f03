package repolayout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/sopsfile"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// specs are every operator × layout × environment strategy.
func specs() []Spec {
	var out []Spec
	for _, op := range []Operator{OperatorArgoCD, OperatorFlux} {
		for _, l := range []Layout{LayoutMono, LayoutPerTeam} {
			for _, st := range []EnvStrategy{EnvDirs, EnvBranches} {
				out = append(out, Spec{Operator: op, Layout: l, EnvStrategy: st})
			}
		}
	}
	return out
}

func name(s Spec) string { return fmt.Sprintf("%s-%s-%s", s.Operator, s.Layout, s.EnvStrategy) }

func fileMap(files []File) map[string][]byte {
	m := map[string][]byte{}
	for _, f := range files {
		m[f.Path] = f.Data
	}
	return m
}

func writeTree(t *testing.T, files []File) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Write(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Every combination generates files the other tools read: a valid
// pipeline with the environments and applications, a .sops.yaml rule for
// Secrets, a drift ignore file, a tenants kustomization the tenant command
// can edit; and every kustomization builds.
func TestGenerateIsConsumable(t *testing.T) {
	for _, s := range specs() {
		t.Run(name(s), func(t *testing.T) {
			t.Parallel()
			files, err := Generate(s)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Generate(s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(files, again); diff != "" {
				t.Fatalf("not deterministic (-first +second):\n%s", diff)
			}
			m := fileMap(files)
			for _, want := range []string{"README.md", PipelineFile, DriftIgnoreFile, LintConfigFile, SopsConfigFile, "tenants/kustomization.yaml"} {
				if m[want] == nil {
					t.Errorf("no %s", want)
				}
			}

			p, err := promotion.Parse(PipelineFile, m[PipelineFile])
			if err != nil {
				t.Fatalf("pipeline: %v", err)
			}
			var envs []string
			for _, e := range p.Environments {
				envs = append(envs, e.Name)
				if wantBranch := s.EnvStrategy == EnvBranches; e.BranchPerEnv() != wantBranch || (wantBranch && e.Branch != "env/"+e.Name) {
					t.Errorf("environment %s: branch %q", e.Name, e.Branch)
				}
				for _, a := range p.Applications {
					// Each versions file exists in each environment.
					f := path.Join(e.Path, a.Versions[0].File)
					if m[f] == nil {
						t.Errorf("pipeline: %s of %s in %s is not generated", f, a.Name, e.Name)
					}
				}
			}
			if diff := cmp.Diff(DefaultEnvs, envs); diff != "" {
				t.Errorf("environments (-want +got):\n%s", diff)
			}
			if last := p.Environments[len(p.Environments)-1]; last.Policy != promotion.PolicyPullRequest {
				t.Errorf("last environment's policy %q", last.Policy)
			}

			cfg, err := sopsfile.ParseConfig(m[SopsConfigFile])
			if err != nil {
				t.Fatalf(".sops.yaml: %v", err)
			}
			rule, err := cfg.RuleFor("envs/dev/web/secret.yaml")
			if err != nil || rule == nil {
				t.Fatalf(".sops.yaml: no rule for a Secret under envs/: %v", err)
			}
			if rule.Rule.EncryptedRegex != "^(data|stringData)$" || !slices.Equal(rule.Age, []string{AgeRecipientHint}) {
				t.Errorf(".sops.yaml rule %+v", rule)
			}
			if r, _ := cfg.RuleFor("apps/web/base/deployment.yaml"); r != nil {
				t.Errorf(".sops.yaml: bases should not match a rule: %+v", r)
			}

			if _, err := ignore.Parse(m[DriftIgnoreFile], DriftIgnoreFile); err != nil {
				t.Errorf("drift ignore file: %v", err)
			}
			edited, err := tenancy.EditResources(m["tenants/kustomization.yaml"], []string{"team-x"}, nil)
			if err != nil || !bytes.Contains(edited, []byte("- team-x")) {
				t.Errorf("tenants kustomization not editable by tenant create: %v\n%s", err, edited)
			}

			dir := writeTree(t, files)
			built := 0
			for _, f := range files {
				if path.Base(f.Path) != "kustomization.yaml" {
					continue
				}
				kdir := filepath.Join(dir, filepath.FromSlash(path.Dir(f.Path)))
				if _, err := manifest.Load(context.Background(), manifest.Options{Kustomize: kdir}); err != nil {
					t.Errorf("kustomize build %s: %v", path.Dir(f.Path), err)
				}
				built++
			}
			if built < 10 {
				t.Errorf("only %d kustomizations", built)
			}
		})
	}
}

// The generated trees, file by file (go test ./pkg/repolayout -update).
func TestGenerateGolden(t *testing.T) {
	for _, s := range []Spec{
		{Operator: OperatorArgoCD, Layout: LayoutMono, EnvStrategy: EnvDirs},
		{Operator: OperatorFlux, Layout: LayoutPerTeam, EnvStrategy: EnvBranches,
			AgeRecipient: "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"},
	} {
		t.Run(name(s), func(t *testing.T) {
			files, err := Generate(s)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			for _, f := range files {
				fmt.Fprintf(&b, "=== %s\n%s", f.Path, f.Data)
			}
			golden.Check(t, filepath.Join("testdata", name(s)+".golden"), b.Bytes())
		})
	}
}

func TestGenerateLayouts(t *testing.T) {
	tests := []struct {
		spec      Spec
		want      []string
		wantNot   []string
		contains  map[string]string
		fileCount int
	}{
		{spec: Spec{Operator: OperatorArgoCD, Envs: []string{"dev", "prod"}, Apps: []App{{Name: "shop"}}},
			want: []string{"argocd/bootstrap/dev/root.yaml", "argocd/apps/prod/shop.yaml", "argocd/projects/apps.yaml",
				"apps/shop/base/deployment.yaml", "envs/prod/shop/kustomization.yaml", "infrastructure/prod/namespaces.yaml"},
			wantNot: []string{"clusters/dev/apps.yaml", "argocd/apps/staging/shop.yaml"},
			contains: map[string]string{
				"argocd/apps/prod/shop.yaml":          "path: envs/prod/shop",
				"argocd/bootstrap/dev/root.yaml":      "path: argocd/apps/dev",
				"infrastructure/prod/namespaces.yaml": "name: shop-prod",
				"argocd/projects/apps.yaml":           "namespace: shop-dev",
			}},
		{spec: Spec{Operator: OperatorArgoCD, Layout: LayoutPerTeam, EnvStrategy: EnvBranches, Apps: []App{{Team: "t1", Name: "a"}, {Team: "t1", Name: "b"}}},
			want: []string{"argocd/projects/t1.yaml", "teams/t1/a/base/service.yaml", "envs/dev/t1/b/kustomization.yaml", "envs/dev/t1/kustomization.yaml"},
			contains: map[string]string{
				"argocd/apps/staging/a.yaml":       "targetRevision: env/staging",
				"argocd/apps/staging/tenants.yaml": "targetRevision: main",
				"envs/dev/t1/kustomization.yaml":   "  - a\n  - b\n",
				"argocd/projects/t1.yaml":          "namespace: t1-prod",
				".gitops/pipeline.yaml":            "file: t1/b/kustomization.yaml",
			}},
		{spec: Spec{Operator: OperatorFlux, Registry: "registry.acme.io/team", RepoURL: "ssh://git@git.acme.io/acme/gitops.git"},
			want:    []string{"clusters/dev/sources.yaml", "clusters/prod/apps.yaml"},
			wantNot: []string{"argocd/projects/apps.yaml", "clusters/dev/kustomization.yaml"},
			contains: map[string]string{
				"clusters/prod/apps.yaml":             "path: ./envs/prod",
				"clusters/dev/sources.yaml":           "url: ssh://git@git.acme.io/acme/gitops.git",
				"envs/dev/web/kustomization.yaml":     "name: registry.acme.io/team/web",
				"apps/api/base/deployment.yaml":       "image: registry.acme.io/team/api:0.1.0",
				".gitops/lint.yaml":                   "- ssh://git@git.acme.io/acme/gitops.git",
				"clusters/staging/tenants.yaml":       "dependsOn:\n    - name: infrastructure",
				".gitops/pipeline.yaml":               `workload: {kind: Deployment, name: web, namespace: "web-{env}"}`,
				"envs/staging/web/kustomization.yaml": "`kubectl gitops promote web --to staging` edits newTag",
			}},
	}
	for _, tt := range tests {
		t.Run(name(tt.spec), func(t *testing.T) {
			files, err := Generate(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			m := fileMap(files)
			for _, w := range tt.want {
				if m[w] == nil {
					t.Errorf("no %s", w)
				}
			}
			for _, w := range tt.wantNot {
				if m[w] != nil {
					t.Errorf("unexpected %s", w)
				}
			}
			for f, w := range tt.contains {
				if !bytes.Contains(m[f], []byte(w)) {
					t.Errorf("%s lacks %q:\n%s", f, w, m[f])
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want []string
	}{
		{"no operator", Spec{}, []string{"operator: required"}},
		{"bad operator", Spec{Operator: "argo"}, []string{`operator: must be argocd or flux, not "argo"`}},
		{"bad layout and strategy", Spec{Operator: OperatorFlux, Layout: "teams", EnvStrategy: "tags"},
			[]string{`layout: must be mono or per-team`, `env-strategy: must be dirs or branches`}},
		{"bad env", Spec{Operator: OperatorFlux, Envs: []string{"Dev", "prod", "prod"}},
			[]string{`envs: invalid environment name "Dev"`, `envs: environment "prod" is listed twice`}},
		{"reserved and duplicate apps", Spec{Operator: OperatorFlux, Apps: []App{{Name: "tenants"}, {Name: "web"}, {Name: "web"}}},
			[]string{`apps: "tenants" is reserved`, `apps: application "web" is listed twice`}},
		{"bad team", Spec{Operator: OperatorFlux, Layout: LayoutPerTeam, Apps: []App{{Team: "Team_A", Name: "web"}}},
			[]string{`apps: invalid team name "Team_A"`}},
		{"long namespace", Spec{Operator: OperatorFlux, Apps: []App{{Name: strings.Repeat("a", 60)}}},
			[]string{"namespace aaaa", "more than 63"}},
		{"scp-like URL", Spec{Operator: OperatorFlux, RepoURL: "git@github.com:acme/gitops.git"},
			[]string{"repo-url:", "ssh://git@host/org/repo"}},
		{"credentials in URL", Spec{Operator: OperatorFlux, RepoURL: "https://u:secret@github.com/a/b.git"},
			[]string{"credentials do not belong in the URL"}},
		{"bad registry", Spec{Operator: OperatorFlux, Registry: "ghcr.io/Acme/"}, []string{"registry:"}},
		{"bad age", Spec{Operator: OperatorFlux, AgeRecipient: "age1nope"}, []string{"age: not an age recipient"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.spec
			s.Default()
			err := s.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "secret") && tt.name == "credentials in URL" {
				t.Errorf("password in error: %v", err)
			}
			if _, err := Generate(tt.spec); err == nil {
				t.Error("Generate accepted the spec")
			}
		})
	}
	ok := Spec{Operator: OperatorArgoCD}
	ok.Default()
	if err := ok.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestParseApps(t *testing.T) {
	tests := []struct {
		in      []string
		layout  Layout
		want    []App
		wantErr string
	}{
		{[]string{"web", " api ", ""}, LayoutMono, []App{{Name: "web"}, {Name: "api"}}, ""},
		{[]string{"t/web", "api"}, LayoutPerTeam, []App{{Team: "t", Name: "web"}, {Team: "api", Name: "api"}}, ""},
		{[]string{"t/web"}, LayoutMono, nil, "TEAM/NAME is for the per-team layout"},
	}
	for _, tt := range tests {
		got, err := ParseApps(tt.in, tt.layout)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.in, diff)
		}
	}
}

// Write is idempotent, refuses changed files (writing nothing at all),
// overwrites them with Force, and writes nothing on a dry run.
func TestWrite(t *testing.T) {
	files, err := Generate(Spec{Operator: OperatorFlux})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "repo")

	changes, err := Write(dir, files, WriteOptions{DryRun: true})
	if err != nil || len(changes) != len(files) || changes[0].Action != Create {
		t.Fatalf("dry run: %v %v", changes, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dry run wrote: %v", err)
	}

	if _, err := Write(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(dir, "README.md")
	st1, _ := os.Stat(readme)
	changes, err = Write(dir, files, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Action != Unchanged {
			t.Errorf("second run: %s %s", c.Action, c.Path)
		}
	}
	st2, _ := os.Stat(readme)
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("second run rewrote README.md")
	}
	if st2.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st2.Mode().Perm())
	}

	// A hand edit and a deleted file: refused, and the deleted file is not
	// recreated either.
	if err := os.WriteFile(readme, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sops := filepath.Join(dir, ".sops.yaml")
	if err := os.Remove(sops); err != nil {
		t.Fatal(err)
	}
	_, err = Write(dir, files, WriteOptions{})
	var conflict *ConflictError
	if !errors.As(err, &conflict) || !slices.Equal(conflict.Paths, []string{"README.md"}) {
		t.Fatalf("got %v, want a conflict on README.md", err)
	}
	if _, err := os.Stat(sops); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused run wrote .sops.yaml")
	}
	if data, _ := os.ReadFile(readme); string(data) != "mine\n" {
		t.Error("README.md was overwritten")
	}

	changes, err = Write(dir, files, WriteOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]Action{}
	for _, c := range changes {
		if c.Action != Unchanged {
			actions[c.Path] = c.Action
		}
	}
	if diff := cmp.Diff(map[string]Action{"README.md": Overwrite, ".sops.yaml": Create}, actions); diff != "" {
		t.Errorf("forced run (-want +got):\n%s", diff)
	}
	if data, _ := os.ReadFile(readme); !bytes.Equal(data, fileMap(files)["README.md"]) {
		t.Error("README.md not restored")
	}
}

func TestRelPathAndTree(t *testing.T) {
	for _, tt := range []struct{ from, to, want string }{
		{"envs/dev/web", "apps/web/base", "../../../apps/web/base"},
		{"envs/dev/t/web", "teams/t/web/base", "../../../../teams/t/web/base"},
		{"a/b", "a/b/c", "c"},
	} {
		if got := relPath(tt.from, tt.to); got != tt.want {
			t.Errorf("relPath(%q, %q) = %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
	got := tree([]string{"b/c/x.yaml", "a.md", "b/y.yaml", "b/c/z.yaml"})
	want := "a.md\nb/\n  y.yaml\n  c/\n    x.yaml  z.yaml"
	if got != want {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}
}
