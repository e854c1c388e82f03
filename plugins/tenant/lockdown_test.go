package tenant

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// fluxController is a Deployment shaped as gotk-components.yaml writes one
// (container 0 "manager", the args flux install sets).
func fluxController(name string) string {
	return fmt.Sprintf(`---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: flux-system
  labels: {app.kubernetes.io/component: %[1]s, app.kubernetes.io/part-of: flux}
spec:
  replicas: 1
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      serviceAccountName: %[1]s
      containers:
      - name: manager
        image: ghcr.io/fluxcd/%[1]s:v1.0.0
        args:
        - --events-addr=http://notification-controller.flux-system.svc.cluster.local./
        - --watch-all-namespaces=true
        - --log-level=info
        - --log-encoding=json
        - --enable-leader-election
`, name)
}

// writeFluxSystem writes a minimal flux-system directory as flux bootstrap
// does: gotk-components.yaml (the Namespace and the controllers),
// gotk-sync.yaml (the GitRepository and Kustomization flux-system) and the
// kustomization.yaml listing them.
func writeFluxSystem(t *testing.T, dir string) {
	t.Helper()
	components := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n"
	for _, c := range []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"} {
		components += fluxController(c)
	}
	files := map[string]string{
		"gotk-components.yaml": components,
		"gotk-sync.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: https://github.com/example/fleet.git
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/staging
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
		"kustomization.yaml": "# written by flux bootstrap\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-components.yaml\n- gotk-sync.yaml\n",
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		writeFile(t, dir, name, data)
	}
}

// builtArgs returns, per Deployment of a kustomize build, its container 0
// args, and the flux-system Kustomization's serviceAccountName.
func builtArgs(t *testing.T, built string) (map[string][]string, string) {
	t.Helper()
	args := map[string][]string{}
	var sa string
	for _, doc := range strings.Split(built, "\n---\n") {
		var o struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct {
				ServiceAccountName string `json:"serviceAccountName"`
				Template           struct {
					Spec struct {
						Containers []struct{ Args []string }
					}
				}
			}
		}
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		switch o.Kind {
		case "Deployment":
			args[o.Metadata.Name] = o.Spec.Template.Spec.Containers[0].Args
		case "Kustomization":
			sa = o.Spec.ServiceAccountName
		}
	}
	return args, sa
}

// fluxGuard runs verify -o json for tenant and returns the guard of the
// kustomize-controller Deployment.
func fluxGuard(t *testing.T, cp *controlplane.ControlPlane, dir, tenant string) tenancy.GuardResult {
	t.Helper()
	r := runTenant(t, cp.Kubeconfig, "verify", tenant, "--dir", dir, "-o", "json")
	var rep tenancy.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify -o json: exit %d: %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	for _, g := range rep.Guards {
		if g.Kind == "Deployment" && g.Name == tenancy.FluxKustomizeController {
			return g
		}
	}
	t.Fatalf("verify reported no kustomize-controller guard:\n%s", r.stdout)
	return tenancy.GuardResult{}
}

// `tenant lockdown` adds the reference's patches to the flux-system
// kustomization; the real kubectl kustomize builds them into the
// controllers' args; on the real server, verify finds a kustomize-controller
// without --no-remote-bases=true (and the other flags) and none once the
// locked-down build is applied.
func TestLockdownBuildsAndVerifyChecksTheFlags(t *testing.T) {
	cp := controlplane.ForTest(t)
	work := t.TempDir()
	fluxSystem := filepath.Join(work, "clusters", "staging", "flux-system")
	writeFluxSystem(t, fluxSystem)
	t.Cleanup(func() {
		_ = cp.Kubectl(t.Context(), "delete", "deployments", "--all", "-n", "flux-system").Run()
	})

	// A Flux tenant, applied, to verify.
	dir := filepath.Join(work, "tenants")
	if r := runTenant(t, "/dev/null", "create", "lockdown-team", "-n", "lockdown-team", "--admin-group", "lockdown-admins",
		"--operator", "flux", "--repo", "https://github.com/example/lockdown-team.git", "--dir", dir); r.code != 0 {
		t.Fatalf("create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runTenant(t, cp.Kubeconfig, "apply", "lockdown-team", "--dir", dir); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Before: the bootstrap install, and one with every flag but
	// --no-remote-bases.
	applyStrict(t, cp, kustomizeBuild(t, cp, fluxSystem), false)
	g := fluxGuard(t, cp, dir, "lockdown-team")
	if g.Status != tenancy.GuardWeakened || !strings.Contains(g.Message, "--no-remote-bases=true is not set") {
		t.Errorf("bootstrap install: guard %+v, want weakened naming --no-remote-bases=true", g)
	}
	kubectl(t, cp, "patch", "deployment", "kustomize-controller", "-n", "flux-system", "--type=json", "-p",
		`[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--no-cross-namespace-refs=true"},`+
			`{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--default-service-account=default"}]`)
	g = fluxGuard(t, cp, dir, "lockdown-team")
	if g.Status != tenancy.GuardWeakened || g.Message != "--no-remote-bases=true is not set" {
		t.Errorf("without --no-remote-bases: guard %+v, want weakened: --no-remote-bases=true is not set", g)
	}

	r := runTenant(t, "", "lockdown", fluxSystem)
	if r.code != 0 || strings.Count(r.stdout, "added patch") != 4 {
		t.Fatalf("lockdown: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(fluxSystem, "kustomization.yaml")); !strings.HasPrefix(string(data), "# written by flux bootstrap\n") {
		t.Errorf("comment lost:\n%s", data)
	}
	if r := runTenant(t, "", "lockdown", fluxSystem); r.code != 0 || !strings.Contains(r.stdout, "locked down already") {
		t.Errorf("second lockdown: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	built := kustomizeBuild(t, cp, fluxSystem)
	args, sa := builtArgs(t, built)
	want := map[string][]string{
		"kustomize-controller":    {"--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=default"},
		"helm-controller":         {"--no-cross-namespace-refs=true", "--default-service-account=default"},
		"notification-controller": {"--no-cross-namespace-refs=true"},
		"source-controller":       nil,
	}
	for name, flags := range want {
		got := args[name]
		if len(got) != 5+len(flags) {
			t.Errorf("%s args %v, want the 5 of the install and %v", name, got, flags)
			continue
		}
		for i, f := range flags {
			if got[5+i] != f {
				t.Errorf("%s args %v, want %v appended", name, got, flags)
			}
		}
	}
	if sa != tenancy.FluxKustomizeController {
		t.Errorf("flux-system Kustomization serviceAccountName %q, want kustomize-controller", sa)
	}
	applyStrict(t, cp, built, false)
	if g := fluxGuard(t, cp, dir, "lockdown-team"); g.Status != tenancy.GuardOK {
		t.Errorf("locked down: guard %+v, want ok", g)
	}

	// Without a directory: the patches, to add by hand.
	r = runTenant(t, "", "lockdown")
	if r.code != 0 || strings.Count(r.stdout, "- patch: |") != 4 || !strings.Contains(r.stdout, "value: --no-remote-bases=true") {
		t.Errorf("lockdown (print): exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
