package desired

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// writeTree is test/builders' WriteTree.
var writeTree = builders.WriteTree

const (
	baseDeployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n"
	overlayPatch   = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"
	overlayKust    = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop-dev\nresources:\n  - ../../base\npatches:\n  - path: patch.yaml\n"
	baseKust       = "resources:\n  - deployment.yaml\n"
)

// overlayTree is an environment overlay whose kustomization file is named
// file, over a base.
func overlayTree(t *testing.T, file string) string {
	return writeTree(t, map[string]string{
		"base/kustomization.yaml": baseKust,
		"base/deployment.yaml":    baseDeployment,
		"envs/dev/" + file:        overlayKust,
		"envs/dev/patch.yaml":     overlayPatch,
	})
}

type object struct {
	Source, Kind, Namespace, Name string
	Replicas                      int64
}

func objects(set *manifest.Set) []object {
	var out []object
	for _, o := range set.Objects {
		r, _, _ := unstructured.NestedInt64(o.Obj.Object, "spec", "replicas")
		out = append(out, object{o.Source.String(), o.Obj.GetKind(), o.Obj.GetNamespace(), o.Obj.GetName(), r})
	}
	return out
}

// TestDirectoryBuildsEveryKustomizationFileName: a directory with a
// kustomization file under any name kustomize reads is built as kubectl -k
// builds it, not read as plain manifests (promote's drift gate only knew
// kustomization.yaml).
func TestDirectoryBuildsEveryKustomizationFileName(t *testing.T) {
	want := []object{{Source: "envs/dev (kustomize)", Kind: "Deployment", Namespace: "shop-dev", Name: "web", Replicas: 3}}
	for _, file := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		t.Run(file, func(t *testing.T) {
			set, err := Directory(t.Context(), overlayTree(t, file), "envs/dev")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, objects(set)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDirectoryWithoutKustomizationIsReadRecursively: as kubectl apply -f
// -R, sources relative to the root.
func TestDirectoryWithoutKustomizationIsReadRecursively(t *testing.T) {
	root := writeTree(t, map[string]string{
		"envs/dev/web.yaml":        baseDeployment,
		"envs/dev/more/other.yaml": strings.ReplaceAll(baseDeployment, "name: web", "name: other"),
		"envs/dev/README.md":       "not a manifest",
	})
	set, err := Directory(t.Context(), root, "envs/dev")
	if err != nil {
		t.Fatal(err)
	}
	want := []object{
		{Source: "envs/dev/more/other.yaml:1", Kind: "Deployment", Name: "other", Replicas: 1},
		{Source: "envs/dev/web.yaml:1", Kind: "Deployment", Name: "web", Replicas: 1},
	}
	if diff := cmp.Diff(want, objects(set)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

// TestDirectoryStaysInTheRoot: a path from the repository cannot leave the
// checkout.
func TestDirectoryStaysInTheRoot(t *testing.T) {
	root := overlayTree(t, "kustomization.yaml")
	for _, p := range []string{"../envs/dev", "/etc", "envs/../../x"} {
		if _, err := Directory(t.Context(), filepath.Join(root, "envs"), p); err == nil {
			t.Errorf("Directory(%q) read outside the root", p)
		}
	}
}

func ruleSources(s *ignore.Set) []string {
	var out []string
	for _, r := range s.Rules() {
		out = append(out, strings.SplitN(r.Source, ":", 2)[0])
	}
	return out
}

// TestLoadIgnore: built-in rules on request, the repository's
// .gitops/drift-ignore.yaml when present, a file the user names always.
func TestLoadIgnore(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join("..", "ignore", "testdata", "drift-ignore.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withFile := writeTree(t, map[string]string{IgnoreFile: string(rules), "other.yaml": string(rules)})
	without := t.TempDir()
	builtin := len(ignore.Builtin().Rules())
	fromFile, err := ignore.Parse(rules, "x")
	if err != nil {
		t.Fatal(err)
	}
	n := len(fromFile.Rules())
	tests := []struct {
		name     string
		root     string
		file     string
		builtin  bool
		want     int
		wantFrom string
	}{
		{"builtin only, no file in the repository", without, "", true, builtin, ""},
		{"nothing", without, "", false, 0, ""},
		{"the repository's file", withFile, "", false, n, filepath.Join(withFile, filepath.FromSlash(IgnoreFile))},
		{"builtin and the repository's file", withFile, "", true, builtin + n, filepath.Join(withFile, filepath.FromSlash(IgnoreFile))},
		{"a named file instead of the repository's", withFile, filepath.Join(withFile, "other.yaml"), false, n, filepath.Join(withFile, "other.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadIgnore(tt.root, tt.file, tt.builtin)
			if err != nil {
				t.Fatal(err)
			}
			srcs := ruleSources(got)
			if len(srcs) != tt.want {
				t.Fatalf("%d rules, want %d: %v", len(srcs), tt.want, srcs)
			}
			if tt.wantFrom != "" && srcs[len(srcs)-1] != tt.wantFrom {
				t.Errorf("last rule from %q, want %q", srcs[len(srcs)-1], tt.wantFrom)
			}
		})
	}
	if _, err := LoadIgnore(without, filepath.Join(without, "missing.yaml"), true); err == nil {
		t.Error("a named file that does not exist is no error")
	}
}

// TestFetcherGit: a directory of a repository at a revision, with its
// provenance, built through the one door whatever its kustomization file is
// named; a second source of the same repository and revision reuses the
// checkout.
func TestFetcherGit(t *testing.T) {
	base := t.TempDir()
	work, bare := filepath.Join(base, "work"), filepath.Join(base, "repo.git")
	gitea.Git(t, base, "init", "-q", "-b", "main", work)
	src := overlayTree(t, "Kustomization")
	for _, f := range []string{"base/kustomization.yaml", "base/deployment.yaml", "envs/dev/Kustomization", "envs/dev/patch.yaml"} {
		data, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(work, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitea.Git(t, work, "add", "-A")
	gitea.Git(t, work, "commit", "-q", "-m", "dev")
	commit := strings.TrimSpace(gitea.Git(t, work, "rev-parse", "HEAD"))
	gitea.Git(t, base, "clone", "-q", "--bare", work, bare)

	f := NewFetcher(Options{Ignore: ignore.Builtin(), Namespace: "default"})
	defer f.Close()
	url := "file://" + bare
	s := f.Git(t.Context(), url, "main", "envs/dev")
	if s.Skip != "" {
		t.Fatalf("skipped: %s", s.Skip)
	}
	want := Origin{RepoURL: url, Revision: "main", Commit: commit, Path: "envs/dev"}
	if diff := cmp.Diff(want, s.Origin); diff != "" {
		t.Errorf("origin (-want +got):\n%s", diff)
	}
	if s.Name != "git/"+url+"@main/envs/dev" || s.Type != TypeGit || s.Namespace != "default" {
		t.Errorf("name %q, type %q, namespace %q", s.Name, s.Type, s.Namespace)
	}
	if len(s.Desired) != 1 || s.Desired[0].Source != "envs/dev (kustomize)" || loaded(t, s.Desired[0]).GetNamespace() != "shop-dev" {
		t.Fatalf("desired: %+v", s.Desired)
	}
	again := f.Git(t.Context(), url, "main", "base")
	if again.Root != s.Root {
		t.Errorf("same repository and revision fetched twice: %s, %s", s.Root, again.Root)
	}
	missing := f.Git(t.Context(), url, "main", "envs/prod")
	if missing.Skip == "" || !missing.SkipIsError {
		t.Errorf("a missing path is not an error: %+v", missing)
	}
}

// TestFetcherGitKeepsCredentialsOut: a repository URL's credentials appear
// nowhere in the source: not in its name, origin or error.
func TestFetcherGitKeepsCredentialsOut(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	f := NewFetcher(Options{})
	defer f.Close()
	s := f.Git(t.Context(), "https://bot:"+canary+"@127.0.0.1:1/org/fleet.git", "main", "envs/dev")
	if s.Skip == "" || !s.SkipIsError {
		t.Fatalf("an unreachable repository is not an error: %+v", s)
	}
	for what, v := range map[string]string{"name": s.Name, "origin": s.Origin.RepoURL, "error": s.Skip} {
		if strings.Contains(v, canary) {
			t.Errorf("%s holds the credentials: %s", what, v)
		}
	}
}

// TestDirectoryRefusesLinksOutOfTheRoot: a repository's symbolic link to a
// file outside the checkout (the user's kubeconfig, a secret) is not read
// into the desired state, with or without a kustomization.
func TestDirectoryRefusesLinksOutOfTheRoot(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: "+canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, files := range map[string]map[string]string{
		"plain directory": {"envs/dev/web.yaml": baseDeployment},
		"kustomization":   {"envs/dev/kustomization.yaml": "resources:\n  - web.yaml\n  - leak.yaml\n", "envs/dev/web.yaml": baseDeployment},
	} {
		t.Run(name, func(t *testing.T) {
			root := writeTree(t, files)
			if err := os.Symlink(outside, filepath.Join(root, "envs", "dev", "leak.yaml")); err != nil {
				t.Fatal(err)
			}
			set, err := Directory(t.Context(), root, "envs/dev")
			if err == nil {
				t.Fatalf("read through a link out of the checkout: %+v", objects(set))
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error shows the outside file: %v", err)
			}
		})
	}
	// The environment's directory itself leading out.
	root := writeTree(t, map[string]string{"README.md": "repo"})
	if err := os.MkdirAll(filepath.Join(root, "envs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(root, "envs", "dev")); err != nil {
		t.Fatal(err)
	}
	if set, err := Directory(t.Context(), root, "envs/dev"); err == nil {
		t.Fatalf("read a directory out of the checkout: %+v", objects(set))
	}
	// A link inside the checkout is fine.
	root = writeTree(t, map[string]string{"base/web.yaml": baseDeployment, "envs/dev/README.md": "dev"})
	if err := os.Symlink(filepath.Join("..", "..", "base", "web.yaml"), filepath.Join(root, "envs", "dev", "web.yaml")); err != nil {
		t.Fatal(err)
	}
	set, err := Directory(t.Context(), root, "envs/dev")
	if err != nil || len(set.Objects) != 1 {
		t.Fatalf("link inside the checkout: %v, %+v", err, set)
	}
}

// TestFetcherOverrideToRemoteTrackingBranch: --repo-override pointing at
// a local clone where the branch exists only as origin/<branch> (the clone
// was never switched to it) reads that branch, with a warning saying so;
// a URL that is not overridden gets no such fallback.
func TestFetcherOverrideToRemoteTrackingBranch(t *testing.T) {
	base := t.TempDir()
	work, bare, clone := filepath.Join(base, "work"), filepath.Join(base, "repo.git"), filepath.Join(base, "clone")
	gitea.Git(t, base, "init", "-q", "-b", "main", work)
	write := func(content string) {
		if err := os.MkdirAll(filepath.Join(work, "apps"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, "apps", "cm.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {v: main}\n")
	gitea.Git(t, work, "add", "-A")
	gitea.Git(t, work, "commit", "-q", "-m", "main")
	gitea.Git(t, work, "checkout", "-q", "-b", "feature/new-web")
	write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {v: feature}\n")
	gitea.Git(t, work, "commit", "-q", "-am", "feature")
	feature := strings.TrimSpace(gitea.Git(t, work, "rev-parse", "HEAD"))
	gitea.Git(t, work, "checkout", "-q", "main")
	gitea.Git(t, base, "clone", "-q", "--bare", work, bare)
	gitea.Git(t, base, "clone", "-q", "file://"+bare, clone)

	const orig = "https://git.example.com/org/fleet.git"
	f := NewFetcher(Options{Ignore: ignore.Builtin(), RepoOverrides: []string{orig + "=" + clone}})
	defer f.Close()
	s := f.Git(t.Context(), orig, "feature/new-web", "apps")
	if s.Skip != "" {
		t.Fatalf("skipped: %s", s.Skip)
	}
	if s.Origin.Commit != feature || len(s.Desired) != 1 {
		t.Fatalf("commit %s (want %s), desired %+v", s.Origin.Commit, feature, s.Desired)
	}
	if v, _, _ := unstructured.NestedString(loaded(t, s.Desired[0]).Object, "data", "v"); v != "feature" {
		t.Errorf("data.v = %q, want feature", v)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "refs/remotes/origin/feature/new-web") {
		t.Errorf("warnings %q", s.Warnings)
	}

	plain := NewFetcher(Options{Ignore: ignore.Builtin()})
	defer plain.Close()
	if s := plain.Git(t.Context(), clone, "feature/new-web", "apps"); s.Skip == "" || !strings.Contains(s.Skip, "revision not found") {
		t.Errorf("not overridden: skip %q", s.Skip)
	}
}

// loaded reads d's object (a new one when d is packed).
func loaded(t *testing.T, d compare.Desired) *unstructured.Unstructured {
	t.Helper()
	o, err := d.Load()
	if err != nil {
		t.Fatal(err)
	}
	return o
}
