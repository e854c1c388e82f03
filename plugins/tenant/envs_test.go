package tenant

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// kustomizeBuild builds dir with the real kubectl of the control plane.
func kustomizeBuild(t *testing.T, cp *controlplane.ControlPlane, dir string) string {
	t.Helper()
	out, err := cp.Kubectl(t.Context(), "kustomize", dir).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(interface{ Stderr() []byte }); ok {
			stderr = string(ee.Stderr())
		}
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, stderr)
	}
	return string(out)
}

// applyStrict applies a YAML stream with server-side apply and strict field
// validation (dryRun: the server's dry run).
func applyStrict(t *testing.T, cp *controlplane.ControlPlane, yamlText string, dryRun bool) string {
	t.Helper()
	args := []string{"apply", "--server-side", "--validate=strict", "--force-conflicts", "--field-manager=tenant-test", "-f", "-"}
	if dryRun {
		args = append(args, "--dry-run=server")
	}
	cmd := cp.Kubectl(t.Context(), args...)
	cmd.Stdin = strings.NewReader(yamlText)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Per-environment overlays in the shape of fluxcd/flux2-multi-tenancy:
// tenants/base/<tenant>/ and tenants/<env>/kustomization.yaml patching each
// Flux Kustomization's path; each overlay builds with the real kubectl
// kustomize and its result passes strict validation on the real server.
func TestEnvironmentOverlaysBuildAndApply(t *testing.T) {
	cp := controlplane.ForTest(t)
	dir := filepath.Join(t.TempDir(), "tenants")
	r := runTenant(t, "/dev/null", "create", "dev-team", "-n", "apps", "--admin-group", "dev-team",
		"--operator", "flux", "--repo", "https://github.com/example/dev-team.git", "--reconciler-service-account", "dev-team",
		"--envs", "staging,production", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A second tenant with two namespaces in the same overlays; the overlay
	// keeps a comment a person added.
	stagingKust := filepath.Join(dir, "staging", "kustomization.yaml")
	data, err := os.ReadFile(stagingKust)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stagingKust, append([]byte("# staging tenants, reviewed by platform\n"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runTenant(t, "/dev/null", "create", "ops", "-n", "ops-a", "-n", "ops-b", "--admin-user", "olga",
		"--operator", "flux", "--repo", "https://github.com/example/ops.git", "--envs", "staging,production", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("create ops: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, p := range []string{"base/dev-team/flux.yaml", "base/dev-team/tenant.yaml", "base/ops/rbac.yaml",
		"staging/dev-team-patch.yaml", "production/ops-patch.yaml", "production/kustomization.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("not written: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "dev-team")); err == nil {
		t.Errorf("the tenant was also written to %s/dev-team", dir)
	}
	if data, _ := os.ReadFile(stagingKust); !strings.Contains(string(data), "# staging tenants, reviewed by platform") ||
		!strings.Contains(string(data), "../base/ops") {
		t.Errorf("staging overlay lost its comment or misses ops:\n%s", data)
	}
	// Idempotent.
	r = runTenant(t, "/dev/null", "create", "ops", "-n", "ops-a", "-n", "ops-b", "--admin-user", "olga",
		"--operator", "flux", "--repo", "https://github.com/example/ops.git", "--envs", "staging,production", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "is up to date") {
		t.Errorf("second create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// list reads tenants from base/.
	r = runTenant(t, "/dev/null", "list", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "dev-team") || !strings.Contains(r.stdout, "ops-a,ops-b") {
		t.Errorf("list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// apply (bootstrap) finds the tenant's base (before the overlay takes
	// .spec.path with another field manager).
	r = runTenant(t, cp.Kubeconfig, "apply", "dev-team", "--dir", dir, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "serverside-applied (server dry run)") {
		t.Errorf("apply --dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	for _, env := range []string{"staging", "production"} {
		out := kustomizeBuild(t, cp, filepath.Join(dir, env))
		for _, want := range []string{
			"path: ./" + env + "\n",       // dev-team, one namespace
			"path: ./ops-a/" + env + "\n", // ops, one path per namespace
			"path: ./ops-b/" + env + "\n",
			"serviceAccountName: dev-team\n",
			"toolkit.fluxcd.io/tenant: ops\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s overlay: no %q in the build:\n%s", env, want, out)
			}
		}
		if strings.Contains(out, "path: ./\n") || strings.Contains(out, "path: ./ops-a\n") {
			t.Errorf("%s overlay: a base path was not patched:\n%s", env, out)
		}
		// Namespaces are created by the apply itself (they lead the stream);
		// one environment is applied for real, the other dry-run (the same
		// objects with another path).
		applyStrict(t, cp, out, env == "production")
	}
	got := kubectl(t, cp, "get", "kustomizations.kustomize.toolkit.fluxcd.io", "-A", "-o",
		`jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.spec.path} {end}`)
	for _, want := range []string{"apps/dev-team=./staging", "ops-a/ops=./ops-a/staging", "ops-b/ops=./ops-b/staging"} {
		if !strings.Contains(got, want) {
			t.Errorf("live Kustomizations %q, want %s", got, want)
		}
	}

	// delete removes the base, the patches and the overlay entries, and
	// keeps the rest.
	r = runTenant(t, "/dev/null", "delete", "ops", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("delete: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, p := range []string{"base/ops", "staging/ops-patch.yaml", "production/ops-patch.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s not removed", p)
		}
	}
	data, _ = os.ReadFile(stagingKust)
	if strings.Contains(string(data), "ops") || !strings.Contains(string(data), "../base/dev-team") ||
		!strings.Contains(string(data), "# staging tenants") {
		t.Errorf("staging overlay after delete:\n%s", data)
	}
	kustomizeBuild(t, cp, filepath.Join(dir, "staging"))
}

// Environments are validated: they need Flux, and must not collide with
// the base directory or a tenant's directory.
func TestEnvironmentFlagErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tenants")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--operator", "argocd", "--envs", "staging"}, "--envs: environments patch the Flux Kustomization's path"},
		{[]string{"--operator", "flux", "--envs", "base"}, `--envs: "base" is the directory of the tenants' base files`},
		{[]string{"--operator", "flux", "--envs", "Prod"}, `--envs: invalid environment "Prod"`},
		{[]string{"--operator", "flux", "--envs", "staging,staging"}, `environment "staging" is listed twice`},
		{[]string{"--operator", "flux", "--envs", "x1"}, `environment "x1" is also the name of tenant "x1"`},
	} {
		args := append([]string{"create", "x1", "-n", "x1", "--admin-user", "u", "--repo", "https://example.com/r.git", "--dir", dir}, tc.args...)
		r := runTenant(t, "/dev/null", args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, r.code, tc.want, r.stderr)
		}
	}
}

// A tenant that drops an environment leaves that overlay: its patch is
// removed and the overlay, which keeps the other tenants, still builds; one
// that drops every environment moves back to DIR/<tenant>.
func TestDroppedEnvironmentIsUnwired(t *testing.T) {
	cp := controlplane.ForTest(t)
	dir := filepath.Join(t.TempDir(), "tenants")
	create := func(name, envs string) {
		t.Helper()
		args := []string{"create", name, "-n", name, "--admin-user", "u", "--operator", "flux",
			"--repo", "https://github.com/example/" + name + ".git", "--dir", dir}
		if envs != "" {
			args = append(args, "--envs", envs)
		}
		if r := runTenant(t, "/dev/null", args...); r.code != 0 {
			t.Fatalf("create %s --envs %q: exit %d\n%s%s", name, envs, r.code, r.stdout, r.stderr)
		}
	}
	create("keep", "staging,production")
	create("mover", "staging,production")
	create("mover", "staging")
	if _, err := os.Stat(filepath.Join(dir, "production", "mover-patch.yaml")); err == nil {
		t.Error("production/mover-patch.yaml not removed")
	}
	prod := readString(t, filepath.Join(dir, "production", "kustomization.yaml"))
	if strings.Contains(prod, "mover") || !strings.Contains(prod, "../base/keep") {
		t.Errorf("production overlay:\n%s", prod)
	}
	if out := kustomizeBuild(t, cp, filepath.Join(dir, "production")); strings.Contains(out, "mover") {
		t.Errorf("production still builds mover:\n%s", out)
	}
	if out := kustomizeBuild(t, cp, filepath.Join(dir, "staging")); !strings.Contains(out, "path: ./staging\n  prune: true\n  serviceAccountName: gitops-reconciler\n  sourceRef:\n    kind: GitRepository\n    name: mover") {
		t.Errorf("staging lost mover:\n%s", out)
	}

	create("mover", "")
	if _, err := os.Stat(filepath.Join(dir, "base", "mover", "tenant.yaml")); err == nil {
		t.Error("base/mover not removed")
	}
	if s := readString(t, filepath.Join(dir, "staging", "kustomization.yaml")); strings.Contains(s, "mover") {
		t.Errorf("staging overlay still lists mover:\n%s", s)
	}
	if s := readString(t, filepath.Join(dir, "kustomization.yaml")); !strings.Contains(s, "- mover\n") {
		t.Errorf("tenants kustomization lacks mover:\n%s", s)
	}
	kustomizeBuild(t, cp, filepath.Join(dir, "staging"))
	kustomizeBuild(t, cp, dir)
}
