package repo

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolint"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

var nsResource = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, controlplane.Options{CRDs: true}))
}

type runResult struct {
	code           int
	stdout, stderr string
}

// runRepo runs the repo command in-process; kubeconfig may be "".
func runRepo(t *testing.T, kubeconfig string, args ...string) runResult {
	t.Helper()
	r := clitest.Run(t, NewCmd, clitest.Options{Binary: "kubectl-gitops-repo", Kubeconfig: kubeconfig}, args...)
	return runResult{r.Code, r.Stdout, r.Stderr}
}

func (r runResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// object is one object of a skeleton and where it was read.
type object struct {
	obj  *unstructured.Unstructured
	from string
}

// skeletonObjects builds every kustomization of dir and reads the plain
// manifests of directories without one (Flux's clusters/<env>), once each.
func skeletonObjects(t *testing.T, dir string) []object {
	t.Helper()
	var out []object
	seen := map[string]bool{}
	addSet := func(from string, set *manifest.Set) {
		for _, o := range set.Objects {
			data, _ := json.Marshal(o.Obj.Object)
			if seen[string(data)] {
				continue
			}
			seen[string(data)] = true
			out = append(out, object{o.Obj, from})
		}
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".gitops" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "kustomization.yaml")); err == nil {
				set, err := manifest.Load(t.Context(), manifest.Options{Kustomize: p})
				if err != nil {
					t.Errorf("kustomize build %s: %v", p, err)
					return nil
				}
				addSet(p, set)
			} else if rel, _ := filepath.Rel(dir, p); strings.HasPrefix(rel, "clusters"+string(filepath.Separator)) {
				set, err := manifest.Load(t.Context(), manifest.Options{Filenames: []string{p}})
				if err != nil {
					t.Errorf("reading %s: %v", p, err)
					return nil
				}
				addSet(p, set)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ensureNamespaces creates namespaces for real (dry runs of namespaced
// objects need them); existing ones are fine.
func ensureNamespaces(t *testing.T, dyn dynamic.Interface, names ...string) {
	t.Helper()
	for _, n := range names {
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": n}}}
		_, err := dyn.Resource(nsResource).Create(t.Context(), ns, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating namespace %s: %v", n, err)
		}
	}
}

// For each operator and layout, what init writes builds with kustomize
// and is accepted by the real API server and the pinned Argo CD and Flux
// CRDs: server-side apply dry run with strict field validation, so an
// unknown or misspelt field fails instead of being dropped. Namespaces are
// created for real first.
func TestInitAcceptedByServer(t *testing.T) {
	cp := controlplane.ForTest(t)
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cp.RESTConfig())
	ensureNamespaces(t, dyn, "argocd", "flux-system")
	for _, tt := range []struct {
		args  []string
		kinds []string
	}{
		{[]string{"--operator", "argocd", "--layout", "mono"}, []string{"Application", "AppProject", "Namespace", "Deployment", "Service"}},
		{[]string{"--operator", "argocd", "--layout", "per-team", "--env-strategy", "branches"}, []string{"Application", "AppProject", "Namespace", "Deployment", "Service"}},
		{[]string{"--operator", "flux", "--layout", "mono"}, []string{"GitRepository", "Kustomization", "Namespace", "Deployment", "Service"}},
		{[]string{"--operator", "flux", "--layout", "per-team", "--apps", "payments/api,payments/ledger,search/web"}, []string{"GitRepository", "Kustomization", "Namespace", "Deployment", "Service"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			if r := runRepo(t, "", append([]string{"init", "--dir", dir}, tt.args...)...); r.code != 0 {
				t.Fatal(r)
			}
			objs := skeletonObjects(t, dir)
			// Namespaces first, for real.
			for _, o := range objs {
				if o.obj.GetKind() == "Namespace" {
					ensureNamespaces(t, dyn, o.obj.GetName())
				}
			}
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.obj.GetKind()]++
				m, err := client.Mapping(t.Context(), o.obj.GroupVersionKind())
				if err != nil {
					t.Errorf("%s (%s): %v", o.obj.GetKind(), o.from, err)
					continue
				}
				data, err := json.Marshal(o.obj.Object)
				if err != nil {
					t.Fatal(err)
				}
				var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
				if m.Scope.Name() == meta.RESTScopeNameNamespace {
					ns := o.obj.GetNamespace()
					if ns == "" {
						ns = "default" // a base, as kubectl apply -k would send it
					}
					ri = dyn.Resource(m.Resource).Namespace(ns)
				}
				_, err = ri.Patch(t.Context(), o.obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
					FieldManager: FieldManager, DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict",
				})
				if err != nil {
					t.Errorf("%s %s/%s (from %s) rejected: %v", o.obj.GetKind(), o.obj.GetNamespace(), o.obj.GetName(), o.from, err)
				}
			}
			for _, k := range tt.kinds {
				if kinds[k] == 0 {
					t.Errorf("no %s generated (got %v)", k, kinds)
				}
			}
			// The same through lint: every object dry-run, nothing found.
			r := runRepo(t, cp.Kubeconfig, "lint", dir)
			if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "0 error(s), 0 warning(s)") || !strings.Contains(r.stderr, "dry-run on the server") {
				t.Errorf("lint --kubeconfig: %s", r)
			}
		})
	}
}

