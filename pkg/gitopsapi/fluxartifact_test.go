package gitopsapi

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

const generator = `apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata: {name: gen, namespace: flux-t}
spec:
  sources:
    - {alias: repo, kind: GitRepository, name: fleet}
    - {alias: chart, kind: OCIRepository, name: podinfo}
  artifacts:
    - name: apps
      copy:
        - {from: "@repo/apps/**", to: "@artifact/", exclude: ["*.md"]}
    - name: chart
      copy:
        - {from: "@chart/", to: "@artifact/"}
    - name: tarballs
      copy:
        - {from: "@repo/charts/*.tgz", to: "@artifact/", strategy: Extract}
`

// TestGeneratorArtifact: what an ArtifactGenerator declares for one
// artifact; the sources it does not read do not matter, those that are
// not GitRepositories, path patterns and the Extract strategy are said to
// be unsupported.
func TestGeneratorArtifact(t *testing.T) {
	gen := obj(t, generator)
	art, unsupported := generatorArtifact(gen, "apps")
	want := &ExternalArtifact{Name: "apps", Generator: "flux-t/gen",
		Sources: map[string]*GitRepository{"repo": {Namespace: "flux-t", Name: "fleet"}},
		Copy:    []CopyOperation{{From: "@repo/apps/**", To: "@artifact/", Exclude: []string{"*.md"}}}}
	if diff := cmp.Diff(want, art); diff != "" || unsupported != "" {
		t.Errorf("apps: unsupported %q, (-want +got):\n%s", unsupported, diff)
	}
	for name, wantMsg := range map[string]string{
		"chart":    "ArtifactGenerator flux-t/gen: source @chart is of kind OCIRepository (only GitRepository sources are built)",
		"tarballs": "ArtifactGenerator flux-t/gen: the Extract copy strategy (@repo/charts/*.tgz)",
	} {
		if art, got := generatorArtifact(gen, name); art != nil || got != wantMsg {
			t.Errorf("%s: %v, %q; want %q", name, art, got, wantMsg)
		}
	}
	if art, got := generatorArtifact(gen, "nope"); art != nil || got != "" {
		t.Errorf("nope: %v, %q", art, got)
	}
	pp := obj(t, strings.Replace(generator, "spec:\n", "spec:\n  pathPattern: \"@repo/apps/{app}\"\n", 1))
	if _, got := generatorArtifact(pp, "apps"); got != "ArtifactGenerator flux-t/gen: spec.pathPattern" {
		t.Errorf("pathPattern: %q", got)
	}
}

// TestFluxExternalArtifactOnTheServer reads Kustomizations on
// ExternalArtifacts from the real CRDs: the generator's GitRepository
// with what it includes; a missing ExternalArtifact, generator or
// GitRepository is the source's problem, an OCIRepository source
// unsupported, never an error of the whole listing.
func TestFluxExternalArtifactOnTheServer(t *testing.T) {
	cp := controlplane.ForTest(t)
	c := client(t, cp)
	crd, err := os.ReadFile("testdata/artifactgen/crds/source.extensions.fluxcd.io_artifactgenerators.yaml")
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, cp, string(crd), "apply", "--server-side", "-f", "-")
	kubectl(t, cp, "", "wait", "--for=condition=Established", "--timeout=60s", "crd/artifactgenerators.source.extensions.fluxcd.io")
	kubectl(t, cp, "", "create", "namespace", "ea-t")
	ea := func(name, gen string) string {
		return "apiVersion: source.toolkit.fluxcd.io/v1\nkind: ExternalArtifact\nmetadata: {name: " + name + ", namespace: ea-t}\n" +
			"spec: {sourceRef: {apiVersion: source.extensions.fluxcd.io/v1beta1, kind: ArtifactGenerator, name: " + gen + "}}\n---\n"
	}
	ks := func(name, artifact string) string {
		return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: " + name + ", namespace: ea-t}\n" +
			"spec: {interval: 1h, prune: true, path: ./x, sourceRef: {kind: ExternalArtifact, name: " + artifact + "}}\n---\n"
	}
	kubectl(t, cp, strings.ReplaceAll(generator, "flux-t", "ea-t")+"---\n"+
		`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: ea-t}
spec:
  interval: 1m
  url: https://git.example.com/fleet.git
  ref: {tag: v1.2.0}
  ignore: "/docs/"
  include: [{repository: {name: common}, toPath: vendor/common}]
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: common, namespace: ea-t}
spec: {interval: 1m, url: "https://git.example.com/common.git"}
---
`+ea("apps", "gen")+ea("chart", "gen")+ea("orphan", "gone")+
		ks("apps", "apps")+ks("chart", "chart")+ks("orphan", "orphan")+ks("missing", "nope"), "apply", "-f", "-")

	all, err := ListFluxKustomizations(t.Context(), c, "ea-t")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range all {
		got[s.Name] = s.Skip()
	}
	want := map[string]string{
		"apps":    "",
		"chart":   "not supported: ArtifactGenerator ea-t/gen: source @chart is of kind OCIRepository (only GitRepository sources are built)",
		"orphan":  "ArtifactGenerator ea-t/gone not found (producing ExternalArtifact ea-t/orphan)",
		"missing": "ExternalArtifact ea-t/nope not found",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("skip reasons (-want +got):\n%s", diff)
	}
	apps := all[0]
	if apps.Name != "apps" || apps.Artifact == nil {
		t.Fatalf("apps: %+v", apps)
	}
	ignore := "/docs/"
	wantRepo := &GitRepository{Namespace: "ea-t", Name: "fleet", URL: "https://git.example.com/fleet.git", Revision: "v1.2.0", Ignore: &ignore,
		Include: []GitInclude{{Repo: &GitRepository{Namespace: "ea-t", Name: "common", URL: "https://git.example.com/common.git", Revision: FluxDefaultBranch}, ToPath: "vendor/common"}}}
	if diff := cmp.Diff(wantRepo, apps.Artifact.Sources["repo"]); diff != "" {
		t.Errorf("the generator's GitRepository (-want +got):\n%s", diff)
	}

	kubectl(t, cp, "", "delete", "-n", "ea-t", "gitrepository/common")
	s, err := GetFluxKustomization(t.Context(), c, "ea-t", "apps")
	if err != nil || s.Problem != "GitRepository ea-t/common not found (included by GitRepository ea-t/fleet)" {
		t.Errorf("without the included repository: %v, %q", err, s.Problem)
	}
}
