package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// The differential tests against the real Flux CLI (issue 15): the objects
// drift compares for a Flux Kustomization are those `flux build
// kustomization` prints, and the objects it reports drifted are those
// `flux diff kustomization` reports (plus, and only plus, what flux diff
// cannot see). They live here, not in test/e2e, because they compare
// drift's own desired objects (pkg/desired, as the drift command loads
// them) and in-process reports, with this package's control plane, which
// serves Flux's CRDs.

// fluxDiffFixtures is the repository in the layouts of Flux's reference
// examples (flux2-kustomize-helm-example, flux2-multi-tenancy).
const fluxDiffFixtures = "testdata/fluxdiff"

// fluxRepoURL is what the GitRepositories name; drift reads the bare
// repositories through --repo-override (the CRD takes no file:// URL).
const fluxRepoURL = "https://git.example.com/org/"

// fluxCLI runs the real flux binary against the test cluster.
func fluxCLI(t *testing.T, cp *controlplane.ControlPlane, bin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.Kubeconfig, "HOME="+t.TempDir(), "NO_COLOR=1")
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// objectKey names an object as the comparison matches it.
func objectKey(o map[string]any) string {
	u := unstructured.Unstructured{Object: o}
	return u.GetAPIVersion() + " " + u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// jsonObject gives obj the shape decoding JSON gives (float64 numbers,
// []any lists), so that objects built in memory and objects read back from
// YAML compare by value.
func jsonObject(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// readYAMLObjects reads a YAML stream of objects by key.
func readYAMLObjects(t *testing.T, data string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	dec := k8syaml.NewYAMLOrJSONDecoder(strings.NewReader(data), 4096)
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading flux build's output: %v\n%s", err, data)
		}
		if o == nil {
			continue
		}
		k := objectKey(o)
		if _, dup := out[k]; dup {
			t.Fatalf("flux build printed %s twice", k)
		}
		out[k] = o
	}
}

// fluxRepo is one fixture repository served to drift from a bare clone.
type fluxRepo struct {
	name string // the GitRepository's name, in flux-system
	work string // the checkout flux build reads
	bare string
	// source, when set, is the source object instead of a GitRepository,
	// and overrideArg drift's --repo-override for it (the OCI fixture).
	source, overrideArg string
	// overrides, when set, are all of drift's --repo-override flags
	// (TestFluxArtifacts' fleet: an include reads a second repository).
	overrides []string
}

// overrideArgs are drift's --repo-override values for r.
func (r fluxRepo) overrideArgs() []string {
	if r.overrides != nil {
		return r.overrides
	}
	return []string{r.override()}
}

func newFluxRepo(t *testing.T, base, name, src string, files map[string]string) fluxRepo {
	t.Helper()
	bare := bareRepo(t, base, name, src, files)
	return fluxRepo{name: name, work: filepath.Join(base, name+"-work"), bare: bare}
}

func (r fluxRepo) url() string { return fluxRepoURL + r.name + ".git" }
func (r fluxRepo) override() string {
	if r.overrideArg != "" {
		return r.overrideArg
	}
	return r.url() + "=file://" + r.bare
}

