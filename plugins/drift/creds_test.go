package drift

import (
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// credsCanary is the secret the credential tests hide in URLs and Secrets.
const credsCanary = "canary-s3cr3t-7f3a"

// TestSourceURLCredentialsNeverShown: an OCIRepository's URL is cluster
// data; one with a password in its user information, or a token in its
// query, is shown through gitrepo.RedactURL in every -o of drift and of
// drift status: in the source header, the JSON origin and the error that
// says the URL cannot be used.
func TestSourceURLCredentialsNeverShown(t *testing.T) {
	cp := controlplane.ForTest(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	const ns = "creds-url"
	kubectl(t, cp, "", "create", "namespace", ns)
	var objs strings.Builder
	for name, url := range map[string]string{
		"userinfo": "oci://flux:" + credsCanary + "@registry.example.com/fleet/app",
		"query":    "oci://registry.example.com/fleet/app?token=" + credsCanary,
	} {
		objs.WriteString(`apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  interval: 5m
  url: ` + url + `
  ref: {tag: '1.0.0'}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  interval: 10m
  prune: true
  path: ./deploy
  sourceRef: {kind: OCIRepository, name: ` + name + `}
---
`)
	}
	// An Argo CD chart from a registry (Argo CD takes host/path without a
	// scheme as OCI), the password in the user information.
	objs.WriteString(`apiVersion: v1
kind: Namespace
metadata: {name: argocd}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: creds-url-chart, namespace: argocd}
spec:
  project: default
  destination: {server: "https://kubernetes.default.svc", namespace: ` + ns + `}
  source:
    repoURL: flux:` + credsCanary + `@registry.example.com/charts
    chart: app
    targetRevision: 1.0.0
`)
	kubectl(t, cp, objs.String(), "apply", "-f", "-")
	sources := []string{"--flux-kustomization", ns + "/userinfo", "--flux-kustomization", ns + "/query", "--argocd-app", "argocd/creds-url-chart"}
	for _, o := range outputs {
		r := runDriftOnce(cp, append(sources, "-o", o)...)
		if r.code != 2 {
			t.Errorf("-o %s: exit %d, want 2 (the sources cannot be fetched)\n%s%s", o, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, credsCanary) {
			t.Errorf("-o %s: the credential is shown:\n%s%s", o, r.stdout, r.stderr)
		}
		if o == "json" && !strings.Contains(r.stdout, "oci://registry.example.com/fleet/app?token=***") {
			t.Errorf("-o json does not name the redacted URL:\n%s", r.stdout)
		}
	}
	for _, o := range statusOutputs {
		r := runDriftOnce(cp, "status", "-n", ns, "-o", o)
		if strings.Contains(r.stdout+r.stderr, credsCanary) {
			t.Errorf("status -o %s: the credential is shown:\n%s%s", o, r.stdout, r.stderr)
		}
	}
}
