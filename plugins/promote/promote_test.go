package promote

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

func TestMain(m *testing.M) {
	jsonneteval.Worker()
	// Git in this process (the engine's) runs with the user's configuration
	// shut out, as test/gitea's helpers do.
	for _, kv := range gitea.GitEnv() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") {
			_ = os.Setenv(k, v)
		}
	}
	// Without kube-controller-manager, the Deployment status a test writes
	// stays as written: the test plays the role of the kubelet and the
	// deployment controller.
	os.Exit(controlplane.RunTests(m, controlplane.Options{CRDs: true}))
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// promote runs the plugin in-process in dir.
func promote(t *testing.T, kubeconfig, dir string, args ...string) result {
	t.Helper()
	r := clitest.Run(t, NewCmd, clitest.Options{Binary: "kubectl-gitops-promote", Kubeconfig: kubeconfig}, append([]string{"-C", dir}, args...)...)
	return result{r.Code, r.Stdout, r.Stderr}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return gitea.Git(t, dir, args...)
}

// copyTree copies the example repository.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// exampleRepo makes a checkout of examples/gitops-repo pushed to remote;
// edit may change the files before the first commit.
func exampleRepo(t *testing.T, remote string, edit func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "work")
	copyTree(t, filepath.Join("..", "..", "examples", "gitops-repo"), dir)
	if edit != nil {
		edit(dir)
	}
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "shop: dev, staging, prod")
	git(t, dir, "remote", "add", "origin", remote)
	git(t, dir, "push", "-q", "origin", "main")
	git(t, dir, "branch", "-q", "--set-upstream-to=origin/main")
	return dir
}

// remoteFile reads a file on the remote's main branch.
func remoteFile(t *testing.T, dir, file string) string {
	t.Helper()
	git(t, dir, "fetch", "-q", "origin")
	return git(t, dir, "show", "origin/main:"+file)
}

// deploy applies an environment's kustomize build at the checkout's HEAD,
// as Flux's kustomize-controller would.
func deploy(t *testing.T, cp *controlplane.ControlPlane, dir, env string) {
	t.Helper()
	git(t, dir, "pull", "-q", "--ff-only")
	set, err := manifest.Load(t.Context(), manifest.Options{Kustomize: filepath.Join(dir, "envs", env)})
	if err != nil {
		t.Fatal(err)
	}
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	// One Kustomization per test's environment: tests share the control
	// plane, and the same name would make another test's objects this
	// one's extraneous leftovers.
	kustomization := fmt.Sprintf("%s-%08x", env, crc32.ChecksumIEEE([]byte(dir)))
	for _, o := range set.Objects {
		// kustomize-controller's owner labels, which Git does not hold:
		// the drift gate must read them as the operator's, not as drift.
		labels := o.Obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels["kustomize.toolkit.fluxcd.io/name"], labels["kustomize.toolkit.fluxcd.io/namespace"] = kustomization, "flux-system"
		o.Obj.SetLabels(labels)
		m, err := client.Mapping(t.Context(), o.Obj.GroupVersionKind())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Apply(t.Context(), m, o.Obj, cluster.ApplyOptions{FieldManager: "kustomize-controller", Force: true}); err != nil {
			t.Fatalf("applying %s %s: %v", o.Obj.GetKind(), o.Obj.GetName(), err)
		}
	}
}

var deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