// gitRepository is the GitRepository of r, as flux bootstrap writes it.
func (r fluxRepo) gitRepository() string {
	if r.source != "" || r.name == "" {
		return r.source
	}
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: %s, namespace: flux-system}
spec: {interval: 1m, url: %q, ref: {branch: main}}
`, r.name, r.url())
}

// fluxRow is one Kustomization of a fixture repository and the idiom it
// covers.
type fluxRow struct {
	idiom string
	repo  string // fluxdiff, postbuild, fleet or oci
	file  string // the Kustomization's file in the repository
	name  string // its name, in flux-system
	// live: flux build reads the cluster (postBuild.substituteFrom, which
	// --dry-run skips); otherwise it runs with --dry-run.
	live bool
	// fluxErr, when set, is in the error flux build fails with, and
	// warning in a warning of drift's: a documented difference
	// (docs/drift.md, "Where we differ from Argo CD and Flux").
	fluxErr, warning string
	// ignore is the source's spec.ignore re-rooted at the Kustomization's
	// path, given to flux build and flux diff as --ignore-paths: they read
	// a directory, where source-controller's artifact has it applied.
	ignore string
	// ns is the Kustomization's namespace, flux-system when empty.
	ns string
	// dir, when set, is the directory flux reads, relative to the
	// checkout, instead of spec.path: the source is an artifact assembled
	// from it (an ExternalArtifact, a GitRepository's include), which the
	// Flux CLI cannot assemble.
	dir string
	// rejected is an object (flux diff's Kind/ns/name) the API server
	// refuses as kustomize-controller renders it: left out of what
	// TestFluxDiffDifferential applies.
	rejected string
}

var fluxRows = []fluxRow{
	{"kustomize-helm-example apps/staging: a base and an overlay patching its HelmRelease from a file", "fluxdiff", "clusters/staging/apps.yaml", "apps", false, "", "", "", "", "", ""},
	{"no kustomization.yaml: plain files, a nested plain directory, a kustomization subdirectory, a README", "fluxdiff", "clusters/staging/infrastructure.yaml", "infra-configs", false, "", "", "", "", "", ""},
	{"flux2-multi-tenancy tenants/staging: a tenant base and a per-environment patch", "fluxdiff", "clusters/staging/tenants.yaml", "tenants", false, "", "", "", "", "", ""},
	{"targetNamespace; a configMapGenerator (hashed name) the Deployment refers to; an ssa: IfNotPresent object", "fluxdiff", "clusters/staging/shop.yaml", "shop", false, "", "", "", "", "", ""},
	{"namePrefix and nameSuffix", "fluxdiff", "clusters/staging/shop.yaml", "shop-named", false, "", "", "", "", "", ""},
	{"commonMetadata labels and annotations", "fluxdiff", "clusters/staging/shop.yaml", "shop-metadata", false, "", "", "", "", "", ""},
	{"patches: strategic merge by label selector, JSON 6902 by name", "fluxdiff", "clusters/staging/shop.yaml", "shop-patched", false, "", "", "", "", "", ""},
	{"images: newName and newTag, digest", "fluxdiff", "clusters/staging/shop.yaml", "shop-images", false, "", "", "", "", "", ""},
	{"components: a patch and a resource, a generator merging a ConfigMap", "fluxdiff", "clusters/staging/shop.yaml", "shop-components", false, "", "", "", "", "", ""},
	{"components with ignoreMissingComponents: a component that does not exist is left out", "fluxdiff", "clusters/staging/shop.yaml", "shop-optional", false, "", "", "", "", "", ""},
	{
		idiom: "postBuild.substitute: ${var:=default}, ${var:-default}, $${escaped}, substitute: disabled",
		repo:  "fluxdiff", file: "clusters/staging/shop.yaml", name: "shop-postbuild",
		// REPLICAS_HINT: "${replicas:-1}" loses its quotes in
		// kustomize-controller's substitution (as in flux build): a number
		// in a ConfigMap's data, which the API server refuses.
		rejected: "ConfigMap/shop-postbuild/web-config",
	},
	{"namePrefix over a kustomization.yaml with its own namePrefix", "fluxdiff", "clusters/staging/shop.yaml", "shop-prefixed", false, "", "", "", "", "", ""},
	{"images over a kustomization.yaml that renames the same image", "fluxdiff", "clusters/staging/shop.yaml", "shop-pinned", false, "", "", "", "", "", ""},
	{"postBuild.substituteFrom: ConfigMaps, a Secret, an optional missing ConfigMap (pkg/gitopsapi testdata)", "postbuild", "clusters/prod/web.yaml", "web", true, "", "", "", "", "", ""},
	{"postBuild: a kustomization listing another directory's file (pkg/gitopsapi testdata)", "postbuild", "clusters/prod/web.yaml", "scripts-only", true, "", "", "", "", "", ""},
	{"no kustomization.yaml, targetNamespace, spec.ignore (TestSourcesAcceptance's repository)", "fleet", "clusters/fleet/apps.yaml", "fleet-apps", false, "", "", "", "", "", ""},
	{
		idiom: "ExternalArtifact built by an ArtifactGenerator (TestFluxArtifacts, Flux's current reference example): a copied base and staging overlay",
		repo:  "artifacts", file: "clusters/fd.yaml", name: "apps", ns: artifactDiffNS, dir: "apps/staging",
	},
	{
		idiom: "ExternalArtifact built by an ArtifactGenerator: a copied directory, the Kustomization's JSON 6902 patch",
		repo:  "artifacts", file: "clusters/fd.yaml", name: "infra-configs", ns: artifactDiffNS, dir: "infrastructure/configs",
	},
	{
		idiom: "GitRepository spec.ignore leaving a file out (TestFluxArtifacts)",
		repo:  "artifacts", file: "clusters/fd.yaml", name: "tenants", ns: artifactDiffNS, ignore: "scratch.yaml",
	},
	{
		idiom: "GitRepository spec.include: another repository's base at ./shared (TestFluxArtifacts)",
		repo:  "ag-shared", file: "clusters/fd.yaml", name: "shared", ns: artifactDiffNS, dir: "base",
	},
	{
		idiom: "OCIRepository (TestFluxOCIRepository's artifact, pushed by the real flux push artifact): no kustomization.yaml, the source's spec.ignore, a README",
		repo:  "oci", file: "clusters/oci.yaml", name: "oci-app", ignore: "scratch.yaml",
	},
	{
		idiom: "no kustomization.yaml, a YAML file holding no object (Helm values): kustomize-controller refuses the path, drift skips the file with a warning",
		repo:  "fluxdiff", file: "clusters/staging/apps.yaml", name: "legacy",
		fluxErr: "failed to decode Kubernetes YAML from", warning: "skipped apps/legacy/values.yaml: no Kubernetes object in it",
	},
}

// namespace is the row's Kustomization's namespace.
func (row fluxRow) namespace() string {
	if row.ns != "" {
		return row.ns
	}
	return "flux-system"
}

// artifactDiffNS holds TestFluxArtifacts' Flux objects in the
// differentials (its own ag-flux may still be terminating).
const artifactDiffNS = "fd-ag-flux"

// postBuildKustomizations are the Kustomizations of pkg/gitopsapi's
// post-build fixture, committed with it.
const postBuildKustomizations = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: web, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./apps/web
  targetNamespace: fd-pb-shop
  sourceRef: {kind: GitRepository, name: postbuild}
  postBuild:
    substitute: {cluster_name: prod-eu-1}
    substituteFrom:
      - {kind: ConfigMap, name: cluster-vars}
      - {kind: ConfigMap, name: cluster-vars-override}
      - {kind: Secret, name: cluster-secrets}
      - {kind: ConfigMap, name: optional-vars, optional: true}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: scripts-only, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./apps/scripts-only
  targetNamespace: fd-pb-shop
  sourceRef: {kind: GitRepository, name: postbuild}
  postBuild:
    substituteFrom:
      - {kind: ConfigMap, name: cluster-vars}
`

