package promoter_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promoter"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// These tests run the engine on real git: a bare remote and a clone of it,
// with the user's git configuration shut out.

const reviewPipeline = `apiVersion: gitops.kubectl-gitops.dev/v1alpha1
kind: Pipeline
branch: main
environments:
- name: dev
  path: dev
  namespace: app-dev
- name: staging
  path: staging
  namespace: app-staging
- name: prod
  path: prod
  namespace: app-prod
  policy: pull-request
applications:
- name: web
  versions:
  - file: web.yaml
    helmValues: image.tag
  health:
    workload: {kind: Deployment, name: web}
- name: worker
  versions:
  - file: worker.yaml
    helmValues: image.tag
  health:
    workload: {kind: Deployment, name: worker}
`

// gitEnv shuts the user's git configuration out of the engine's git.
func gitEnv(t *testing.T) {
	for _, kv := range gitea.GitEnv() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GIT_") {
			t.Setenv(k, v)
		}
	}
}

// fixture is a clone of a bare remote holding reviewPipeline and the
// versions given as "env/app" → version.
type fixture struct {
	dir, bare string
	engine    *promoter.Engine
	progress  []string
	// before, when set during a run, is the state the run must leave
	// (a test changed the remote in the middle of it).
	before string
}

func newFixture(t *testing.T, versions map[string]string) *fixture {
	t.Helper()
	gitEnv(t)
	f := &fixture{dir: filepath.Join(t.TempDir(), "work"), bare: filepath.Join(t.TempDir(), "remote.git")}
	gitea.Git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", f.bare)
	write(t, filepath.Join(f.dir, promotion.DefaultFile), reviewPipeline)
	for k, v := range versions {
		env, app, _ := strings.Cut(k, "/")
		write(t, filepath.Join(f.dir, env, app+".yaml"), fmt.Sprintf("# %s in %s\nimage:\n  tag: %q # the version\n", app, env, v))
	}
	gitea.Git(t, f.dir, "init", "-q", "-b", "main")
	gitea.Git(t, f.dir, "add", "-A")
	gitea.Git(t, f.dir, "commit", "-q", "-m", "seed")
	gitea.Git(t, f.dir, "remote", "add", "origin", f.bare)
	gitea.Git(t, f.dir, "push", "-q", "origin", "main")
	gitea.Git(t, f.dir, "branch", "-q", "--set-upstream-to=origin/main")
	f.engine = f.open(t)
	return f
}

