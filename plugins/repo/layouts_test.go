package repo

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyDir copies a fixture directory into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// back is the tenant branch's Kustomization: it reads this repository's
// main again (clusters/staging), closing a cycle across branches.
const back = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: apps
spec:
  url: git@github.com:example/fleet-tenancy.git
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: back-to-main
  namespace: apps
spec:
  sourceRef:
    kind: GitRepository
    name: fleet
  path: ./clusters/staging
`

// Flux's multi-tenancy layout: the tenant's GitRepository has this
// repository's URL (origin) on branch dev-team. Without that branch the
// graph says it is not in this checkout (and does not walk the files on
// disk); with it as a remote-tracking branch only, it is read from git, and
// the cycle it closes back to main ends with "(cycle)".
func TestGraphOtherBranch(t *testing.T) {
	gitEnv(t)
	dir := t.TempDir()
	copyDir(t, "../../examples/layouts/flux-multi-tenancy", dir)
	runGit(t, dir, "init", "-q")
	runGit(t, dir, "remote", "add", "origin", "https://github.com/example/fleet-tenancy.git")
	runGit(t, dir, "add", "-A")
	runGit(t, dir, "commit", "-qm", "fleet")

	r := runRepo(t, "", "graph", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Kustomization apps/dev-team → staging (not in this checkout: not followed) @dev-team\n") {
		t.Fatalf("graph without the branch: %s", r)
	}

	// The tenant's branch: staging/ only, for now.
	runGit(t, dir, "checkout", "-q", "--orphan", "dev-team")
	runGit(t, dir, "rm", "-rqf", ".")
	if err := os.MkdirAll(filepath.Join(dir, "staging"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "staging", "back.yaml"), []byte(back), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, dir, "add", "staging")
	runGit(t, dir, "commit", "-qm", "tenant")
	runGit(t, dir, "checkout", "-q", "main")
	runGit(t, dir, "update-ref", "refs/remotes/origin/dev-team", "dev-team")
	runGit(t, dir, "branch", "-qD", "dev-team")

	r = runRepo(t, "", "graph", dir)
	for _, want := range []string{
		"Kustomization apps/dev-team → staging @dev-team\n",
		"Kustomization apps/back-to-main → clusters/staging @main\n",
		"Kustomization flux-system/flux-system (cycle)\n",
		"Kustomization apps/dev-team → production (missing) @dev-team\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("graph lacks %q: %s", want, r)
		}
	}
	if r.code != 0 || strings.Contains(r.stdout, "not in this checkout") {
		t.Errorf("graph with the branch: %s", r)
	}
	// The production overlay's path is checked on the branch, at the
	// patch file's line.
	r = runRepo(t, "", "lint", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "tenants/production/dev-team-patch.yaml:9: error: Kustomization apps/dev-team points at production, which does not exist in the repository on dev-team [missing-path]") {
		t.Errorf("lint: %s", r)
	}

	// The same branch named by its commit (Argo CD's targetRevision, Flux's
	// ref.commit) is read too.
	sha := strings.TrimSpace(runGit(t, dir, "rev-parse", "refs/remotes/origin/dev-team"))
	sync := filepath.Join(dir, "tenants", "base", "dev-team", "sync.yaml")
	data, err := os.ReadFile(sync)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sync, []byte(strings.Replace(string(data), "branch: dev-team", "commit: "+sha, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runRepo(t, "", "graph", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Kustomization apps/back-to-main → clusters/staging @main\n") {
		t.Errorf("graph with a commit: %s", r)
	}
	if r := runRepo(t, "", "lint", dir); r.code != 1 || !strings.Contains(r.stdout, "on "+sha) {
		t.Errorf("lint with a commit: %s", r)
	}
}

// Revision names come from repository files: one that git would read as an
// option, or that is not a ref name, is never passed to git.
func TestReadRevisionRefusesOptions(t *testing.T) {
	gitEnv(t)
	dir := t.TempDir()
	runGit(t, dir, "init", "-q")
	c, err := gitCheckout(t.Context(), dir)
	if err != nil || c == nil {
		t.Fatalf("checkout: %v", err)
	}
	defer c.close()
	out := filepath.Join(t.TempDir(), "written")
	for _, rev := range []string{"--output=" + out, "-o" + out, "main..evil", "a b", "x:y"} {
		if r, err := c.read(rev); r != nil || err != nil {
			t.Errorf("read(%q) = %v, %v", rev, r, err)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("git wrote %s", out)
	}
}

// extractTar writes regular files only, inside its directory.
func TestExtractTarStaysInside(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "ok/a.yaml", Typeflag: tar.TypeReg, Mode: 0o644}, "a: 1\n")
	add(&tar.Header{Name: "../escape.yaml", Typeflag: tar.TypeReg, Mode: 0o644}, "x\n")
	add(&tar.Header{Name: "link.yaml", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, "")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "rev")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := extractTar(dir, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ok", "a.yaml")); err != nil {
		t.Error(err)
	}
	for _, p := range []string{filepath.Join(parent, "escape.yaml"), filepath.Join(dir, "link.yaml")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s written", p)
		}
	}
}

// TestOCIArtifactOverride: repo graph and lint take drift's
// --repo-override ORIGINAL_URL=DIR for an OCI artifact pushed from a
// directory of this repository (the Flux d2 layout): the OCIRepository's
// Kustomizations are then followed into DIR, and lint checks their paths
// there; a malformed override is a usage error.
func TestOCIArtifactOverride(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "layouts", "flux-d2-oci")
	const apps = "oci://ghcr.io/example/d2-fleet/apps"
	r := runRepo(t, "", "graph", dir, "--repo-override", apps+"=apps")
	if r.code != 0 || !strings.Contains(r.stdout, "Kustomization flux-system/apps → apps/staging (OCI artifact "+apps+", pushed from apps)") ||
		!strings.Contains(r.stdout, "podinfo-alerts → apps/base/alerts") {
		t.Errorf("graph with the artifact mapped:\n%s", r)
	}
	r = runRepo(t, "", "graph", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "apps → "+apps+"//staging (external)") {
		t.Errorf("graph without a mapping:\n%s", r)
	}
	if r := runRepo(t, "", "lint", dir, "--repo-override", apps+"=apps"); r.code != 0 {
		t.Errorf("lint, artifact mapped to its directory:\n%s", r)
	}
	r = runRepo(t, "", "lint", dir, "--repo-override", apps+"=apps/base")
	if r.code != 1 || !strings.Contains(r.stdout, "Kustomization flux-system/apps points at apps/base/staging, which does not exist") {
		t.Errorf("lint, artifact mapped to the wrong directory:\n%s", r)
	}
	for _, cmd := range []string{"graph", "lint"} {
		if r := runRepo(t, "", cmd, dir, "--repo-override", "nope"); r.code != 2 || !strings.Contains(r.stderr, `invalid --repo-override "nope"`) {
			t.Errorf("%s with a malformed override:\n%s", cmd, r)
		}
	}
}
