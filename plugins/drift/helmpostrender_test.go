package drift

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// TestFluxHelmReleasePostRenderers: the real sealed-secrets chart from an
// HTTP chart repository, with two kustomize post-renderers — patches (a
// JSON patch adding an environment variable to the Deployment, a strategic
// merge patch annotating the Service; the chart renders env: null), then images (the controller's
// image mirrored) — applied as helm-controller applies them: the chart
// rendered by the real helm CLI, post-rendered in order by kubectl's
// kustomize, then labelled and created by field manager helm-controller.
// drift finds the release in sync (the patched values are what Git asks
// for, not drift), then each hand edit of a patched field with its
// author, and nothing else, in server and hybrid mode.
func TestFluxHelmReleasePostRenderers(t *testing.T) {
	cp := controlplane.ForTest(t)
	peertools.Require(t, peertools.Helm, "helm")
	tmp := t.TempDir()
	_, archive, repoSrv := serveSealedSecrets(t, tmp)

	const hrNS, relNS, hr = "pr-flux", "pr-apps", "sealed"
	const full = relNS + "-" + hr + "-sealed-secrets" // the chart's fullname
	for _, ns := range []string{hrNS, relNS} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	t.Cleanup(func() {
		_ = cp.Kubectl(context.Background(), "delete", "namespace", hrNS, relNS, "--wait=false").Run()
		_ = cp.Kubectl(context.Background(), "delete", "clusterrole,clusterrolebinding", "-l", "helm.toolkit.fluxcd.io/namespace="+hrNS, "--wait=false").Run()
	})
	// The post-renderers, as the HelmRelease has them and as kustomize
	// takes them.
	patches := `patches:
- target: {kind: Deployment, name: ` + full + `}
  patch: |
    - op: add
      path: /spec/template/spec/containers/0/env
      value: [{name: HTTPS_PROXY, value: "http://proxy.example.com:3128"}]
- patch: |
    apiVersion: v1
    kind: Service
    metadata:
      name: ` + full + `
      namespace: ` + relNS + `
      annotations: {post-rendered: "yes"}
`
	images := `images:
- name: docker.io/bitnami/sealed-secrets-controller
  newName: registry.example.com/mirror/sealed-secrets-controller
  newTag: 0.39.1-mirrored
`
	indent := func(s, pre string) string {
		return pre + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pre) + "\n"
	}
	kubectl(t, cp, `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: `+hrNS+`}
spec: {interval: 10m, url: "`+repoSrv.URL+`"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: `+hr+`, namespace: `+hrNS+`}
spec:
  interval: 10m
  targetNamespace: `+relNS+`
  install: {crds: Skip}
  values: {rbac: {clusterRoleName: `+relNS+`-unsealer}}
  chart:
    spec:
      chart: sealed-secrets
      sourceRef: {kind: HelmRepository, name: charts}
  postRenderers:
  - kustomize:
`+indent(patches, "      ")+`  - kustomize:
`+indent(images, "      "), "apply", "-f", "-")

	values := map[string]any{"rbac": map[string]any{"clusterRoleName": relNS + "-unsealer"}}
	rendered := helmTemplate(t, cp, archive, relNS+"-"+hr, relNS, values)
	// helm-controller's post-renderers, in order: a kustomization over
	// the rendered manifest for each.
	for i, pr := range []string{patches, images} {
		dir := filepath.Join(tmp, "post", string(rune('a'+i)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [helm-output.yaml]\n" + pr
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "helm-output.yaml"), []byte(rendered), 0o600); err != nil {
			t.Fatal(err)
		}
		rendered = kubectl(t, cp, "", "kustomize", dir)
	}
	if !strings.Contains(rendered, "HTTPS_PROXY") || !strings.Contains(rendered, "0.39.1-mirrored") || !strings.Contains(rendered, "post-rendered") {
		t.Fatalf("kustomize did not post-render the chart:\n%s", rendered)
	}
	manifest := createAsHelmController(t, cp, rendered, relNS+"-"+hr, relNS, hrNS, hr)
	helmRecord(t, cp, hrNS, relNS+"-"+hr, 1, manifest, values)

	args := []string{"--flux-helmrelease", hrNS + "/" + hr, "--mode", "server", "-o", "json"}
	name := "helmrelease/" + hrNS + "/" + hr
	t.Run("post-rendered values are not drift", func(t *testing.T) {
		// runDrift holds hybrid mode (the default) to server mode's report.
		r := runDrift(t, cp, args...)
		if got := driftBySource(parseSources(t, r))[name]; r.code != cli.ExitOK || got != "" {
			t.Errorf("exit %d, drift:\n%s\nstderr: %s", r.code, got, r.stderr)
		}
	})

	kubectl(t, cp, "", "set", "env", "-n", relNS, "deployment/"+full, "-c", "controller", "HTTPS_PROXY=http://elsewhere.example.com:3128")
	kubectl(t, cp, "", "set", "image", "-n", relNS, "deployment/"+full, "controller=docker.io/bitnami/sealed-secrets-controller:0.39.1")
	kubectl(t, cp, "", "annotate", "-n", relNS, "service/"+full, "post-rendered=no", "--overwrite")
	t.Run("hand edits of patched fields, with attribution", func(t *testing.T) {
		r := runDrift(t, cp, args...)
		want := strings.Join([]string{
			"Deployment/" + full + " modified spec.template.spec.containers[0].env[0].value kubectl-set(Update)",
			"Deployment/" + full + " modified spec.template.spec.containers[0].image kubectl-set(Update)",
			"Service/" + full + " modified metadata.annotations.post-rendered kubectl-annotate(Update)",
		}, "\n")
		if got := driftBySource(parseSources(t, r))[name]; r.code != cli.ExitFindings || got != want {
			t.Errorf("exit %d, drift\n%s\nwant\n%s\nstderr: %s", r.code, got, want, r.stderr)
		}
	})
}