// lint against the server finds what only the server sees (an Application
// without its required project) besides every offline finding; the example
// repository is clean there too.
func TestLintAgainstServer(t *testing.T) {
	cp := controlplane.ForTest(t)
	dyn := dynamic.NewForConfigOrDie(cp.RESTConfig())
	ensureNamespaces(t, dyn, "argocd", "flux-system", "web-dev", "web-prod", "worker-dev", "debug", "shop-dev", "shop-staging", "shop-prod")

	r := runRepo(t, cp.Kubeconfig, "lint", "../../examples/broken-repo", "-o", "json")
	if r.code != 1 {
		t.Fatalf("broken-repo: %s", r)
	}
	var rep repolint.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s", f.Location(), f.Rule))
	}
	offline := runRepo(t, "", "lint", "../../examples/broken-repo", "-o", "json")
	var offRep repolint.Report
	if err := json.Unmarshal([]byte(offline.stdout), &offRep); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range offRep.Findings {
		want = append(want, fmt.Sprintf("%s %s", f.Location(), f.Rule))
	}
	want = append(want, "argocd/apps/dev/worker.yaml:1 dry-run")
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings against the server (-want +got):\n%s\n%s", diff, r.stdout)
	}
	for _, f := range rep.Findings {
		if f.Rule == repolint.RuleDryRun && !strings.Contains(f.Message, "spec.project") {
			t.Errorf("dry-run finding without the reason: %s", f.Message)
		}
	}
	if rep.DryRun == 0 {
		t.Error("nothing was dry-run")
	}

	r = runRepo(t, cp.Kubeconfig, "lint", "../../examples/gitops-repo")
	if r.code != 0 || !onlyNotes(r.stdout) {
		t.Errorf("gitops-repo: %s", r)
	}
}

func gitEnv(t *testing.T) {
	t.Setenv("GIT_AUTHOR_NAME", "test")
	t.Setenv("GIT_AUTHOR_EMAIL", "test@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "test")
	t.Setenv("GIT_COMMITTER_EMAIL", "test@example.com")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
}

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir, "-c", "init.defaultBranch=main"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestInitCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gitops")
	r := runRepo(t, "", "init", "--operator", "flux", "--dir", dir, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "created "+filepath.Join(dir, "clusters/dev/apps.yaml")+" (dry run)") {
		t.Fatalf("dry run: %s", r)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("--dry-run created the directory")
	}
	r = runRepo(t, "", "init", "--operator", "flux", "--dir", dir)
	if r.code != 0 || strings.Count(r.stdout, "created ") < 30 {
		t.Fatalf("first run: %s", r)
	}
	r = runRepo(t, "", "init", "--operator", "flux", "--dir", dir)
	if r.code != 0 || !strings.HasSuffix(r.stdout, "is up to date: nothing to write (39 files)\n") || strings.Contains(r.stdout, "created") {
		t.Errorf("second run: %s", r)
	}
	// A hand edit is refused with exit 2, and nothing else is written.
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("ours\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ".sops.yaml")); err != nil {
		t.Fatal(err)
	}
	r = runRepo(t, "", "init", "--operator", "flux", "--dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "refusing to overwrite 1 changed file(s) (use --force): README.md") {
		t.Errorf("edited file: %s", r)
	}
	if _, err := os.Stat(filepath.Join(dir, ".sops.yaml")); err == nil {
		t.Error("a refused run wrote .sops.yaml")
	}
	r = runRepo(t, "", "init", "--operator", "flux", "--dir", dir, "--force")
	if r.code != 0 || !strings.Contains(r.stdout, "overwrote "+readme) || !strings.Contains(r.stdout, "created "+filepath.Join(dir, ".sops.yaml")) {
		t.Errorf("--force: %s", r)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"init"}, "error: --operator: required: argocd or flux"},
		{[]string{"init", "--operator", "flux", "--envs", "Dev"}, `--envs: invalid environment name "Dev"`},
		{[]string{"init", "--operator", "flux", "--apps", "team/web"}, "--apps: application \"team/web\": TEAM/NAME is for the per-team layout"},
		{[]string{"init", "--operator", "flux", "--git"}, "--git is for --env-strategy branches"},
		{[]string{"init", "--operator", "flux", "--repo-url", "git@github.com:a/b.git"}, "--repo-url:"},
		{[]string{"init", "extra"}, `unknown command "ex…"`},
	} {
		r := runRepo(t, "", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "See 'kubectl gitops repo init --help'") {
			t.Errorf("%v: %s", tt.args, r)
		}
	}
}

