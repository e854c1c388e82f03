package gitsource

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestFetchRemoteTrackingBranch: a local clone (the stand-in of
// drift --repo-override) that has a branch only as origin/feature serves
// it with RemoteTracking, saying so; without RemoteTracking, or when no
// remote has it, the branch is not found; a local branch of that name
// wins; origin wins over other remotes, and several others are an error.
func TestFetchRemoteTrackingBranch(t *testing.T) {
	r := newRepo(t)
	base := t.TempDir()
	clone := filepath.Join(base, "clone")
	gitT(t, base, "clone", "--quiet", "file://"+r.bare, clone) // main checked out; feature is origin/feature only
	if out := gitT(t, clone, "branch", "--list", "feature"); out != "" {
		t.Fatalf("the clone has a local feature branch: %q", out)
	}

	co, err := Fetch(t.Context(), Spec{URL: clone, Revision: "feature", Path: "apps/web", TempDir: t.TempDir(), RemoteTracking: true})
	if err != nil {
		t.Fatal(err)
	}
	if co.Commit != r.featr || read(t, co, "v.txt") != "feature" {
		t.Errorf("commit %s, file %q: want the feature branch %s", co.Commit, read(t, co, "v.txt"), r.featr)
	}
	if !strings.Contains(co.Warning, "remote-tracking branch refs/remotes/origin/feature") {
		t.Errorf("warning %q", co.Warning)
	}

	for name, spec := range map[string]Spec{
		"without RemoteTracking": {URL: clone, Revision: "feature"},
		"no remote has it":       {URL: clone, Revision: "nope", RemoteTracking: true},
	} {
		if _, err := Fetch(t.Context(), Spec{URL: spec.URL, Revision: spec.Revision, RemoteTracking: spec.RemoteTracking, TempDir: t.TempDir()}); !errors.Is(err, ErrRevisionNotFound) {
			t.Errorf("%s: err = %v, want ErrRevisionNotFound", name, err)
		}
	}

	// A second remote whose feature branch is main's commit.
	gitT(t, clone, "update-ref", "refs/remotes/fork/feature", r.second)
	co, err = Fetch(t.Context(), Spec{URL: clone, Revision: "feature", TempDir: t.TempDir(), RemoteTracking: true})
	if err != nil || co.Commit != r.featr {
		t.Errorf("origin and fork: %v, commit %v: want origin's", err, co)
	}
	gitT(t, clone, "update-ref", "-d", "refs/remotes/origin/feature")
	co, err = Fetch(t.Context(), Spec{URL: clone, Revision: "feature", TempDir: t.TempDir(), RemoteTracking: true})
	if err != nil || co.Commit != r.second || !strings.Contains(co.Warning, "refs/remotes/fork/feature") {
		t.Errorf("fork only: %v, %+v", err, co)
	}
	gitT(t, clone, "update-ref", "refs/remotes/upstream/feature", r.first)
	_, err = Fetch(t.Context(), Spec{URL: clone, Revision: "feature", TempDir: t.TempDir(), RemoteTracking: true})
	if !errors.Is(err, ErrRevisionNotFound) || !strings.Contains(err.Error(), "refs/remotes/fork/feature, refs/remotes/upstream/feature") {
		t.Errorf("two remotes: %v", err)
	}

	// A local branch is the branch, whatever the remotes say.
	gitT(t, clone, "branch", "feature", r.first)
	co, err = Fetch(t.Context(), Spec{URL: clone, Revision: "feature", TempDir: t.TempDir(), RemoteTracking: true})
	if err != nil || co.Commit != r.first || co.Warning != "" {
		t.Errorf("local branch: %v, %+v", err, co)
	}
}