// open makes a fresh engine on the clone, as one run of the plugin does.
func (f *fixture) open(t *testing.T) *promoter.Engine {
	t.Helper()
	repo, err := gitrepo.Open(t.Context(), f.dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := promotion.Load(filepath.Join(f.dir, promotion.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	return &promoter.Engine{Repo: repo, Pipeline: p, Progress: func(format string, args ...any) {
		f.progress = append(f.progress, fmt.Sprintf(format, args...))
	}}
}

// remote reads a file on the remote's main branch.
func (f *fixture) remote(t *testing.T, file string) string {
	t.Helper()
	return gitea.Git(t, f.bare, "show", "main:"+file)
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPromoteFirstEnvironment: a version given for the first environment
// (CI bringing a build into dev) has no source, so no source commit and no
// gate; it used to dereference the missing source and panic.
func TestPromoteFirstEnvironment(t *testing.T) {
	f := newFixture(t, map[string]string{"dev/web": "1.0.0", "staging/web": "0.9.0"})
	out, err := f.engine.Promote(t.Context(), promoter.Options{Request: promotion.Request{Apps: []string{"web"}, To: "dev", Version: "1.1.0"}})
	if err != nil {
		t.Fatalf("promote --to dev --version 1.1.0: %v", err)
	}
	if out.Commit == "" || len(out.Gates) != 0 {
		t.Fatalf("outcome: commit %q, gates %+v", out.Commit, out.Gates)
	}
	msg := gitea.Git(t, f.bare, "log", "-1", "--format=%B", "main")
	for _, want := range []string{"promote(dev): web 1.0.0 → 1.1.0", "Promoted-To: dev", "Promoted-Version: 1.1.0", "Verified-Health: not checked (no source environment)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("commit lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "Promoted-From") || strings.Contains(msg, "Source-Commit") {
		t.Errorf("a promotion without a source names one:\n%s", msg)
	}
	if got := f.remote(t, "dev/web.yaml"); got != "# web in dev\nimage:\n  tag: \"1.1.0\" # the version" {
		t.Errorf("dev/web.yaml:\n%s", got)
	}
}

// TestPromotePendingSkipsOlderSource: with no application named, the
// pending ones are promoted; one whose source is older than the target
// (status shows it as not pending) is skipped with a note instead of
// refusing the whole promotion as a downgrade. --allow-downgrade takes it.
func TestPromotePendingSkipsOlderSource(t *testing.T) {
	tests := []struct {
		name           string
		allowDowngrade bool
		want           []string
	}{
		{"older source skipped", false, []string{"web"}},
		{"--allow-downgrade takes it", true, []string{"web", "worker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, map[string]string{
				"dev/web": "2.0.0", "staging/web": "1.0.0",
				"dev/worker": "1.0.0", "staging/worker": "1.5.0",
			})
			out, err := f.engine.Promote(t.Context(), promoter.Options{SkipGates: true, DryRun: true,
				Request: promotion.Request{To: "staging", AllowDowngrade: tt.allowDowngrade}})
			if err != nil {
				t.Fatalf("promote --to staging: %v", err)
			}
			var got []string
			for _, s := range out.Steps {
				got = append(got, s.App)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("promoted %v, want %v", got, tt.want)
			}
			if !tt.allowDowngrade && !strings.Contains(strings.Join(f.progress, "\n"), "skipping worker: staging has 1.5.0, newer than 1.0.0 in dev") {
				t.Errorf("the skipped application is not named:\n%s", strings.Join(f.progress, "\n"))
			}
		})
	}
}

// TestPromotePendingNothing: no application pending is nothing to do
// (ErrNoChange), not an error.
func TestPromotePendingNothing(t *testing.T) {
	f := newFixture(t, map[string]string{"dev/web": "1.0.0", "staging/web": "1.5.0"})
	_, err := f.engine.Promote(t.Context(), promoter.Options{SkipGates: true, Request: promotion.Request{To: "staging"}})
	if !errors.Is(err, promotion.ErrNoChange) {
		t.Fatalf("want ErrNoChange, got %v", err)
	}
}

// TestPromotePullRequestAgain: running a pull-request promotion again for
// the same version reuses the branch the first run pushed (docs: "finds
// the open pull request instead of opening another"); it used to fail
// with "target branch already exists". A branch of that name with other
// content is refused, and said so.
func TestPromotePullRequestAgain(t *testing.T) {
	f := newFixture(t, map[string]string{"staging/web": "2.0.0", "prod/web": "1.0.0"})
	opts := promoter.Options{SkipGates: true, Request: promotion.Request{Apps: []string{"web"}, To: "prod"}}
	first, err := f.engine.Promote(t.Context(), opts)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	second, err := f.open(t).Promote(t.Context(), opts)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !second.AlreadyPushed || second.Commit != first.Commit || second.Branch != "promote/prod/web-2.0.0" {
		t.Fatalf("second run: already pushed %v, commit %s (first %s), branch %s", second.AlreadyPushed, second.Commit, first.Commit, second.Branch)
	}
	if got := gitea.Git(t, f.bare, "rev-parse", "promote/prod/web-2.0.0"); got != first.Commit {
		t.Fatalf("the branch moved to %s", got)
	}

	// Someone pushed other content to the branch: refused, branch untouched.
	other := filepath.Join(t.TempDir(), "other")
	gitea.Git(t, t.TempDir(), "clone", "-q", "-b", "promote/prod/web-2.0.0", f.bare, other)
	write(t, filepath.Join(other, "prod", "web.yaml"), "image:\n  tag: \"2.0.1\"\n")
	gitea.Git(t, other, "commit", "-q", "-am", "hand edit")
	gitea.Git(t, other, "push", "-q", "origin", "promote/prod/web-2.0.0")
	tip := gitea.Git(t, f.bare, "rev-parse", "promote/prod/web-2.0.0")
	_, err = f.open(t).Promote(t.Context(), opts)
	if !errors.Is(err, gitrepo.ErrTargetExists) || !strings.Contains(err.Error(), "not as this promotion's pending change") {
		t.Fatalf("want a refusal naming other changes, got %v", err)
	}
	if got := gitea.Git(t, f.bare, "rev-parse", "promote/prod/web-2.0.0"); got != tip {
		t.Fatal("the refused run moved the branch")
	}
}

// TestPromotePullRequestMergedBranch: the branch of an earlier promotion to
// the same version, merged since (prod went 1.0.0 → 2.0.0, then back), is
// not taken for this promotion's pull request.
func TestPromotePullRequestMergedBranch(t *testing.T) {
	f := newFixture(t, map[string]string{"staging/web": "2.0.0", "prod/web": "1.0.0"})
	opts := promoter.Options{SkipGates: true, Request: promotion.Request{Apps: []string{"web"}, To: "prod"}}
	first, err := f.engine.Promote(t.Context(), opts)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	// The pull request is merged (fast-forward), then prod goes back to 1.0.0.
	other := filepath.Join(t.TempDir(), "other")
	gitea.Git(t, t.TempDir(), "clone", "-q", f.bare, other)
	gitea.Git(t, other, "merge", "-q", "--ff-only", "origin/promote/prod/web-2.0.0")
	write(t, filepath.Join(other, "prod", "web.yaml"), "# web in prod\nimage:\n  tag: \"1.0.0\" # the version\n")
	gitea.Git(t, other, "commit", "-q", "-am", "back to 1.0.0")
	gitea.Git(t, other, "push", "-q", "origin", "main")

	out, err := f.open(t).Promote(t.Context(), opts)
	if err == nil || !errors.Is(err, gitrepo.ErrTargetExists) {
		t.Fatalf("want the merged branch refused, got %v (outcome %+v)", err, out)
	}
	if got := gitea.Git(t, f.bare, "rev-parse", "promote/prod/web-2.0.0"); got != first.Commit {
		t.Fatal("the refused run moved the branch")
	}
}

// TestPromoteTargetMovedMeanwhile: another promotion of the same
// application lands between planning and committing. The plan (old
// version, downgrade check, commit subject) is stale: the run refuses
// instead of silently writing an older version over the newer one under a
// subject naming a version that is no longer there.
func TestPromoteTargetMovedMeanwhile(t *testing.T) {
	f := newFixture(t, map[string]string{"dev/web": "2.0.0", "staging/web": "1.0.0"})
	other := filepath.Join(t.TempDir(), "other")
	gitea.Git(t, t.TempDir(), "clone", "-q", f.bare, other)
	// The other promotion lands while this one is about to commit.
	f.engine.Progress = func(format string, args ...any) {
		if strings.HasPrefix(format, "committing") {
			write(t, filepath.Join(other, "staging", "web.yaml"), "# web in staging\nimage:\n  tag: \"3.0.0\" # the version\n")
			gitea.Git(t, other, "commit", "-q", "-am", "promote(staging): web 1.0.0 → 3.0.0")
			gitea.Git(t, other, "push", "-q", "origin", "main")
		}
	}
	_, err := f.engine.Promote(t.Context(), promoter.Options{SkipGates: true, Request: promotion.Request{Apps: []string{"web"}, To: "staging"}})
	if !errors.Is(err, promoter.ErrChangedMeanwhile) {
		t.Fatalf("want ErrChangedMeanwhile, got %v", err)
	}
	if got := f.remote(t, "staging/web.yaml"); !strings.Contains(got, `"3.0.0"`) {
		t.Fatalf("the newer version was overwritten:\n%s", got)
	}
	if got := gitea.Git(t, f.bare, "log", "-1", "--format=%s", "main"); got != "promote(staging): web 1.0.0 → 3.0.0" {
		t.Fatalf("remote tip: %s", got)
	}
}

// unreachable is a cluster that never answers: every call fails as
// client-go fails on a refused or timed-out connection.
type unreachable struct{ calls int }

func (u *unreachable) Mapping(context.Context, schema.GroupVersionKind) (*meta.RESTMapping, error) {
	u.calls++
	return nil, fmt.Errorf("resolving apps/v1 Deployment: %w", &url.Error{Op: "Get", URL: "https://10.0.0.1/api", Err: context.DeadlineExceeded})
}

func (u *unreachable) Get(context.Context, *meta.RESTMapping, string, string) (*unstructured.Unstructured, error) {
	u.calls++
	return nil, errors.New("unreachable")
}

func (u *unreachable) List(context.Context, *meta.RESTMapping, string, string) ([]unstructured.Unstructured, error) {
	u.calls++
	return nil, errors.New("unreachable")
}

// TestStatusUnreachableCluster: a cluster that does not answer is asked
// once per context, not once per application and environment (each wait
// is a request timeout); every row says so.
func TestStatusUnreachableCluster(t *testing.T) {
	f := newFixture(t, map[string]string{"dev/web": "2.0.0", "staging/web": "1.0.0", "prod/web": "1.0.0",
		"dev/worker": "1.0.0", "staging/worker": "1.0.0", "prod/worker": "1.0.0"})
	u := &unreachable{}
	f.engine.Cluster = func(context.Context, *promotion.Environment) (cluster.Reader, error) { return u, nil }
	rows, err := f.engine.Status(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if u.calls != 1 {
		t.Errorf("the unreachable cluster was asked %d times, want 1", u.calls)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		if !r.Checked || r.Err == "" {
			t.Errorf("%s in %s: checked %v, error %q", r.App, r.Env, r.Checked, r.Err)
		}
	}
}

// TestStatusInterrupted: an interrupt during the live reads ends Status
// with the context's error (exit 130), not a table of "context canceled"
// rows and exit 0.
func TestStatusInterrupted(t *testing.T) {
	f := newFixture(t, map[string]string{"dev/web": "2.0.0", "staging/web": "1.0.0"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f.engine.Cluster = func(context.Context, *promotion.Environment) (cluster.Reader, error) {
		cancel()
		return nil, context.Canceled
	}
	rows, err := f.engine.Status(ctx, true)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v with rows %+v", err, rows)
	}
}

// snapshot is what a failed promotion must leave as it was: the checkout
// (status, HEAD, local branches, worktrees) and the remote's branches.
func (f *fixture) snapshot(t *testing.T) string {
	t.Helper()
	return strings.Join([]string{
		gitea.Git(t, f.dir, "status", "--porcelain", "--untracked-files=all"),
		gitea.Git(t, f.dir, "rev-parse", "HEAD"),
		gitea.Git(t, f.dir, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
		gitea.Git(t, f.dir, "worktree", "list", "--porcelain"),
		gitea.Git(t, f.bare, "for-each-ref", "--format=%(refname) %(objectname)"),
	}, "\n")
}

func hook(t *testing.T, gitDir, name, script string) {
	t.Helper()
	p := filepath.Join(gitDir, "hooks", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestPromoteFailureLeavesRepo: a failure at any step — an edit, a commit
// hook, a push the remote refuses, an interrupt while committing — leaves
// the checkout and the remote as they were and says what happened, for
// both policies.
func TestPromoteFailureLeavesRepo(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture, cancel context.CancelFunc)
		want  string
	}{
		{"edit: version missing in the target file", func(t *testing.T, f *fixture, _ context.CancelFunc) {
			for _, env := range []string{"staging", "prod"} {
				write(t, filepath.Join(f.dir, env, "web.yaml"), "image:\n  repository: web\n")
			}
			gitea.Git(t, f.dir, "commit", "-q", "-am", "no tag")
			gitea.Git(t, f.dir, "push", "-q", "origin", "main")
		}, "has no version in"},
		{"edit: version gone from the target meanwhile", func(t *testing.T, f *fixture, _ context.CancelFunc) {
			other := filepath.Join(t.TempDir(), "other")
			gitea.Git(t, t.TempDir(), "clone", "-q", f.bare, other)
			f.engine.Progress = func(format string, _ ...any) {
				if strings.HasPrefix(format, "committing") {
					for _, env := range []string{"staging", "prod"} {
						write(t, filepath.Join(other, env, "web.yaml"), "image:\n  repository: web\n")
					}
					gitea.Git(t, other, "commit", "-q", "-am", "no tag")
					gitea.Git(t, other, "push", "-q", "origin", "main")
					f.before = f.snapshot(t)
				}
			}
		}, "is (none) now, not 1.0.0 as planned"},
		{"pre-commit hook fails", func(t *testing.T, f *fixture, _ context.CancelFunc) {
			hook(t, filepath.Join(f.dir, ".git"), "pre-commit", "echo 'lint failed' >&2; exit 1")
		}, "lint failed"},
		{"pre-receive hook rejects", func(t *testing.T, f *fixture, _ context.CancelFunc) {
			hook(t, f.bare, "pre-receive", "echo 'frozen' >&2; exit 1")
		}, "pre-receive hook declined"},
		{"interrupted while committing", func(t *testing.T, f *fixture, cancel context.CancelFunc) {
			f.engine.Progress = func(format string, _ ...any) {
				if strings.HasPrefix(format, "committing") {
					cancel()
				}
			}
		}, "context canceled"},
	}
	for _, tt := range tests {
		for _, to := range []string{"staging", "prod"} {
			t.Run(tt.name+" to "+to, func(t *testing.T) {
				f := newFixture(t, map[string]string{"dev/web": "2.0.0", "staging/web": "1.0.0", "prod/web": "1.0.0"})
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				tt.setup(t, f, cancel)
				before := f.snapshot(t)
				_, err := f.engine.Promote(ctx, promoter.Options{SkipGates: true,
					Request: promotion.Request{Apps: []string{"web"}, To: to, From: "dev"}})
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("want an error with %q, got %v", tt.want, err)
				}
				if f.before != "" {
					before = f.before
				}
				if after := f.snapshot(t); after != before {
					t.Fatalf("state changed:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			})
		}
	}
}