// With the branches strategy init says which branches to create, and
// creates them with --git once the skeleton is committed.
func TestInitBranches(t *testing.T) {
	gitEnv(t)
	dir := t.TempDir()
	runGit(t, dir, "init", "-q")
	args := []string{"init", "--operator", "argocd", "--env-strategy", "branches", "--envs", "dev,prod", "--dir", dir}
	r := runRepo(t, "", args...)
	if r.code != 0 || !strings.Contains(r.stdout, "create env/dev, env/prod from main") {
		t.Fatalf("init: %s", r)
	}
	r = runRepo(t, "", args...)
	if r.code != 0 || !strings.Contains(r.stdout, "is up to date") {
		t.Fatalf("second run: %s", r)
	}
	// Nothing written this time, but not committed either.
	r = runRepo(t, "", append(args, "--git")...)
	if r.code != 2 || !strings.Contains(r.stderr, "uncommitted changes") {
		t.Errorf("--git before commit: %s", r)
	}
	runGit(t, dir, "add", "-A")
	runGit(t, dir, "commit", "-q", "-m", "skeleton")
	r = runRepo(t, "", append(args, "--git")...)
	if r.code != 0 || !strings.Contains(r.stdout, "created branch env/dev\ncreated branch env/prod\n") {
		t.Fatalf("--git: %s", r)
	}
	if got := runGit(t, dir, "branch", "--list", "env/*", "--format=%(refname:short)"); got != "env/dev\nenv/prod\n" {
		t.Errorf("branches: %q", got)
	}
	r = runRepo(t, "", append(args, "--git")...)
	if r.code != 0 || !strings.Contains(r.stdout, "branch env/dev exists") {
		t.Errorf("--git again: %s", r)
	}
}

// onlyNotes says the text output has only notes: examples/gitops-repo's
// HelmRelease takes its chart from a chart repository, so its values are
// noted as not checked against the chart's schema.
func onlyNotes(stdout string) bool {
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if line != "" && !strings.Contains(line, ": info: ") {
			return false
		}
	}
	return strings.Contains(stdout, "[helm-values-not-checked]")
}

func TestLintCLI(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull) // offline: no --context, no --kubeconfig
	r := runRepo(t, "", "lint", "../../examples/broken-repo")
	if r.code != 1 || r.stderr != "11 error(s), 1 warning(s), 3 excluded (13 kustomizations and 10 objects checked)\n" {
		t.Errorf("broken-repo: %s", r)
	}
	golden.CheckString(t, "testdata/lint-broken-repo.golden", r.stdout)

	r = runRepo(t, "", "lint", "../../examples/broken-repo", "-o", "json")
	var rep repolint.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 1 || err != nil || len(rep.Findings) != 12 || rep.Excluded != 3 {
		t.Errorf("-o json: %v %s", err, r)
	}

	r = runRepo(t, "", "lint", "../../examples/gitops-repo")
	if r.code != 0 || !onlyNotes(r.stdout) || !strings.Contains(r.stderr, "0 error(s), 0 warning(s), 1 note(s)") {
		t.Errorf("gitops-repo: %s", r)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"lint", "-o", "yaml"}, `unable to match a printer suitable for the output format "ya…", allowed formats are: json,markdown,sarif,text`},
		{[]string{"lint", "/nonexistent"}, "PATH /nonexistent: no such file or directory"},
		{[]string{"lint", "a", "b"}, "accepts at most 1 arg(s)"},
		{[]string{"graph", "-o", "pdf"}, `unable to match a printer suitable for the output format "p…", allowed formats are: dot,png,svg,text`},
		{[]string{"lint", "../../examples/gitops-repo", "--kubeconfig", os.DevNull, "--server", "https://127.0.0.1:1"}, "The connection to the server 127.0.0.1:1 was refused"},
	} {
		r := runRepo(t, "", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: %s", tt.args, r)
		}
	}
}

