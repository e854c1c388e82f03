package promote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestDriftGateReadsEveryKustomizationFileName: the drift gate builds the
// source environment as drift -k does whatever kustomize name its
// kustomization file has (kustomization.yml, Kustomization), instead of
// reading the directory as plain manifests: in sync passes, a hand-scaled
// Deployment is refused.
func TestDriftGateReadsEveryKustomizationFileName(t *testing.T) {
	cp := controlplane.ForTest(t)
	for _, tt := range []struct{ file, ns string }{
		{"kustomization.yml", "shop-dev-yml"},
		{"Kustomization", "shop-dev-capital"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			bare := filepath.Join(t.TempDir(), "remote.git")
			git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
			dir := exampleRepo(t, bare, func(dir string) {
				for _, env := range []string{"dev", "staging", "prod"} {
					d := filepath.Join(dir, "envs", env)
					if err := os.Rename(filepath.Join(d, "kustomization.yaml"), filepath.Join(d, tt.file)); err != nil {
						t.Fatal(err)
					}
				}
				for _, f := range []string{".gitops/pipeline.yaml", "envs/dev/" + tt.file, "envs/dev/namespace.yaml"} {
					p := filepath.Join(dir, filepath.FromSlash(f))
					data, err := os.ReadFile(p)
					if err != nil {
						t.Fatal(err)
					}
					s := strings.ReplaceAll(string(data), "shop-dev", tt.ns)
					s = strings.ReplaceAll(s, "file: kustomization.yaml", "file: "+tt.file)
					if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			})
			deploy(t, cp, dir, "dev")

			// Scaled by hand: refused, as drift -k envs/dev reports it.
			kubectl(t, cp, "-n", tt.ns, "scale", "deployment/worker", "--replicas=3")
			rollout(t, cp, tt.ns, "worker", 3, time.Now().Add(-time.Hour))
			r := promote(t, cp.Kubeconfig, dir, "worker", "--to", "staging")
			if r.code != 1 || !strings.Contains(r.stderr, "drift from Git") || !strings.Contains(r.stderr, "Deployment "+tt.ns+"/worker modified") {
				t.Fatalf("drifted environment with %s not refused: %s", tt.file, r)
			}

			// Back as Git has it: in sync, promoted.
			kubectl(t, cp, "-n", tt.ns, "scale", "deployment/worker", "--replicas=1")
			rollout(t, cp, tt.ns, "worker", 1, time.Now().Add(-time.Hour))
			r = promote(t, cp.Kubeconfig, dir, "worker", "--to", "staging")
			if r.code != 0 || !strings.Contains(r.stdout, "✓ drift worker in dev: in sync with Git") {
				t.Fatalf("in-sync environment with %s not passed: %s", tt.file, r)
			}
			if got := remoteFile(t, dir, "envs/staging/worker-image.yaml"); !strings.Contains(got, "worker:0.9.1") {
				t.Fatalf("staging not promoted:\n%s", got)
			}
		})
	}
}