// rollout writes a Deployment's status as the deployment controller would:
// updated of its replicas rolled out, available since since.
func rollout(t *testing.T, cp *controlplane.ControlPlane, ns, name string, updated int64, since time.Time) {
	t.Helper()
	dc := dynamic.NewForConfigOrDie(cp.RESTConfig())
	d, err := dc.Resource(deployments).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	replicas, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	ts := since.UTC().Format(time.RFC3339)
	status := map[string]any{
		"observedGeneration": d.GetGeneration(),
		"replicas":           replicas, "updatedReplicas": updated, "readyReplicas": updated, "availableReplicas": updated,
		"conditions": []any{
			map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "lastTransitionTime": ts, "lastUpdateTime": ts},
			map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "lastTransitionTime": ts, "lastUpdateTime": ts},
		},
	}
	if updated < replicas {
		status["conditions"].([]any)[1].(map[string]any)["reason"] = "ReplicaSetUpdated"
	}
	d.Object["status"] = status
	if _, err := dc.Resource(deployments).Namespace(ns).UpdateStatus(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func trailers(t *testing.T, dir, rev string) string {
	t.Helper()
	return git(t, dir, "log", "-1", "--format=%s%n%(trailers:only,unfold)", rev)
}

// TestPromoteEndToEnd is the acceptance run, on the real control
// plane, real git and a real Gitea: dev runs its version healthy → promote to
// staging commits and pushes; dev unhealthy or drifted → refused with the
// reason and nothing pushed; to prod → a pull request on Gitea after the
// soak; history and rollback.
func TestPromoteEndToEnd(t *testing.T) {
	cp := controlplane.ForTest(t)
	kubeconfig := cp.Kubeconfig
	forge := gitea.Start(t)
	cloneURL, _ := forge.CreateRepo(t, "shop")
	t.Setenv("GITEA_TOKEN", forge.Token)
	dir := exampleRepo(t, cloneURL, func(dir string) {
		p := filepath.Join(dir, ".gitops", "pipeline.yaml")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.Replace(data, []byte("branch: main\n"), fmt.Appendf(nil, "branch: main\nforge:\n  type: gitea\n  url: %s\n", forge.URL), 1)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	})

	deploy(t, cp, dir, "dev")
	rollout(t, cp, "shop-dev", "web", 2, time.Now().Add(-time.Hour))
	rollout(t, cp, "shop-dev", "worker", 0, time.Now())

	// Git only.
	r := promote(t, "", dir, "status", "--no-live", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"sourceVersion": "1.5.0"`) {
		t.Fatalf("status: %s", r)
	}

	// dev runs web 1.5.0, healthy: staging gets it.
	r = promote(t, kubeconfig, dir, "web", "--to", "staging")
	if r.code != 0 {
		t.Fatalf("promote web --to staging: %s", r)
	}
	if got := remoteFile(t, dir, "envs/staging/kustomization.yaml"); !strings.Contains(got, `newTag: "1.5.0" # promoted from the previous environment`) {
		t.Fatalf("staging not promoted, comment lost?\n%s", got)
	}
	tr := trailers(t, dir, "origin/main")
	for _, want := range []string{"promote(staging): web 1.4.2 → 1.5.0", "Promoted-App: web", "Promoted-From: dev", "Promoted-To: staging",
		"Promoted-Version: 1.5.0", "Source-Commit: ", "Verified-Health: Deployment shop-dev/web runs 1.5.0, healthy", "drift"} {
		if want == "drift" {
			if !strings.Contains(r.stdout, "✓ drift web in dev: in sync with Git") {
				t.Errorf("drift gate not reported as passed:\n%s", r.stdout)
			}
			continue
		}
		if !strings.Contains(tr, want) {
			t.Errorf("commit lacks %q:\n%s", want, tr)
		}
	}

	// The worker in dev is not rolled out: refused, nothing pushed.
	tip := git(t, dir, "rev-parse", "origin/main")
	r = promote(t, kubeconfig, dir, "worker", "--to", "staging")
	if r.code != 1 || !strings.Contains(r.stderr, "is not healthy") || !strings.Contains(r.stdout, "✗ health worker in dev") {
		t.Fatalf("unhealthy source not refused: %s", r)
	}
	git(t, dir, "fetch", "-q", "origin")
	if got := git(t, dir, "rev-parse", "origin/main"); got != tip {
		t.Fatalf("a refused promotion pushed %s", got)
	}

	// Healthy but drifted (someone scaled it by hand): refused unless --allow-drift.
	rollout(t, cp, "shop-dev", "worker", 1, time.Now().Add(-time.Hour))
	kubectl(t, cp, "-n", "shop-dev", "scale", "deployment/worker", "--replicas=3")
	rollout(t, cp, "shop-dev", "worker", 3, time.Now().Add(-time.Hour))
	r = promote(t, kubeconfig, dir, "worker", "--to", "staging")
	if r.code != 1 || !strings.Contains(r.stderr, "drift from Git") || !strings.Contains(r.stderr, "Deployment shop-dev/worker modified") {
		t.Fatalf("drifted source not refused: %s", r)
	}
	r = promote(t, kubeconfig, dir, "worker", "--to", "staging", "--allow-drift")
	if r.code != 0 || !strings.Contains(trailers(t, dir, "origin/main"), "Promoted-Version: 0.9.1") {
		t.Fatalf("--allow-drift: %s", r)
	}

	// staging runs web 1.5.0 now, healthy for a minute only: prod's 10m soak refuses.
	deploy(t, cp, dir, "staging")
	rollout(t, cp, "shop-staging", "web", 2, time.Now().Add(-time.Minute))
	r = promote(t, kubeconfig, dir, "web", "--to", "prod")
	if r.code != 1 || !strings.Contains(r.stdout, "✗ soak web in staging") {
		t.Fatalf("soak not enforced: %s", r)
	}
	// Soaked: a pull request on the forge, main untouched.
	rollout(t, cp, "shop-staging", "web", 2, time.Now().Add(-time.Hour))
	tip = git(t, dir, "rev-parse", "origin/main")
	r = promote(t, kubeconfig, dir, "web", "--to", "prod")
	if r.code != 0 || !strings.Contains(r.stdout, "Opened pull request #1: ") {
		t.Fatalf("promote --to prod: %s", r)
	}
	var pulls []struct {
		Title string `json:"title"`
		Head  struct {
			Ref string `json:"ref"`
		} `json:"head"`
		Base struct {
			Ref string `json:"ref"`
		} `json:"base"`
	}
	forge.API(t, "GET", "/repos/"+gitea.Admin+"/shop/pulls?state=open", nil, &pulls)
	if len(pulls) != 1 || pulls[0].Head.Ref != "promote/prod/web-1.5.0" || pulls[0].Base.Ref != "main" || pulls[0].Title != "promote(prod): web 1.4.1 → 1.5.0" {
		t.Fatalf("pull requests on the forge: %+v", pulls)
	}
	git(t, dir, "fetch", "-q", "origin")
	if got := git(t, dir, "rev-parse", "origin/main"); got != tip {
		t.Fatal("a pull-request promotion pushed to main")
	}
	if got := git(t, dir, "show", "origin/promote/prod/web-1.5.0:envs/prod/kustomization.yaml"); !strings.Contains(got, `newTag: "1.5.0"`) {
		t.Fatalf("pull-request branch content:\n%s", got)
	}

	// History, newest first.
	r = promote(t, "", dir, "history", "-o", "json")
	var hist []JSONHistoryEntry
	if err := json.Unmarshal([]byte(r.stdout), &hist); err != nil || r.code != 0 {
		t.Fatalf("history: %v\n%s", err, r)
	}
	if len(hist) != 2 || hist[0].Apps[0].Name != "worker" || hist[1].Apps[0].Name != "web" || hist[1].Apps[0].From != "1.4.2" || hist[1].Environment != "staging" {
		t.Fatalf("history: %+v", hist)
	}

	// Rollback: a new commit back to 1.4.2, no history rewrite.
	before := git(t, dir, "rev-parse", "origin/main")
	r = promote(t, kubeconfig, dir, "rollback", "web", "--env", "staging")
	if r.code != 0 {
		t.Fatalf("rollback: %s", r)
	}
	if got := remoteFile(t, dir, "envs/staging/kustomization.yaml"); !strings.Contains(got, `newTag: "1.4.2"`) {
		t.Fatalf("rollback did not restore 1.4.2:\n%s", got)
	}
	if parent := git(t, dir, "rev-parse", "origin/main^"); parent != before {
		t.Fatalf("rollback is not one new commit on top (parent %s, want %s)", parent, before)
	}
	if tr := trailers(t, dir, "origin/main"); !strings.Contains(tr, "Promoted-Rollback: true") || !strings.Contains(tr, "web 1.5.0 → 1.4.2") {
		t.Fatalf("rollback commit:\n%s", tr)
	}
	// The user's checkout followed (fast-forward), and is clean.
	if head := git(t, dir, "rev-parse", "HEAD"); head != git(t, dir, "rev-parse", "origin/main") {
		t.Errorf("checkout not fast-forwarded after an auto promotion")
	}
	if st := git(t, dir, "status", "--porcelain"); st != "" {
		t.Errorf("checkout dirty after promotions:\n%s", st)
	}
}

func kubectl(t *testing.T, cp *controlplane.ControlPlane, args ...string) {
	t.Helper()
	if out, err := cp.Kubectl(t.Context(), args...).CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestRefusals: a checkout unfit for a promotion is refused with the reason,
// and nothing changes, locally or on the remote.
func TestRefusals(t *testing.T) {
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		args  []string
		code  int
		want  string
	}{
		{"dirty tree", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "envs", "dev", "notes.txt"), []byte("wip"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"web", "--to", "staging", "--skip-gates"}, 2, "envs/dev/notes.txt"},
		{"detached HEAD", func(t *testing.T, dir string) { git(t, dir, "checkout", "-q", "--detach") },
			[]string{"web", "--to", "staging", "--skip-gates"}, 2, "detached"},
		{"wrong branch", func(t *testing.T, dir string) { git(t, dir, "checkout", "-q", "-b", "feature") },
			[]string{"web", "--to", "staging", "--skip-gates"}, 2, "feature"},
		{"missing remote", func(t *testing.T, dir string) { git(t, dir, "remote", "rename", "origin", "upstream") },
			[]string{"web", "--to", "staging", "--skip-gates"}, 2, "origin"},
		{"unknown app", nil, []string{"nope", "--to", "staging", "--skip-gates"}, 2, `"nope"`},
		{"unknown env", nil, []string{"web", "--to", "qa", "--skip-gates"}, 2, `"qa"`},
		{"downgrade", nil, []string{"web", "--to", "staging", "--version", "1.0.0", "--skip-gates"}, 2, "downgrade"},
		{"no --to", nil, []string{"web"}, 2, "--to is required"},
		{"unreadable kubeconfig", nil, []string{"web", "--to", "staging", "--kubeconfig", "/nonexistent"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote := filepath.Join(t.TempDir(), "remote.git")
			git(t, t.TempDir(), "clone", "-q", "--bare", bare, remote)
			dir := exampleRepo(t, remote, nil)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			before := snapshot(t, dir, remote)
			r := promote(t, "", dir, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("want exit %d with %q: %s", tt.code, tt.want, r)
			}
			if after := snapshot(t, dir, remote); after != before {
				t.Fatalf("state changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// snapshot is everything a failed run must leave as it was.
func snapshot(t *testing.T, dir, remote string) string {
	t.Helper()
	return strings.Join([]string{
		git(t, dir, "status", "--porcelain", "--untracked-files=all"),
		git(t, dir, "rev-parse", "HEAD"),
		git(t, dir, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
		git(t, dir, "worktree", "list", "--porcelain"),
		git(t, remote, "for-each-ref", "--format=%(refname) %(objectname)"),
	}, "\n")
}

// TestConcurrentPromotions: 20 promotions of different applications run at
// once, each from its own clone, against one bare remote: all 20 commits
// land, none is lost, nothing is forced.
func TestConcurrentPromotions(t *testing.T) {
	const n = 20
	bin := filepath.Join(t.TempDir(), "kubectl-gitops-promote")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kubectl-gitops-promote").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	seed := filepath.Join(t.TempDir(), "seed")
	var pipeline strings.Builder
	pipeline.WriteString("apiVersion: gitops.kubectl-gitops.dev/v1alpha1\nkind: Pipeline\nbranch: main\nenvironments:\n- name: dev\n  path: dev\n- name: prod\n  path: prod\napplications:\n")
	for i := range n {
		fmt.Fprintf(&pipeline, "- name: app%02d\n  versions:\n  - file: app%02d.yaml\n    helmValues: image.tag\n", i, i)
		for env, v := range map[string]string{"dev": "2.0.0", "prod": "1.0.0"} {
			writeFile(t, filepath.Join(seed, env, fmt.Sprintf("app%02d.yaml", i)), fmt.Sprintf("# app%02d in %s\nimage:\n  tag: %q # promoted\n", i, env, v))
		}
	}
	writeFile(t, filepath.Join(seed, ".gitops", "pipeline.yaml"), pipeline.String())
	git(t, seed, "init", "-q", "-b", "main")
	git(t, seed, "add", "-A")
	git(t, seed, "commit", "-q", "-m", "seed")
	git(t, seed, "push", "-q", bare, "main")
	start := git(t, seed, "rev-parse", "HEAD")

	clones := make([]string, n)
	for i := range n {
		clones[i] = filepath.Join(t.TempDir(), "clone")
		git(t, t.TempDir(), "clone", "-q", bare, clones[i])
	}
	errs := make(chan error, n)
	for i := range n {
		go func() {
			cmd := exec.Command(bin, fmt.Sprintf("app%02d", i), "--to", "prod", "--skip-gates")
			cmd.Dir = clones[i]
			cmd.Env = gitea.GitEnv()
			out, err := cmd.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("app%02d: %w\n%s", i, err, out)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	log := git(t, bare, "log", "--format=%s", start+"..main")
	if got := len(strings.Split(log, "\n")); got != n {
		t.Fatalf("%d commits landed, want %d:\n%s", got, n, log)
	}
	if merges := git(t, bare, "rev-list", "--merges", "main"); merges != "" {
		t.Errorf("history is not linear: merges %s", merges)
	}
	for i := range n {
		got := git(t, bare, "show", fmt.Sprintf("main:prod/app%02d.yaml", i))
		if want := fmt.Sprintf("# app%02d in prod\nimage:\n  tag: \"2.0.0\" # promoted", i); got != want {
			t.Errorf("prod/app%02d.yaml:\n%s\nwant:\n%s", i, got, want)
		}
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBranchPerEnvironment: environments on branches of their own; the
// promotion commits on the target's branch (pull request into it for
// pull-request), reading the source from its branch; -o json.
func TestBranchPerEnvironment(t *testing.T) {
	dir, bare := branchPerEnvRepo(t, `apiVersion: gitops.kubectl-gitops.dev/v1alpha1
kind: Pipeline
branch: main
environments:
- name: dev
  branch: env/dev
- name: staging
  branch: env/staging
- name: prod
  branch: env/prod
  policy: pull-request
applications:
- name: web
  versions:
  - file: app/values.yaml
    helmValues: image.tag
`, map[string]string{
		"dev":     "app/values.yaml:image:\n  # dev\n  tag: 3.1.0\n",
		"staging": "app/values.yaml:image:\n  # staging\n  tag: 3.0.0\n",
		"prod":    "app/values.yaml:image:\n  # prod\n  tag: 2.9.0\n",
	})

	r := promote(t, "", dir, "web", "--to", "staging", "--skip-gates", "-o", "json")
	var out JSONOutcome
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil {
		t.Fatalf("promote to staging: %v\n%s", err, r)
	}
	if out.Branch != "env/staging" || out.Commit == "" || len(out.Apps) != 1 || out.Apps[0].From != "3.0.0" || out.Apps[0].To != "3.1.0" || len(out.Files) != 1 || out.Files[0].Branch != "env/staging" {
		t.Fatalf("outcome: %+v", out)
	}
	if got := git(t, bare, "show", "env/staging:app/values.yaml"); got != "image:\n  # staging\n  tag: 3.1.0" {
		t.Fatalf("env/staging:\n%s", got)
	}
	if got := git(t, bare, "rev-parse", "main"); got != git(t, dir, "rev-parse", "main") {
		t.Fatal("main moved")
	}
	r = promote(t, "", dir, "web", "--to", "prod", "--skip-gates")
	if r.code != 0 || !strings.Contains(r.stdout, "Pushed promote/prod/web-3.1.0") {
		t.Fatalf("promote to prod: %s", r)
	}
	if got := git(t, bare, "show", "promote/prod/web-3.1.0:app/values.yaml"); got != "image:\n  # prod\n  tag: 3.1.0" {
		t.Fatalf("pull-request branch:\n%s", got)
	}
	if base := git(t, bare, "rev-parse", "promote/prod/web-3.1.0^"); base != git(t, bare, "rev-parse", "env/prod") {
		t.Fatal("the pull-request branch does not start from env/prod")
	}
}
