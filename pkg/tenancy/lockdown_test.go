package tenancy

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/lockdown/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The lockdown added to the kustomization.yaml `flux bootstrap` writes is
// byte for byte the golden file, keeps the comment, and is the very
// kustomization of fluxcd/flux2-multi-tenancy (clusters/staging/flux-system,
// commit 192da0594c0c06a38a232050b05fdb6e000d6eb8) as data.
func TestLockdownGolden(t *testing.T) {
	got, added, err := EditLockdown(readTestdata(t, "bootstrap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 4 {
		t.Errorf("added %d patches, want 4", len(added))
	}
	golden.Check(t, "testdata/lockdown/bootstrap.golden", got)
	if !strings.HasPrefix(string(got), "# flux-system, as `flux bootstrap` writes it\n") {
		t.Errorf("comment lost:\n%s", got)
	}
	var want, have map[string]any
	if err := yaml.Unmarshal(readTestdata(t, "flux2-multi-tenancy.yaml"), &want); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(got, &have); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("lockdown differs from Flux's reference (-reference +ours):\n%s", diff)
	}
}

// Patches already there, however formatted, are not added twice; a missing
// one is.
func TestLockdownIdempotent(t *testing.T) {
	ref := readTestdata(t, "flux2-multi-tenancy.yaml")
	out, added, err := EditLockdown(ref)
	if err != nil || len(added) != 0 || string(out) != string(ref) {
		t.Fatalf("reference: added %v, err %v, changed %v", added, err, string(out) != string(ref))
	}
	// Without the --no-remote-bases patch, and the others in flow style.
	partial := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [gotk-components.yaml, gotk-sync.yaml]
patches:
  - patch: '[{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--no-cross-namespace-refs=true"}]'
    target: {kind: Deployment, name: "(kustomize-controller|helm-controller)"}
  - patch: |
      - {op: add, path: /spec/template/spec/containers/0/args/-, value: --default-service-account=default}
    target: {kind: Deployment}
  - patch: |
      - op: add
        path: /spec/serviceAccountName
        value: kustomize-controller
    target:
      kind: Kustomization
      name: flux-system
`
	out, added, err = EditLockdown([]byte(partial))
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || added[0].Value != "--no-remote-bases=true" {
		t.Fatalf("added %+v, want only --no-remote-bases=true", added)
	}
	if _, again, _ := EditLockdown(out); len(again) != 0 {
		t.Errorf("second edit added %+v", again)
	}
	if _, _, err := EditLockdown(nil); err == nil {
		t.Error("an empty flux-system kustomization was accepted")
	}
}
