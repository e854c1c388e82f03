package repograph

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
)

// writeTree is test/builders' WriteTree.
var writeTree = builders.WriteTree

// nodeLines lists every node of a graph (disk and other revisions) as
// "Title → targets", sorted.
func nodeLines(g *Graph) []string {
	var out []string
	for _, n := range slices.Concat(g.Nodes, g.Variants, g.Others) {
		if n.Replaced() {
			continue
		}
		var ts []string
		for _, t := range n.Targets {
			ts = append(ts, targetText(t))
		}
		s := n.Title() + " → " + strings.Join(ts, ", ")
		if n.Revision != "" {
			s = "[" + n.Revision + "] " + s
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// The reference layouts of Flux (kustomize+Helm, multi-tenancy) hold
// exactly their Kustomizations: patch files in overlays (a Flux
// Kustomization with only spec.path, a HelmRelease with only values) are
// not nodes, so no " apps///production (external)" appears; the tenant
// Kustomization of tenants/base is shown as each overlay patches it (its
// path ./staging or ./production), not as written in the base.
func TestReferenceLayoutNodes(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{"flux-multi-tenancy", []string{
			"Kustomization apps/dev-team → production (not in this checkout: not followed)",
			"Kustomization apps/dev-team → staging (not in this checkout: not followed)",
			"Kustomization flux-system/flux-system → clusters/production",
			"Kustomization flux-system/flux-system → clusters/staging",
			"Kustomization flux-system/kyverno → infrastructure/kyverno",
			"Kustomization flux-system/kyverno → infrastructure/kyverno",
			"Kustomization flux-system/kyverno-policies → infrastructure/kyverno-policies",
			"Kustomization flux-system/kyverno-policies → infrastructure/kyverno-policies",
			"Kustomization flux-system/tenants → tenants/production",
			"Kustomization flux-system/tenants → tenants/staging",
		}},
		{"flux-kustomize-helm", []string{
			"Kustomization flux-system/apps → apps/production",
			"Kustomization flux-system/apps → apps/staging",
			"Kustomization flux-system/flux-system → clusters/production",
			"Kustomization flux-system/flux-system → clusters/staging",
			"Kustomization flux-system/infra-configs → infrastructure/configs",
			"Kustomization flux-system/infra-configs → infrastructure/configs",
			"Kustomization flux-system/infra-controllers → infrastructure/controllers",
			"Kustomization flux-system/infra-controllers → infrastructure/controllers",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			g, err := Load(filepath.Join("../../examples/layouts", tt.dir), nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, nodeLines(g)); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
			if len(g.Repo.Patches) == 0 {
				t.Errorf("no patch documents recognised")
			}
		})
	}
}

// A namespace set by the kustomization that includes a file counts for
// dependsOn: clusters/production's Kustomizations are written without one
// and get flux-system from clusters/production/kustomization.yaml, so
// apps (written in flux-system) finds infra-configs.
func TestInheritedNamespaceDependsOn(t *testing.T) {
	g, err := Load("../../examples/layouts/flux-kustomize-helm", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, n := range g.Nodes {
		if !strings.HasPrefix(n.File, "clusters/production/") {
			continue
		}
		if n.Namespace != "flux-system" {
			t.Errorf("%s:%d: namespace %q, want flux-system (from the kustomization)", n.File, n.Line, n.Namespace)
		}
		for _, d := range n.DependsOn {
			checked++
			if d.Node == nil || path.Dir(d.Node.File) != path.Dir(n.File) {
				t.Errorf("%s depends on %s/%s: want the one of clusters/production, got %+v", n.Title(), d.Namespace, d.Name, d.Node)
			}
		}
	}
	if checked != 2 {
		t.Errorf("%d dependsOn entries checked, want 2", checked)
	}
}

const tenantSync = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: dev-team
  namespace: apps
spec:
  url: https://github.com/example/fleet
  ref:
    branch: dev-team
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: dev-team
  namespace: apps
spec:
  sourceRef:
    kind: GitRepository
    name: dev-team
  path: ./staging
`

const clusterSync = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  url: ssh://git@github.com/example/fleet.git
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: tenants
  namespace: flux-system
spec:
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./tenants
`

// A GitRepository with this repository's URL on another branch is read
// from that branch when it is available, never from the files on disk;
// when that branch leads back (a cycle across branches), the walk ends
// and the text says "(cycle)".
func TestOtherRevision(t *testing.T) {
	main := writeTree(t, map[string]string{
		"clusters/staging/sync.yaml": clusterSync,
		"tenants/dev-team.yaml":      tenantSync,
		// On disk, ./staging would hold the cluster again: must not be used.
		"staging/loop.yaml": strings.ReplaceAll(clusterSync, "./tenants", "./clusters"),
	})
	branch := writeTree(t, map[string]string{
		// The tenant's branch points back at main's clusters/staging.
		"staging/back.yaml": strings.ReplaceAll(strings.ReplaceAll(clusterSync, "name: tenants", "name: back"), "./tenants", "./clusters/staging"),
	})
	urls := []string{"https://github.com/example/fleet"}

	t.Run("not available", func(t *testing.T) {
		g, err := Load(main, nil, Options{RepoURLs: urls, Revisions: []string{"main"}})
		if err != nil {
			t.Fatal(err)
		}
		var n *Node
		for _, c := range g.Nodes {
			if c.Name == "dev-team" {
				n = c
			}
		}
		if n == nil || !n.Targets[0].NotCheckedOut || len(n.Children) != 0 {
			t.Fatalf("dev-team: want a target not followed, got %+v", n)
		}
	})
	t.Run("cycle across branches", func(t *testing.T) {
		reads := map[string]int{}
		read := func(rev string) (*Repo, error) {
			reads[rev]++
			if rev != "dev-team" {
				return nil, nil
			}
			return Scan(branch, nil)
		}
		g, err := Load(main, nil, Options{RepoURLs: urls, Revisions: []string{"main"}, ReadRevision: read})
		if err != nil {
			t.Fatal(err)
		}
		if reads["dev-team"] != 1 || len(reads) != 1 {
			t.Errorf("revisions read: %v, want dev-team once", reads)
		}
		var text bytes.Buffer
		if err := g.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		got := text.String()
		for _, want := range []string{
			"Kustomization apps/dev-team → staging @dev-team",
			"Kustomization flux-system/back → clusters/staging @main",
			"Kustomization flux-system/tenants (cycle)",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("graph lacks %q:\n%s", want, got)
			}
		}
		if strings.Contains(got, "staging/loop.yaml") || strings.Count(got, "flux-system/tenants → tenants") > 1 {
			t.Errorf("the branch was read from disk:\n%s", got)
		}
		var dot bytes.Buffer
		if err := g.WriteDOT(&dot); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(dot.String(), "flux-system/back") {
			t.Errorf("DOT lacks the node of the other branch:\n%s", dot.String())
		}
	})
}

// An Argo CD app of apps whose path is a Helm chart is not silently empty:
// the target says so and the graph carries a note.
func TestHelmChartAppOfApps(t *testing.T) {
	g, err := Load("../../examples/layouts/argocd-helm-app-of-apps", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := g.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Application argocd/apps → apps (Helm chart: not rendered) @main",
		"note: Application argocd/apps (bootstrap/root.yaml): apps not rendered: Helm chart",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("graph lacks %q:\n%s", want, text.String())
		}
	}
}

// Flux 2.7's ArtifactGenerator (the current kustomize+Helm reference uses
// it for every Kustomization): a Kustomization of an ExternalArtifact is
// traced through the generator's copy rules to the GitRepository's path.
func TestArtifactGeneratorFollowed(t *testing.T) {
	g, err := Load("../../examples/layouts/flux-kustomize-helm", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"infra-controllers": "infrastructure/controllers",
		"infra-configs":     "infrastructure/configs",
		"apps":              "apps/staging",
	}
	for _, n := range g.Nodes {
		if !strings.HasPrefix(n.File, "clusters/staging/") || n.Name == "flux-system" {
			continue
		}
		tg := n.Targets[0]
		if tg.Dir != want[n.Name] || tg.External || !tg.Exists || tg.Via != "flux-system/flux-system" {
			t.Errorf("%s: target %+v, want %s via flux-system/flux-system", n.Title(), tg, want[n.Name])
		}
		delete(want, n.Name)
	}
	if len(want) > 0 {
		t.Errorf("not found: %v", want)
	}
}

func TestArtifactTrace(t *testing.T) {
	doc := `apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata: {name: gen, namespace: ns}
spec:
  sources: [{alias: repo, kind: GitRepository, name: src}]
  artifacts:
    - name: a
      copy:
        - {from: "@repo/deploy/**", to: "@artifact/"}
        - {from: "@repo/envs/prod/**", to: "@artifact/prod/"}
        - {from: "@repo/extra/*.yaml", to: "@artifact/extra/"}
`
	dir := writeTree(t, map[string]string{"gen.yaml": doc})
	r, err := Scan(dir, nil)
	if err != nil || len(r.Objects) != 1 {
		t.Fatal(err, r.Objects)
	}
	a := generated{gen: r.Objects[0], artifact: Lookup(r.Objects[0].Node, "spec", "artifacts").Content[0]}
	for _, tt := range []struct{ in, want string }{
		{"./", "deploy"}, {"./app", "deploy/app"}, {"./prod", "envs/prod"}, {"prod/sub", "envs/prod/sub"},
		{"./extra", "deploy/extra"}, // the glob rule is not traced; the root copy is
	} {
		alias, src, ok := a.trace(tt.in)
		if !ok || alias != "repo" || src != tt.want {
			t.Errorf("trace(%q) = %q, %q, %v; want repo, %q", tt.in, alias, src, ok, tt.want)
		}
	}
	if k, n, ns := a.source("repo"); k != KindGitRepository || n != "src" || ns != "ns" {
		t.Errorf("source: %s %s %s", k, n, ns)
	}
}

// TestOCIArtifactLayout: the Flux d2 reference layout, where CI pushes a
// directory of this repository as an OCI artifact (flux push artifact
// --path ./apps) and the cluster's Kustomizations read it through an
// OCIRepository. Mapped to its directory (repo graph --repo-override
// oci://…=apps), the artifact is followed into the repository; otherwise,
// and for an artifact built elsewhere, the OCIRepository is an external
// source shown with its URL, credentials removed.
func TestOCIArtifactLayout(t *testing.T) {
	root := filepath.Join("../../examples/layouts", "flux-d2-oci")
	mapped := func(url string) (string, bool) {
		if url == "oci://ghcr.io/example/d2-fleet/apps" {
			return "apps", true
		}
		return "", false
	}
	tests := []struct {
		name      string
		artifacts func(string) (string, bool)
		want      []string
	}{
		{"artifact built from this repository", mapped, []string{
			"Kustomization flux-system/apps → apps/staging",
			"Kustomization flux-system/flux-system → clusters/staging",
			"Kustomization flux-system/infra-controllers → oci://ghcr.io/example/d2-infra//controllers (external)",
			"Kustomization flux-system/podinfo-alerts → apps/base/alerts",
		}},
		{"no mapping", nil, []string{
			"Kustomization flux-system/apps → oci://ghcr.io/example/d2-fleet/apps//staging (external)",
			"Kustomization flux-system/flux-system → clusters/staging",
			"Kustomization flux-system/infra-controllers → oci://ghcr.io/example/d2-infra//controllers (external)",
			"Kustomization flux-system/podinfo-alerts → oci://ghcr.io/example/d2-fleet/apps//base/alerts (external)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Load(root, nil, Options{RepoURLs: []string{"https://github.com/example/d2-fleet"}, Artifacts: tt.artifacts})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, nodeLines(g)); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
			var text bytes.Buffer
			if err := g.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if tt.artifacts != nil {
				// The tree: flux-system holds apps (which holds
				// podinfo-alerts through the artifact) and infra.
				for _, want := range []string{
					"Kustomization flux-system/apps → apps/staging (OCI artifact oci://ghcr.io/example/d2-fleet/apps, pushed from apps)",
					"Kustomization flux-system/podinfo-alerts → apps/base/alerts (OCI artifact",
				} {
					if !strings.Contains(text.String(), want) {
						t.Errorf("text lacks %q:\n%s", want, text.String())
					}
				}
				if len(g.Roots) != 1 {
					t.Errorf("roots %d, want 1 (flux-system holds everything):\n%s", len(g.Roots), text.String())
				}
			}
		})
	}
}

// TestOCIArtifactPaths: a path of an artifact never leaves the directory
// it is pushed from, and an OCIRepository URL is shown without its
// credentials.
func TestOCIArtifactPaths(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	root := t.TempDir()
	files := map[string]string{
		"apps/x/kustomization.yaml": "resources: []\n",
		"other/kustomization.yaml":  "resources: []\n",
		"clusters/k.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: apps, namespace: flux-system}
spec: {url: "oci://registry.example.com/apps"}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: private, namespace: flux-system}
spec: {url: "oci://robot:` + canary + `@registry.example.com/private", ref: {semver: ">=1.0.0"}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: inside, namespace: flux-system}
spec: {sourceRef: {kind: OCIRepository, name: apps}, path: ./x}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: escapes, namespace: flux-system}
spec: {sourceRef: {kind: OCIRepository, name: apps}, path: ../other}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: private, namespace: flux-system}
spec: {sourceRef: {kind: OCIRepository, name: private}, path: ./}
`,
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g, err := Load(root, nil, Options{Artifacts: func(url string) (string, bool) { return "apps", url == "oci://registry.example.com/apps" }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Kustomization flux-system/escapes → ../other (outside the artifact, pushed from apps)",
		"Kustomization flux-system/inside → apps/x",
		"Kustomization flux-system/private → oci://registry.example.com/private (external)",
	}
	if diff := cmp.Diff(want, nodeLines(g)); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	var text, dot bytes.Buffer
	if err := g.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteDOT(&dot); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text.String(), dot.String(), strings.Join(nodeLines(g), "\n")} {
		if strings.Contains(out, canary) {
			t.Errorf("the OCIRepository's credentials leak:\n%s", out)
		}
	}
	if !strings.Contains(text.String(), "@>=1.0.0") {
		t.Errorf("the external artifact's semver range is not shown:\n%s", text.String())
	}
}