// Inside a git work tree lint reads the files git lists: an ignored
// plaintext Secret never reaches Git and is not reported.
func TestLintRespectsGitignore(t *testing.T) {
	gitEnv(t)
	dir := t.TempDir()
	runGit(t, dir, "init", "-q")
	if r := runRepo(t, "", "init", "--operator", "flux", "--dir", dir); r.code != 0 {
		t.Fatal(r)
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: local\nstringData:\n  token: dev-only\n"
	if err := os.WriteFile(filepath.Join(dir, "envs", "dev", "local-secret.yaml"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("local-secret.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runRepo(t, "", "lint", dir); r.code != 0 {
		t.Errorf("ignored secret reported: %s", r)
	}
	if err := os.Remove(filepath.Join(dir, ".gitignore")); err != nil {
		t.Fatal(err)
	}
	r := runRepo(t, "", "lint", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "envs/dev/local-secret.yaml:6: error:") || strings.Contains(r.stdout, "dev-only") {
		t.Errorf("secret not reported: %s", r)
	}
}

func TestGraphCLI(t *testing.T) {
	dir := t.TempDir()
	if r := runRepo(t, "", "init", "--operator", "argocd", "--envs", "dev", "--apps", "web", "--dir", dir); r.code != 0 {
		t.Fatal(r)
	}
	r := runRepo(t, "", "graph", dir)
	want := `argocd/bootstrap/dev/
└── Application argocd/root-dev → argocd/apps/dev @main
    ├── Application argocd/infrastructure-dev → infrastructure/dev [wave -1]
    ├── Application argocd/tenants-dev → tenants [wave -1]
    └── Application argocd/web-dev → envs/dev/web
`
	if r.code != 0 || r.stdout != want {
		t.Errorf("graph: %s\nwant:\n%s", r, want)
	}
	r = runRepo(t, "", "graph", dir, "-o", "dot")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "digraph gitops {\n") || !strings.Contains(r.stdout, "n4 -> n1;") {
		t.Errorf("graph -o dot: %s", r)
	}
	// An Application of another repository (per .gitops/lint.yaml) is not followed.
	if err := os.WriteFile(filepath.Join(dir, ".gitops", "lint.yaml"), []byte("repoURLs: [https://github.com/acme/other.git]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runRepo(t, "", "graph", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "https://github.com/example/gitops.git//argocd/apps/dev (external)") {
		t.Errorf("graph with another repoURL: %s", r)
	}
}

func TestHelp(t *testing.T) {
	r := runRepo(t, "", "--help")
	for _, w := range []string{`Use "kubectl gitops repo <command> --help"`, "init", "lint", "graph"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("help lacks %q:\n%s", w, r.stdout)
		}
	}
	r = runRepo(t, "", "lint", "--help")
	for _, id := range []string{"missing-app", "unpinned-image", "dry-run", "plaintext-secret", "Exit codes: 0"} {
		if !strings.Contains(r.stdout, id) {
			t.Errorf("lint help lacks %q", id)
		}
	}
}

// TestGraphAndLintRedactRepoURLs: repository files are untrusted; an
// Application or GitRepository URL carrying a password or a token is shown
// through gitrepo.RedactURL by every -o of graph and lint.
func TestGraphAndLintRedactRepoURLs(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	dir := t.TempDir()
	if r := runRepo(t, "", "init", "--operator", "argocd", "--envs", "dev", "--apps", "web", "--dir", dir); r.code != 0 {
		t.Fatal(r)
	}
	if err := os.WriteFile(filepath.Join(dir, ".gitops", "lint.yaml"), []byte("repoURLs: [https://github.com/example/gitops.git]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	app := func(name, url string) string {
		return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `, namespace: argocd}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: web}
  source: {repoURL: "` + url + `", path: deploy, targetRevision: main}
`
	}
	files := app("password", "https://bob:"+canary+"@git.example/other.git") + "---\n" +
		app("query", "https://git.example/other.git?private_token="+canary) + `---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: other, namespace: flux-system}
spec: {interval: 5m, url: "https://flux:` + canary + `@git.example/flux.git", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: other, namespace: flux-system}
spec: {interval: 5m, path: ./deploy, prune: true, sourceRef: {kind: GitRepository, name: other}}
`
	if err := os.WriteFile(filepath.Join(dir, "argocd", "apps", "dev", "other.yaml"), []byte(files), 0o644); err != nil {
		t.Fatal(err)
	}
	var shown bool
	for _, args := range [][]string{
		{"graph", dir}, {"graph", dir, "-o", "dot"}, {"graph", dir, "-o", "svg"},
		{"lint", dir}, {"lint", dir, "-o", "json"}, {"lint", dir, "-o", "sarif"}, {"lint", dir, "-o", "markdown"},
	} {
		r := runRepo(t, "", args...)
		if r.code == 2 {
			t.Errorf("%v: exit 2: %s", args, r)
		}
		if strings.Contains(r.stdout+r.stderr, canary) {
			t.Errorf("%v: the secret is shown: %s", args, r)
		}
		shown = shown || strings.Contains(r.stdout, "https://git.example/other.git?private_token=***")
	}
	if !shown {
		t.Error("no output names the redacted URL")
	}
}
