package repograph

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolayout"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// initRepo writes a repo init skeleton into a temporary directory.
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

// The text tree and DOT of generated and hand-written repositories
// (go test ./pkg/repograph -update rewrites testdata/*.golden).
func TestGraphGolden(t *testing.T) {
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		urls []string
	}{
		{"argocd-mono-dirs", func(t *testing.T) string {
			return initRepo(t, repolayout.Spec{Operator: repolayout.OperatorArgoCD})
		}, []string{repolayout.DefaultRepoURL}},
		{"argocd-per-team-branches", func(t *testing.T) string {
			return initRepo(t, repolayout.Spec{Operator: repolayout.OperatorArgoCD, Layout: repolayout.LayoutPerTeam,
				EnvStrategy: repolayout.EnvBranches, Envs: []string{"dev", "prod"}})
		}, nil},
		{"flux-per-team-branches", func(t *testing.T) string {
			return initRepo(t, repolayout.Spec{Operator: repolayout.OperatorFlux, Layout: repolayout.LayoutPerTeam, EnvStrategy: repolayout.EnvBranches})
		}, nil},
		{"flux-mono-dirs", func(t *testing.T) string {
			return initRepo(t, repolayout.Spec{Operator: repolayout.OperatorFlux, Envs: []string{"prod"}})
		}, nil},
		{"mixed", func(*testing.T) string { return "testdata/repos/mixed" }, []string{"https://github.com/acme/mixed.git"}},
		{"broken-repo", func(*testing.T) string { return "../../examples/broken-repo" }, nil},
		{"gitops-repo", func(*testing.T) string { return "../../examples/gitops-repo" }, nil},
		{"layouts-flux-kustomize-helm", func(*testing.T) string { return "../../examples/layouts/flux-kustomize-helm" }, nil},
		{"layouts-flux-multi-tenancy", func(*testing.T) string { return "../../examples/layouts/flux-multi-tenancy" }, nil},
		{"layouts-argocd-helm-app-of-apps", func(*testing.T) string { return "../../examples/layouts/argocd-helm-app-of-apps" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Load(tt.dir(t), nil, Options{RepoURLs: tt.urls})
			if err != nil {
				t.Fatal(err)
			}
			var text, dot bytes.Buffer
			if err := g.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := g.WriteDOT(&dot); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+tt.name+".txt.golden", text.Bytes())
			golden.Check(t, "testdata/"+tt.name+".dot.golden", dot.Bytes())
		})
	}
}

func TestGraphStructure(t *testing.T) {
	g, err := Load("testdata/repos/mixed", nil, Options{RepoURLs: []string{"ssh://git@github.com/acme/mixed"}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Node{}
	for _, n := range g.Nodes {
		byName[n.Name] = n
	}
	names := func(ns []*Node) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.Name)
		}
		return out
	}
	if diff := cmp.Diff([]string{"root"}, names(g.Roots)); diff != "" {
		t.Errorf("roots (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"loop", "team", "chart"}, names(byName["root"].Children)); diff != "" {
		t.Errorf("children of root (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"back", "oci"}, names(byName["loop"].Children)); diff != "" {
		t.Errorf("children of loop (-want +got):\n%s", diff)
	}
	if team := byName["team"].Targets[0]; !team.External || team.Dir != "" {
		t.Errorf("team: %+v, want external", team)
	}
	chart := byName["chart"].Targets
	if len(chart) != 2 || !chart[0].External || chart[1].External || chart[1].Exists || chart[1].PathLine != 32 {
		t.Errorf("chart targets: %+v", chart)
	}
	if oci := byName["oci"]; !oci.Targets[0].External || oci.DependsOn[0].Node != nil || oci.DependsOn[0].Namespace != "other" {
		t.Errorf("oci: %+v %+v", oci.Targets, oci.DependsOn)
	}
	// back points at apps/ again: a cycle, shown once and marked.
	var text bytes.Buffer
	if err := g.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "Application argocd/loop (cycle)") {
		t.Errorf("no cycle marker:\n%s", text.String())
	}
}

func TestNormalizeURL(t *testing.T) {
	same := []string{
		"https://github.com/acme/gitops.git",
		"https://github.com/acme/gitops",
		"https://GitHub.com/acme/gitops/",
		"ssh://git@github.com/acme/gitops.git",
		"ssh://git@github.com:22/acme/gitops.git",
		"git@github.com:acme/gitops.git",
		"http://user@github.com/acme/gitops",
	}
	for _, u := range same {
		if got := NormalizeURL(u); got != "github.com/acme/gitops" {
			t.Errorf("NormalizeURL(%q) = %q", u, got)
		}
	}
	for _, u := range []string{"https://github.com/acme/other.git", "https://gitlab.com/acme/gitops.git", "https://git.acme.io:8443/acme/gitops"} {
		if got := NormalizeURL(u); got == "github.com/acme/gitops" {
			t.Errorf("NormalizeURL(%q) = %q: should differ", u, got)
		}
	}
}

func TestScan(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/kustomization.yaml", "resources:\n  - cm.yaml\n  - ../b\n  - https://github.com/x/y//z?ref=v1\nimages:\n  - name: nginx\n    newTag: latest\n")
	write("a/cm.yaml", "# comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n  namespace: ns\n")
	write("b/kustomization.yaml", "resources: [svc.yaml]\n")
	write("b/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n")
	write("bad/x.yaml", "a: b\nc: d: e\n")
	write("chart/Chart.yaml", "name: c\n")
	write("chart/templates/t.yaml", "{{ .Values.x }}\n")
	write(".hidden/h.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: h\n")
	write("notes.txt", "apiVersion: v1\n")
	r, err := Scan(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a/cm.yaml", "a/kustomization.yaml", "b/kustomization.yaml", "b/svc.yaml", "bad/x.yaml"}, r.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	var objs []string
	for _, o := range r.Objects {
		objs = append(objs, o.File+":"+strings.Repeat("", 0)+o.Kind+"/"+o.Namespace+"/"+o.Name)
	}
	if diff := cmp.Diff([]string{"a/cm.yaml:ConfigMap//one", "a/cm.yaml:ConfigMap/ns/two", "b/svc.yaml:Service//s"}, objs); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if r.Objects[0].Line != 2 || r.Objects[1].Line != 7 {
		t.Errorf("lines %d %d", r.Objects[0].Line, r.Objects[1].Line)
	}
	if len(r.Errors) != 1 || r.Errors[0].File != "bad/x.yaml" || r.Errors[0].Line != 2 {
		t.Errorf("errors %v", r.Errors)
	}
	k := r.Kustomizations["a"]
	if k == nil || len(k.Resources) != 3 || k.Images[0].NewTag != "latest" || k.Images[0].TagLine != 7 {
		t.Fatalf("kustomization a: %+v", k)
	}
	if diff := cmp.Diff(map[string]bool{"a/kustomization.yaml": true, "a/cm.yaml": true, "b/kustomization.yaml": true, "b/svc.yaml": true}, r.Closure("a")); diff != "" {
		t.Errorf("closure (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{"b": true}, r.Referenced()); diff != "" {
		t.Errorf("referenced (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"chart"}, r.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	// An explicit file list (git ls-files) is honoured.
	r, err = Scan(dir, []string{"b/svc.yaml", "b/kustomization.yaml"})
	if err != nil || len(r.Objects) != 1 || len(r.Kustomizations) != 1 {
		t.Errorf("with files: %v %+v", err, r)
	}
}
