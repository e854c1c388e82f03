package promote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promoter"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
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

// countingCluster is a Reader and SchemaReader that is not a
// *cluster.Client: it passes every call on to a real client and counts the
// reads and schema reads, and has no Apply at all.
type countingCluster struct {
	client         *cluster.Client
	reads, schemas atomic.Int32
}

func (c *countingCluster) Mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	return c.client.Mapping(ctx, gvk)
}

func (c *countingCluster) Get(ctx context.Context, m *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error) {
	c.reads.Add(1)
	return c.client.Get(ctx, m, namespace, name)
}

func (c *countingCluster) List(ctx context.Context, m *meta.RESTMapping, namespace, labelSelector string) ([]unstructured.Unstructured, error) {
	c.reads.Add(1)
	return c.client.List(ctx, m, namespace, labelSelector)
}

func (c *countingCluster) OpenAPIV3Paths(ctx context.Context) (map[schema.GroupVersion]string, error) {
	return c.client.OpenAPIV3Paths(ctx)
}

func (c *countingCluster) OpenAPIV3Document(ctx context.Context, url string) ([]byte, error) {
	c.schemas.Add(1)
	return c.client.OpenAPIV3Document(ctx, url)
}

// TestDriftGateNeedsOnlyReads: the drift gate works on the interfaces it
// needs (live objects, the server's schemas), not on *cluster.Client (it
// once refused anything else with "drift check needs a cluster client"):
// given a wrapper around a real client that cannot apply, it finds the
// environment in sync, then a hand-scaled Deployment, through the wrapper.
func TestDriftGateNeedsOnlyReads(t *testing.T) {
	cp := controlplane.ForTest(t)
	const ns = "shop-dev-gate"
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	dir := exampleRepo(t, bare, func(dir string) {
		for _, f := range []string{".gitops/pipeline.yaml", "envs/dev/kustomization.yaml", "envs/dev/namespace.yaml"} {
			p := filepath.Join(dir, filepath.FromSlash(f))
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(data), "shop-dev", ns)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	deploy(t, cp, dir, "dev")

	ctx := t.Context()
	repo, err := gitrepo.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := promotion.Load(filepath.Join(dir, filepath.FromSlash(promotion.DefaultFile)))
	if err != nil {
		t.Fatal(err)
	}
	env, ok := p.Env("dev")
	if !ok {
		t.Fatal("the example pipeline has no dev environment")
	}
	head, err := repo.RevParse(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingCluster{client: client}
	gate := driftGate(&promoter.Engine{Repo: repo, Pipeline: p}, func(context.Context, *promotion.Environment) (driftCluster, error) {
		return cc, nil
	})

	msg, err := gate(ctx, env, head)
	if err != nil || msg != "" {
		t.Fatalf("in-sync environment: drift %q, error %v", msg, err)
	}
	if cc.reads.Load() == 0 || cc.schemas.Load() == 0 {
		t.Fatalf("the gate did not read through the cluster it was given (%d reads, %d schema reads)", cc.reads.Load(), cc.schemas.Load())
	}

	kubectl(t, cp, "-n", ns, "scale", "deployment/worker", "--replicas=3")
	msg, err = gate(ctx, env, head)
	if err != nil || !strings.Contains(msg, "Deployment "+ns+"/worker modified") {
		t.Fatalf("hand-scaled Deployment: drift %q, error %v", msg, err)
	}
}