// fleetKustomization is TestSourcesAcceptance's Kustomization.
const fleetKustomization = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: fleet-apps, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./flux/apps
  targetNamespace: fd-flux-shop
  sourceRef: {kind: GitRepository, name: fleet}
  ignore: [{paths: [/data/level], target: {kind: ConfigMap, name: flux-config}}]
`

// fluxFixtureRepos commits the three fixture repositories and creates
// their GitRepositories, Kustomizations and post-build variables in
// flux-system; all are deleted when the test ends.
func fluxFixtureRepos(t *testing.T, cp *controlplane.ControlPlane, flux string) map[string]fluxRepo {
	t.Helper()
	setGitEnv(t)
	base := t.TempDir()
	fleet := map[string]string{"clusters/fleet/apps.yaml": fleetKustomization}
	for k, v := range fleetFiles {
		fleet[k] = v
	}
	repos := map[string]fluxRepo{
		"fluxdiff":  newFluxRepo(t, base, "flux-system", fluxDiffFixtures, nil),
		"postbuild": newFluxRepo(t, base, "postbuild", filepath.Join(postBuildFixtures, "repo"), map[string]string{"clusters/prod/web.yaml": postBuildKustomizations}),
		"fleet":     newFluxRepo(t, base, "fleet", "", fleet),
		"oci":       ociDiffRepo(t, flux),
	}
	artifactDiffRepos(t, cp, base, repos)
	kubectl(t, cp, "apiVersion: v1\nkind: Namespace\nmetadata: {name: flux-system}\n", "apply", "-f", "-")
	vars, err := os.ReadFile(filepath.Join(postBuildFixtures, "cluster/vars.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, cp, string(vars), "apply", "-f", "-")
	var objs []string
	for _, r := range repos {
		if src := r.gitRepository(); src != "" {
			objs = append(objs, src)
		}
	}
	seen := map[string]bool{}
	for _, row := range fluxRows {
		if f := row.repo + "/" + row.file; !seen[f] {
			seen[f] = true
			data, err := os.ReadFile(filepath.Join(repos[row.repo].work, row.file))
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, string(data))
		}
	}
	all := strings.Join(objs, "\n---\n")
	kubectl(t, cp, all, "apply", "-f", "-")
	t.Cleanup(func() {
		cmd := cp.Kubectl(context.Background(), "delete", "--ignore-not-found", "--wait=false", "-f", "-")
		cmd.Stdin = strings.NewReader(all + "\n---\n" + string(vars))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("cleaning up: %v\n%s", err, out)
		}
	})
	return repos
}

// ourDesired returns the objects drift compares for the Kustomization
// flux-system/name: read from the cluster with its GitRepository, fetched
// through --repo-override, rendered and tracked as the drift command does
// (pkg/desired, the same calls as loadSources).
func ourDesired(t *testing.T, client *cluster.Client, repo fluxRepo, row fluxRow) (map[string]map[string]any, []string) {
	t.Helper()
	ctx := t.Context()
	src, err := gitopsapi.GetFluxKustomization(ctx, client, row.namespace(), row.name)
	if err != nil {
		t.Fatalf("reading the Kustomization: %v", err)
	}
	f := desired.NewFetcher(desired.Options{RepoOverrides: repo.overrideArgs()})
	defer f.Close()
	s := f.Operator(ctx, src, true, func(obj *unstructured.Unstructured) bool { return namespaced(ctx, client, obj) })
	if s.Skip != "" {
		t.Fatalf("drift does not compare it: %s", s.Skip)
	}
	out := map[string]map[string]any{}
	for _, d := range s.Desired {
		o := jsonObject(t, desiredObject(t, d).Object)
		k := objectKey(o)
		if _, dup := out[k]; dup {
			t.Fatalf("drift renders %s twice", k)
		}
		out[k] = o
	}
	return out, s.Warnings
}

// fluxBuild runs `flux build kustomization` as the row says.
func fluxBuild(t *testing.T, cp *controlplane.ControlPlane, bin string, repo fluxRepo, row fluxRow) (map[string]map[string]any, string) {
	t.Helper()
	dir, ksFile := fluxRowPaths(t, repo, row)
	args := []string{"build", "kustomization", row.name, "-n", row.namespace(), "--path", dir, "--kustomization-file", ksFile}
	if !row.live {
		args = append(args, "--dry-run")
	}
	if row.ignore != "" {
		args = append(args, "--ignore-paths", row.ignore)
	}
	stdout, stderr, err := fluxCLI(t, cp, bin, args...)
	if err != nil {
		if row.fluxErr != "" {
			return nil, stderr
		}
		t.Fatalf("flux %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return readYAMLObjects(t, stdout), ""
}

// TestFluxBuildDifferential: for every Flux fixture of the suite, on the
// real control plane, the objects drift compares (its render of the
// Kustomization's path plus the tracking labels) are exactly those the
// real `flux build kustomization --kustomization-file … --dry-run` prints
// (without --dry-run where post-build variables come from the cluster).
// Normalisation: none but the order of the objects (matched by apiVersion,
// kind, namespace and name) and numbers compared as JSON numbers.
func TestFluxBuildDifferential(t *testing.T) {
	cp := controlplane.ForTest(t)
	bin := peertools.Require(t, peertools.Flux, "flux")
	t.Setenv("TMPDIR", t.TempDir())
	repos := fluxFixtureRepos(t, cp, bin)
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range fluxRows {
		t.Run(row.namespace()+"/"+row.name, func(t *testing.T) {
			t.Logf("idiom: %s", row.idiom)
			repo := repos[row.repo]
			want, fluxErr := fluxBuild(t, cp, bin, repo, row)
			got, warnings := ourDesired(t, client, repo, row)
			if row.fluxErr != "" {
				if !strings.Contains(fluxErr, row.fluxErr) {
					t.Errorf("flux build did not fail with %q: %q", row.fluxErr, fluxErr)
				}
				if !slices.Contains(warnings, row.warning) {
					t.Errorf("drift's warnings %q do not say %q", warnings, row.warning)
				}
				return
			}
			if len(want) == 0 {
				t.Fatal("flux build printed no object: the row proves nothing")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				keys := func(m map[string]map[string]any) []string {
					var out []string
					for k := range m {
						out = append(out, k)
					}
					sort.Strings(out)
					return out
				}
				t.Errorf("%s: drift's desired objects differ from flux build's (-flux +drift):\n%s\nflux: %q\ndrift: %q", row.idiom, diff, keys(want), keys(got))
			}
		})
	}
}

// fluxDiffLines parses `flux diff kustomization`'s "► Kind/ns/name action"
// lines into "Kind/ns/name action", and its "✗ Kind/ns/name dry-run failed:
// …" lines into "Kind/ns/name error", sorted.
func fluxDiffLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "► "); ok {
			lines = append(lines, rest)
		}
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "✗ "); ok {
			id, _, _ := strings.Cut(rest, " ")
			lines = append(lines, id+" error")
		}
	}
	sort.Strings(lines)
	return lines
}

// driftActions is drift's report in flux diff's words: modified is
// "drifted", missing "created", extraneous "deleted", an object the
// server refuses "error" (flux diff's "✗ … dry-run failed").
func driftActions(r report) []string {
	words := map[string]string{"modified": "drifted", "missing": "created", "extraneous": "deleted", "skipped": "skipped", "error": "error"}
	var out []string
	for _, o := range r.Objects {
		if o.Status == "unchanged" {
			continue
		}
		id := o.Kind + "/" + o.Name
		if o.Namespace != "" {
			id = o.Kind + "/" + o.Namespace + "/" + o.Name
		}
		w, ok := words[o.Status]
		if !ok {
			w = o.Status + ": " + o.Reason
		}
		out = append(out, id+" "+w)
	}
	sort.Strings(out)
	return out
}

// inventoryPatch is the status kustomize-controller writes after applying
// objs (each "group kind namespace name version"), as a merge patch.
func inventoryPatch(objs ...string) string {
	var entries []string
	for _, o := range objs {
		f := strings.Fields(o)
		group, kind, ns, name, v := f[0], f[1], f[2], f[3], f[4]
		if group == "core" {
			group = ""
		}
		entries = append(entries, fmt.Sprintf(`{"id":%q,"v":%q}`, ns+"_"+name+"_"+group+"_"+kind, v))
	}
	return `{"status":{"inventory":{"entries":[` + strings.Join(entries, ",") + `]}}}`
}

// TestFluxDiffDifferential: the fixture "shop" applied as kustomize-controller
// applies it (its labels, server-side apply as field manager
// kustomize-controller, the Kustomization's inventory), then changed by hand
// one way at a time; drift's drifted objects, in both modes, are exactly
// those the real `flux diff kustomization` reports ("► … drifted", created,
// deleted), except what flux diff cannot see: a field another manager added
// (its server-side dry-run apply keeps other managers' fields), which drift
// reports and the row names. Then every other Flux fixture (each row of
// fluxRows but the one kustomize-controller refuses) by the same rules,
// with the edits every fixture allows (fluxDiffFixture).
func TestFluxDiffDifferential(t *testing.T) {
	cp := controlplane.ForTest(t)
	bin := peertools.Require(t, peertools.Flux, "flux")
	t.Setenv("TMPDIR", t.TempDir())
	repos := fluxFixtureRepos(t, cp, bin)
	repo := repos["fluxdiff"]
	const ks, ns = "shop", "shop"
	ksFile := filepath.Join(repo.work, "clusters/staging/shop.yaml")
	dir := filepath.Join(repo.work, "shop/base")
	built, stderr, err := fluxCLI(t, cp, bin, "build", "kustomization", ks, "-n", "flux-system", "--path", dir, "--kustomization-file", ksFile, "--dry-run")
	if err != nil {
		t.Fatalf("flux build: %v\n%s", err, stderr)
	}
	// A ConfigMap the previous revision had: in the inventory, not in Git.
	stale := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-legacy, namespace: shop, labels: {kustomize.toolkit.fluxcd.io/name: shop, kustomize.toolkit.fluxcd.io/namespace: flux-system}}\ndata: {a: b}\n"
	kubectl(t, cp, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", "apply", "-f", "-")
	t.Cleanup(func() {
		if out, err := cp.Kubectl(context.Background(), "delete", "namespace", ns, "--wait=false").CombinedOutput(); err != nil {
			t.Logf("cleaning up: %v\n%s", err, out)
		}
	})
	kubectl(t, cp, inventoryPatch(
		"apps Deployment shop web v1", "core Service shop web v1", "core ConfigMap shop web-config v1",
		"core ConfigMap shop web-scripts v1", "core ConfigMap shop web-seed v1", "core ConfigMap shop web-legacy v1"),
		"patch", "-n", "flux-system", "kustomization", ks, "--subresource=status", "--type=merge", "--patch-file=/dev/stdin")

	apply := func(t *testing.T) {
		t.Helper()
		// Start each edit from what kustomize-controller left.
		cmd := cp.Kubectl(t.Context(), "delete", "--ignore-not-found", "-f", "-")
		cmd.Stdin = strings.NewReader(built + "\n---\n" + stale)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("deleting: %v\n%s", err, out)
		}
		kubectl(t, cp, built+"\n---\n"+stale, "apply", "--server-side", "--force-conflicts", "--field-manager=kustomize-controller", "-f", "-")
	}
	compareWithFlux := func(t *testing.T, fluxSays, extra []string, differs map[string]string) {
		t.Helper()
		out, stderr, err := fluxCLI(t, cp, bin, "diff", "kustomization", ks, "-n", "flux-system", "--path", dir, "--kustomization-file", ksFile)
		var ee *exec.ExitError
		if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 1) { // 1: changes found
			t.Fatalf("flux diff: %v\n%s\n%s", err, out, stderr)
		}
		want := fluxDiffLines(out)
		// What flux diff says is pinned too: a row cannot pass by both
		// tools seeing nothing.
		fluxSays = slices.Sorted(slices.Values(fluxSays))
		if diff := cmp.Diff(fluxSays, want); diff != "" {
			t.Errorf("flux diff reports (-expected +flux diff):\n%s\n%s", diff, out)
		}
		for i, line := range want {
			if d, ok := differs[line]; ok {
				want[i] = d
			}
		}
		want = append(want, extra...)
		sort.Strings(want)
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, "--flux-kustomization", "flux-system/"+ks, "--repo-override="+repo.override(), "--mode", mode, "-o", "json")
			s := parseSources(t, r)
			if len(s.Sources) != 1 || s.Sources[0].Report == nil {
				t.Fatalf("%s: exit %d, sources %v\nstderr: %s", mode, r.code, driftBySource(s), r.stderr)
			}
			got := driftActions(*s.Sources[0].Report)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: drifted objects (-flux diff +drift):\n%s\nflux diff said:\n%s\ndrift said:\n%s", mode, diff, out, strings.Join(drifted(*s.Sources[0].Report), "\n"))
			}
		}
	}

	// Every run: the stale object is pruned, the seeded one
	// (kustomize.toolkit.fluxcd.io/ssa: IfNotPresent) is left as it is.
	const stalePruned, seedSkipped = "ConfigMap/shop/web-legacy deleted", "ConfigMap/shop/web-seed skipped"
	edits := []struct {
		name string
		edit [][]string // kubectl commands
		// flux: what flux diff reports.
		flux []string
		// extra: what drift reports beyond flux diff, and why.
		extra []string
		// differs: what drift reports otherwise than flux diff, on
		// purpose, by flux diff's line.
		differs map[string]string
	}{
		{name: "as applied, a stale object pruned", flux: []string{stalePruned, seedSkipped}},
		{
			name: "a scaled replica count",
			edit: [][]string{{"scale", "-n", ns, "deployment/web", "--replicas=5"}},
			flux: []string{stalePruned, seedSkipped, "Deployment/shop/web drifted"},
		},
		{
			name: "an image",
			edit: [][]string{{"set", "image", "-n", ns, "deployment/web", "web=ghcr.io/stefanprodan/podinfo:6.6.0"}},
			flux: []string{stalePruned, seedSkipped, "Deployment/shop/web drifted"},
		},
		{
			name: "a removed label",
			edit: [][]string{{"label", "-n", ns, "service/web", "app.kubernetes.io/name-"}},
			flux: []string{stalePruned, seedSkipped, "Service/shop/web drifted"},
		},
		{
			name: "a deleted object",
			edit: [][]string{{"delete", "-n", ns, "configmap/web-scripts"}},
			flux: []string{"ConfigMap/shop/web-scripts created", stalePruned, seedSkipped},
		},
		{
			name: "an edited value",
			edit: [][]string{{"patch", "-n", ns, "configmap/web-config", "--type=merge", "-p", `{"data":{"ENVIRONMENT":"prod"}}`}},
			flux: []string{"ConfigMap/shop/web-config drifted", stalePruned, seedSkipped},
		},
		{
			name: "an added label (another manager's field: flux diff cannot see it)",
			edit: [][]string{{"label", "-n", ns, "configmap/web-config", "team=payments"}},
			flux: []string{stalePruned, seedSkipped},
			// flux diff's dry-run apply keeps kubectl-label's field:
			// merged equals live.
			extra: []string{"ConfigMap/shop/web-config drifted"},
		},
		{
			name:  "an added container env var (another manager's list item)",
			edit:  [][]string{{"set", "env", "-n", ns, "deployment/web", "-c", "web", "DEBUG=1"}},
			flux:  []string{stalePruned, seedSkipped},
			extra: []string{"Deployment/shop/web drifted"},
		},
		{
			// flux diff lists the inventory's stale objects without
			// reading them; kustomize-controller's garbage collection
			// (fluxcd/pkg/ssa Delete) skips one whose owner labels do not
			// match, and one annotated prune: disabled.
			name:    "a stale object whose owner label a person removed (flux diff says deleted, the controller skips it)",
			edit:    [][]string{{"label", "-n", ns, "configmap/web-legacy", "kustomize.toolkit.fluxcd.io/name-"}},
			flux:    []string{stalePruned, seedSkipped},
			differs: map[string]string{stalePruned: "ConfigMap/shop/web-legacy skipped"},
		},
		{
			name:    "a stale object annotated prune: disabled (flux diff says deleted, the controller skips it)",
			edit:    [][]string{{"annotate", "-n", ns, "configmap/web-legacy", "kustomize.toolkit.fluxcd.io/prune=disabled"}},
			flux:    []string{stalePruned, seedSkipped},
			differs: map[string]string{stalePruned: "ConfigMap/shop/web-legacy skipped"},
		},
		{
			name: "a seeded object (ssa: IfNotPresent) changed: not drift for Flux",
			edit: [][]string{{"patch", "-n", ns, "configmap/web-seed", "--type=merge", "-p", `{"data":{"admin-email":"oncall@example.org"}}`}},
			flux: []string{stalePruned, seedSkipped},
		},
		{
			name: "all of them at once",
			edit: [][]string{
				{"scale", "-n", ns, "deployment/web", "--replicas=5"},
				{"label", "-n", ns, "service/web", "app.kubernetes.io/name-"},
				{"delete", "-n", ns, "configmap/web-scripts"},
				{"label", "-n", ns, "configmap/web-config", "team=payments"},
			},
			flux:  []string{stalePruned, seedSkipped, "Deployment/shop/web drifted", "Service/shop/web drifted", "ConfigMap/shop/web-scripts created"},
			extra: []string{"ConfigMap/shop/web-config drifted"},
		},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			apply(t)
			for _, args := range e.edit {
				kubectl(t, cp, "", args...)
			}
			compareWithFlux(t, e.flux, e.extra, e.differs)
		})
	}

	// Every other Flux fixture, by the same rules, with the edits every
	// fixture has: none, a deleted object, an edited ConfigMap value.
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	// The shop edits' stale object would be found by its labels (drift
	// reads them, flux diff only the inventory; skipped where a fixture's
	// inventory does not list it, extraneous where it has none): not this
	// fixture's.
	kubectl(t, cp, "", "delete", "-n", ns, "configmap/web-legacy", "--ignore-not-found")
	for _, row := range fluxRows {
		if row.fluxErr != "" {
			// kustomize-controller refuses the path (flux build fails the
			// same way): nothing is applied, so there is nothing for flux
			// diff to compare; TestFluxBuildDifferential pins the refusal.
			continue
		}
		t.Run("fixture "+row.namespace()+"/"+row.name, func(t *testing.T) {
			t.Logf("idiom: %s", row.idiom)
			fluxDiffFixture(t, cp, client, bin, repos[row.repo], row)
		})
	}
}

// ifNotPresent tells whether kustomize-controller only creates o
// (kustomize.toolkit.fluxcd.io/ssa: IfNotPresent): flux diff and drift
// both say skipped once it exists.
func ifNotPresent(o map[string]any) bool {
	u := unstructured.Unstructured{Object: o}
	for _, m := range []map[string]string{u.GetAnnotations(), u.GetLabels()} {
		if strings.EqualFold(m["kustomize.toolkit.fluxcd.io/ssa"], "IfNotPresent") {
			return true
		}
	}
	return false
}

// diffID names o as flux diff's "► Kind/ns/name" lines do.
func diffID(o map[string]any) string {
	u := unstructured.Unstructured{Object: o}
	if u.GetNamespace() == "" {
		return u.GetKind() + "/" + u.GetName()
	}
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

// fluxDiffFixture applies row's Kustomization as kustomize-controller
// would (flux build's objects, server-side apply as kustomize-controller,
// the inventory), then: as applied, one object deleted, one ConfigMap value
// edited; each time drift's drifted objects in both modes equal flux
// diff's, and flux diff's equal what the edit makes them.
// row.rejected is left out of what is applied and of the inventory (the
// previous revision had none): flux diff's dry-run of it fails, drift's too.
func fluxDiffFixture(t *testing.T, cp *controlplane.ControlPlane, client *cluster.Client, bin string, repo fluxRepo, row fluxRow) {
	built, _ := fluxBuild(t, cp, bin, repo, row)
	if len(built) == 0 {
		t.Fatal("flux build printed no object: the row proves nothing")
	}
	dir, ksFile := fluxRowPaths(t, repo, row)
	keys := slices.Sorted(maps.Keys(built))
	var items, resettable, skipped []map[string]any
	var entries []string
	namespaces := map[string]bool{}
	for _, k := range keys {
		o := built[k]
		u := unstructured.Unstructured{Object: o}
		if diffID(o) == row.rejected {
			continue
		}
		items = append(items, o)
		if u.GetKind() != "Namespace" {
			// Namespaces are not deleted between edits: the control
			// plane's namespace finalizer would keep them terminating.
			resettable = append(resettable, o)
		}
		if ns := u.GetNamespace(); ns != "" {
			namespaces[ns] = true
		}
		if ifNotPresent(o) {
			skipped = append(skipped, o)
		}
		gv := u.GroupVersionKind()
		entries = append(entries, fmt.Sprintf(`{"id":%q,"v":%q}`, u.GetNamespace()+"_"+u.GetName()+"_"+gv.Group+"_"+gv.Kind, gv.Version))
	}
	list := func(objs []map[string]any) string {
		data, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": objs})
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	for ns := range namespaces {
		kubectl(t, cp, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", "apply", "-f", "-")
	}
	t.Cleanup(func() {
		cmd := cp.Kubectl(context.Background(), "delete", "--ignore-not-found", "--wait=false", "-f", "-")
		cmd.Stdin = strings.NewReader(list(resettable))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("cleaning up: %v\n%s", err, out)
		}
	})
	kubectl(t, cp, `{"status":{"inventory":{"entries":[`+strings.Join(entries, ",")+`]}}}`,
		"patch", "-n", row.namespace(), "kustomization", row.name, "--subresource=status", "--type=merge", "--patch-file=/dev/stdin")
	apply := func(t *testing.T) {
		t.Helper()
		cmd := cp.Kubectl(t.Context(), "delete", "--ignore-not-found", "-f", "-")
		cmd.Stdin = strings.NewReader(list(resettable))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("deleting: %v\n%s", err, out)
		}
		kubectl(t, cp, list(items), "apply", "--server-side", "--force-conflicts", "--field-manager=kustomize-controller", "-f", "-")
	}
	var base []string
	for _, o := range skipped {
		base = append(base, diffID(o)+" skipped")
	}
	compare := func(t *testing.T, fluxSays []string) {
		t.Helper()
		args := []string{"diff", "kustomization", row.name, "-n", row.namespace(), "--path", dir, "--kustomization-file", ksFile}
		if row.ignore != "" {
			args = append(args, "--ignore-paths", row.ignore)
		}
		out, stderr, err := fluxCLI(t, cp, bin, args...)
		var ee *exec.ExitError
		// 1: changes found; 2: an object's dry-run failed.
		if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 1 && (ee.ExitCode() != 2 || row.rejected == "")) {
			t.Fatalf("flux diff: %v\n%s\n%s", err, out, stderr)
		}
		if row.rejected != "" {
			fluxSays = append(slices.Clone(fluxSays), row.rejected+" error")
		}
		// Its "✗ … dry-run failed" lines are on stderr.
		want := fluxDiffLines(out + "\n" + stderr)
		if diff := cmp.Diff(slices.Sorted(slices.Values(fluxSays)), want); diff != "" {
			t.Errorf("flux diff reports (-expected +flux diff):\n%s\n%s%s", diff, out, stderr)
		}
		for _, mode := range []string{"server", "local"} {
			args := []string{"--flux-kustomization", row.namespace() + "/" + row.name, "--mode", mode, "-o", "json"}
			for _, o := range repo.overrideArgs() {
				args = append(args, "--repo-override="+o)
			}
			r := runDrift(t, cp, args...)
			s := parseSources(t, r)
			if len(s.Sources) != 1 || s.Sources[0].Report == nil {
				t.Fatalf("%s: exit %d, sources %v\nstderr: %s", mode, r.code, driftBySource(s), r.stderr)
			}
			// Objects that only carry this Kustomization's labels (another
			// test's on the shared control plane may: TestAcceptance labels
			// its Namespace flux-system/apps) are skipped by drift, the
			// inventory not listing them, and never read by flux diff: the
			// documented difference ("Where we differ"), not this fixture's.
			rep := *s.Sources[0].Report
			rep.Objects = slices.DeleteFunc(slices.Clone(rep.Objects), func(o object) bool {
				return o.Status == "skipped" && strings.Contains(o.Reason, "its inventory does not list it")
			})
			if diff := cmp.Diff(want, driftActions(rep)); diff != "" {
				t.Errorf("%s: drifted objects (-flux diff +drift):\n%s\nflux diff said:\n%s\ndrift said:\n%s", mode, diff, out, strings.Join(drifted(*s.Sources[0].Report), "\n"))
			}
		}
	}

	t.Run("as applied", func(t *testing.T) {
		apply(t)
		compare(t, base)
	})
	var victim, configMap map[string]any
	for _, o := range resettable {
		if ifNotPresent(o) {
			continue
		}
		if victim == nil {
			victim = o
		}
		if data, _, _ := unstructured.NestedStringMap(o, "data"); configMap == nil && o["kind"] == "ConfigMap" && len(data) > 0 {
			configMap = o
		}
	}
	if victim != nil {
		t.Run("a deleted object", func(t *testing.T) {
			apply(t)
			u := unstructured.Unstructured{Object: victim}
			args := []string{"delete", strings.ToLower(u.GetKind()) + "." + u.GroupVersionKind().Group, u.GetName()}
			if u.GroupVersionKind().Group == "" {
				args[1] = strings.ToLower(u.GetKind())
			}
			if ns := u.GetNamespace(); ns != "" {
				args = append(args, "-n", ns)
			}
			kubectl(t, cp, "", args...)
			compare(t, append(slices.Clone(base), diffID(victim)+" created"))
		})
	}
	if configMap != nil {
		t.Run("an edited ConfigMap", func(t *testing.T) {
			apply(t)
			// Every key: one may be under the Kustomization's spec.ignore.
			data, _, _ := unstructured.NestedStringMap(configMap, "data")
			for k, v := range data {
				data[k] = v + "-edited-by-hand"
			}
			patch, err := json.Marshal(map[string]any{"data": data})
			if err != nil {
				t.Fatal(err)
			}
			u := unstructured.Unstructured{Object: configMap}
			kubectl(t, cp, "", "patch", "-n", u.GetNamespace(), "configmap/"+u.GetName(), "--type=merge", "-p", string(patch))
			compare(t, append(slices.Clone(base), diffID(configMap)+" drifted"))
		})
	} else {
		t.Logf("no ConfigMap with data: no edit of one for %s", row.name)
	}
}

// fluxRowPaths returns the directory flux reads for row (its
// Kustomization's spec.path in the checkout) and the Kustomization's file.
func fluxRowPaths(t *testing.T, repo fluxRepo, row fluxRow) (string, string) {
	t.Helper()
	ksFile := filepath.Join(repo.work, row.file)
	data, err := os.ReadFile(ksFile)
	if err != nil {
		t.Fatal(err)
	}
	var path string
	for _, doc := range readYAMLObjects(t, string(data)) {
		if u := (unstructured.Unstructured{Object: doc}); u.GetKind() == "Kustomization" && u.GetName() == row.name {
			path, _, _ = unstructured.NestedString(doc, "spec", "path")
		}
	}
	if path == "" {
		t.Fatalf("%s: no Kustomization %s with a path", row.file, row.name)
	}
	if row.dir != "" {
		path = row.dir
	}
	return filepath.Join(repo.work, filepath.FromSlash(path)), ksFile
}

// artifactDiffRepos adds TestFluxArtifacts' repositories to repos: its
// fleet (GitRepository, ArtifactGenerator, ExternalArtifacts,
// Kustomizations, moved to artifactDiffNS) and the repository the fleet's
// GitRepository includes. Their Kustomizations are also written to
// clusters/fd.yaml in both checkouts, after the commit, for flux's
// --kustomization-file.
func artifactDiffRepos(t *testing.T, cp *controlplane.ControlPlane, base string, repos map[string]fluxRepo) {
	t.Helper()
	fleet := newFluxRepo(t, base, "fd-fleet", filepath.Join(artifactFixtures, "repo"), nil)
	shared := newFluxRepo(t, base, "fd-shared", filepath.Join(artifactFixtures, "shared"), nil)
	overrides := []string{
		"https://git.example.com/org/fleet.git=file://" + fleet.bare,
		"https://git.example.com/org/shared.git=file://" + shared.bare,
	}
	crd, err := os.ReadFile(filepath.Join(artifactFixtures, "crds/source.extensions.fluxcd.io_artifactgenerators.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, cp, string(crd), "apply", "--server-side", "-f", "-")
	kubectl(t, cp, "", "wait", "--for=condition=Established", "--timeout=60s", "crd/artifactgenerators.source.extensions.fluxcd.io")
	kubectl(t, cp, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+artifactDiffNS+"}\n", "apply", "-f", "-")
	var docs []string
	for _, f := range []string{"artifacts.yaml", "apps.yaml", "infrastructure.yaml"} {
		data, err := os.ReadFile(filepath.Join(artifactFixtures, "repo/clusters/staging", f))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(data))
	}
	all := strings.ReplaceAll(strings.Join(docs, "\n---\n")+"\n---\n"+artifactFlux, "ag-flux", artifactDiffNS)
	var sources, kustomizations []string
	for _, doc := range strings.Split(all, "\n---\n") {
		if strings.Contains(doc, "kind: Kustomization\n") {
			kustomizations = append(kustomizations, doc)
		} else if strings.TrimSpace(strings.Trim(doc, "-\n")) != "" {
			sources = append(sources, doc)
		}
	}
	ks := strings.Join(kustomizations, "\n---\n")
	for _, r := range []*fluxRepo{&fleet, &shared} {
		if err := os.MkdirAll(filepath.Join(r.work, "clusters"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.work, "clusters/fd.yaml"), []byte(ks), 0o644); err != nil {
			t.Fatal(err)
		}
		r.overrides = overrides
	}
	// The sources go with the fleet; the shared repository has none of
	// its own (its GitRepository is among them).
	fleet.source = strings.Join(sources, "\n---\n")
	shared.name = ""
	repos["artifacts"], repos["ag-shared"] = fleet, shared
}
