package tenant

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func newRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return repo
}

func readString(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// A Flux cluster directory (with flux-system) gets clusters/<env>/tenants.yaml
// reconciling the environment's overlay, as flux2-multi-tenancy does; it
// passes strict validation against the real Kustomization CRD.
func TestCreateWiresAFluxCluster(t *testing.T) {
	cp := controlplane.ForTest(t)
	repo := newRepo(t)
	dir := filepath.Join(repo, "tenants")
	staging := filepath.Join(repo, "clusters", "staging")
	writeFluxSystem(t, filepath.Join(staging, "flux-system"))
	create := func(cluster string) runResult {
		return runTenant(t, "/dev/null", "create", "dev-team", "-n", "apps", "--admin-group", "dev-team", "--operator", "flux",
			"--repo", "https://github.com/example/dev-team.git", "--envs", "staging,production", "--dir", dir, "--cluster", cluster)
	}

	// A cluster directory named like no environment is refused before
	// anything is written.
	qa := filepath.Join(repo, "clusters", "qa")
	writeFluxSystem(t, filepath.Join(qa, "flux-system"))
	if r := create(qa); r.code != 2 || !strings.Contains(r.stderr, "has the environments staging, production") {
		t.Errorf("--cluster clusters/qa: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("a refused wiring wrote %s", dir)
	}

	r := create(staging)
	if r.code != 0 {
		t.Fatalf("create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	p := filepath.Join(staging, tenancy.FileClusterTenants)
	got := readString(t, p)
	if !strings.Contains(got, "path: ./tenants/staging\n") || !strings.Contains(got, "serviceAccountName: kustomize-controller\n") {
		t.Errorf("%s:\n%s", p, got)
	}
	if !strings.Contains(r.stdout, "created "+p) {
		t.Errorf("create does not say it wired the cluster:\n%s", r.stdout)
	}
	kubectl(t, cp, "create", "namespace", "wire-check")
	applyStrict(t, cp, strings.Replace(got, "namespace: flux-system", "namespace: wire-check", 1), true)

	if r := create(staging); r.code != 0 || !strings.Contains(r.stdout, "is up to date") {
		t.Errorf("second create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Someone's own tenants.yaml reconciling the same path is kept.
	own := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: tenants, namespace: flux-system}\n" +
		"spec:\n  dependsOn: [{name: kyverno-policies}]\n  interval: 5m\n  sourceRef: {kind: GitRepository, name: flux-system}\n  path: ./tenants/staging\n  prune: true\n"
	writeFile(t, staging, tenancy.FileClusterTenants, own)
	if r := create(staging); r.code != 0 || readString(t, p) != own {
		t.Errorf("create over the reference's own tenants.yaml: exit %d\n%s%s\n%s", r.code, r.stdout, r.stderr, readString(t, p))
	}
	// One reconciling something else is not overwritten.
	writeFile(t, staging, tenancy.FileClusterTenants, strings.Replace(own, "./tenants/staging", "./teams", 1))
	if r := create(staging); r.code != 2 || !strings.Contains(r.stderr, "refusing to overwrite") {
		t.Errorf("create over another tenants.yaml: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A cluster directory built by its kustomization.yaml gets the tenants
// directory in its resources (comments kept), and builds with the real
// kubectl kustomize; one without a kustomization.yaml is left alone and the
// command prints exactly the entry to add.
func TestCreateWiresAKustomizeCluster(t *testing.T) {
	cp := controlplane.ForTest(t)
	repo := newRepo(t)
	dir := filepath.Join(repo, "tenants")
	prod := filepath.Join(repo, "clusters", "prod")
	if err := os.MkdirAll(prod, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, prod, "apps.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: apps, namespace: default}\n")
	writeFile(t, prod, "kustomization.yaml", "# prod cluster\nresources:\n  - apps.yaml # the apps\n")
	r := runTenant(t, "/dev/null", "create", "team-a", "-n", "team-a", "--admin-group", "a", "--dir", dir, "--cluster", prod)
	if r.code != 0 {
		t.Fatalf("create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := readString(t, filepath.Join(prod, "kustomization.yaml"))
	if !strings.Contains(got, "# prod cluster") || !strings.Contains(got, "# the apps") || !strings.Contains(got, "- ../../tenants\n") {
		t.Errorf("clusters/prod/kustomization.yaml:\n%s", got)
	}
	built := kustomizeBuild(t, cp, prod)
	for _, want := range []string{"name: apps\n", "name: team-a\n", "kind: NetworkPolicy"} {
		if !strings.Contains(built, want) {
			t.Errorf("the cluster's build lacks %q:\n%s", want, built)
		}
	}

	bare := filepath.Join(repo, "clusters", "bare")
	if err := os.MkdirAll(bare, 0o755); err != nil {
		t.Fatal(err)
	}
	r = runTenant(t, "/dev/null", "create", "team-b", "-n", "team-b", "--admin-group", "b", "--dir", dir, "--cluster", bare)
	if r.code != 0 || !strings.Contains(r.stdout, "add to the resources of what builds it:\n  - ../../tenants\n") {
		t.Errorf("create --cluster bare: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if entries, _ := os.ReadDir(bare); len(entries) != 0 {
		t.Errorf("wrote into %s: %v", bare, entries)
	}
}
