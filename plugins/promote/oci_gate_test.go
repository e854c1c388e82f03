package promote

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

var kustomizations = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}

// kustomizationLive creates the Flux Kustomization apps in ns reading the
// OCIRepository apps, with the status kustomize-controller writes once it
// applied revision (Ready).
func kustomizationLive(t *testing.T, cp *controlplane.ControlPlane, ns, revision string) {
	t.Helper()
	dc := dynamic.NewForConfigOrDie(cp.RESTConfig())
	ctx := t.Context()
	kubectl(t, cp, "create", "namespace", ns)
	ks := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "apps", "namespace": ns},
		"spec": map[string]any{"interval": "10m", "prune": true, "path": "./staging",
			"sourceRef": map[string]any{"kind": "OCIRepository", "name": "apps"}},
	}}
	ks, err := dc.Resource(kustomizations).Namespace(ns).Create(ctx, ks, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	ks.Object["status"] = map[string]any{
		"observedGeneration":    ks.GetGeneration(),
		"lastAppliedRevision":   revision,
		"lastAttemptedRevision": revision,
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
			"message": "Applied revision: " + revision, "lastTransitionTime": ts, "observedGeneration": ks.GetGeneration()}},
	}
	if _, err := dc.Resource(kustomizations).Namespace(ns).UpdateStatus(ctx, ks, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// appsFile is an environment's OCIRepository of the manifests artifact
// (Flux's d2 layout) and the Kustomization that applies it.
func appsFile(ref string) string {
	return `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 5m
  url: oci://ghcr.io/example/d2-fleet/apps
  ref:
    ` + ref + `
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  prune: true
  sourceRef:
    kind: OCIRepository
    name: apps
  path: ./staging
`
}

// TestPromoteOCIArtifactGate: the health gate of an application promoted
// by its OCIRepository's ref, whose health target is the Flux
// Kustomization applying that artifact, compares the Kustomization's
// applied revision ("v1.3.0@sha256:…", or "sha256:…") with the tag or
// digest promoted, not with a Git commit (it read the digest as one: the
// gate asked git whether a sha256 digest contained the commit).
func TestPromoteOCIArtifactGate(t *testing.T) {
	cp := controlplane.ForTest(t)
	digest := "sha256:" + strings.Repeat("4f", 32)
	pipeline := func(ns string) string {
		return strings.Replace(ociPipeline, "  - file: podinfo.yaml\n    ociRepository: true\n",
			"  - file: apps.yaml\n    ociRepository: true\n  health:\n    fluxKustomization: {name: apps, namespace: "+ns+"}\n", 1)
	}
	tests := []struct {
		name, ns, applied, devRef, prodRef, wantOut string
		wantCode                                    int
	}{
		{"the tag promoted is applied", "oci-kgate-tag", "v1.3.0@" + digest, `tag: "v1.3.0"`, `tag: "v1.2.0"`, "Kustomization oci-kgate-tag/apps runs v1.3.0, healthy", 0},
		{"another tag is applied", "oci-kgate-old", "v1.2.9@" + digest, `tag: "v1.3.0"`, `tag: "v1.2.0"`,
			"applied artifact v1.2.9@sha256:4f4f4f4f4f4f, not tag v1.3.0", 1},
		{"the digest promoted is applied", "oci-kgate-digest", digest, "digest: " + digest, "digest: sha256:" + strings.Repeat("0", 64),
			"Kustomization oci-kgate-digest/apps runs " + digest + ", healthy", 0},
		{"another digest is applied", "oci-kgate-digest2", "latest@sha256:" + strings.Repeat("1", 64), "digest: " + digest, "digest: sha256:" + strings.Repeat("0", 64),
			"applied artifact latest@sha256:111111111111, not digest sha256:4f4f4f4f4f4f", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kustomizationLive(t, cp, tt.ns, tt.applied)
			dir, bare := helmRepo(t, map[string]string{
				".gitops/pipeline.yaml": pipeline(tt.ns),
				"envs/dev/apps.yaml":    appsFile(tt.devRef),
				"envs/prod/apps.yaml":   appsFile(tt.prodRef),
			})
			r := promote(t, cp.Kubeconfig, dir, "podinfo", "--to", "prod", "--allow-drift")
			if r.code != tt.wantCode || !strings.Contains(r.stdout+r.stderr, tt.wantOut) {
				t.Fatalf("promote: want exit %d and %q\n%s", tt.wantCode, tt.wantOut, r)
			}
			want := appsFile(tt.prodRef)
			if tt.wantCode == 0 {
				want = appsFile(tt.devRef)
			}
			if got := git(t, bare, "show", "main:envs/prod/apps.yaml"); got+"\n" != want {
				t.Errorf("envs/prod/apps.yaml:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
