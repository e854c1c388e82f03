package gitopsapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// withoutKind is the real server as one without a CRD.
type withoutKind struct {
	cluster.Reader
	kind string
}

func (w withoutKind) Mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	if gvk.Kind == w.kind {
		return nil, fmt.Errorf("%s: %w", gvk, cluster.ErrKindNotServed)
	}
	return w.Reader.Mapping(ctx, gvk)
}

// TestFluxOCIRepositoryOnTheServer: a Kustomization whose source is an
// OCIRepository with a secretRef, read with the real CRDs: the docker
// config is read from the Secret; a missing Secret, or one without a
// .dockerconfigjson, is that source's problem; a cluster without the
// OCIRepository CRD leaves the other Kustomizations readable.
func TestFluxOCIRepositoryOnTheServer(t *testing.T) {
	cp := controlplane.ForTest(t)
	c := client(t, cp)
	kubectl(t, cp, "", "create", "namespace", "oci-t")
	config := `{"auths":{"registry.example.com":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("flux:canary-s3cr3t-7f3a")) + `"}}}`
	kubectl(t, cp, `apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: oci-t}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: `+base64.StdEncoding.EncodeToString([]byte(config))+`}
---
apiVersion: v1
kind: Secret
metadata: {name: opaque, namespace: oci-t}
data: {token: `+base64.StdEncoding.EncodeToString([]byte("x"))+`}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: app, namespace: oci-t}
spec: {interval: 5m, url: oci://registry.example.com/fleet/app, ref: {semver: ">=1.0.0"}, secretRef: {name: regcred}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: nosecret, namespace: oci-t}
spec: {interval: 5m, url: oci://registry.example.com/fleet/app, secretRef: {name: gone}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: opaque, namespace: oci-t}
spec: {interval: 5m, url: oci://registry.example.com/fleet/app, secretRef: {name: opaque}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: oci-t}
spec: {interval: 5m, url: https://git.example.com/fleet.git}
`, "apply", "-f", "-")
	for _, ks := range []struct{ name, kind, source string }{
		{"app", "OCIRepository", "app"}, {"nosecret", "OCIRepository", "nosecret"}, {"opaque", "OCIRepository", "opaque"}, {"git", "GitRepository", "fleet"},
	} {
		kubectl(t, cp, fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: %s, namespace: oci-t}
spec: {interval: 5m, prune: true, path: ./deploy, sourceRef: {kind: %s, name: %s}}
`, ks.name, ks.kind, ks.source), "apply", "-f", "-")
	}

	s, err := GetFluxKustomization(t.Context(), c, "oci-t", "app")
	if err != nil || s.OCI == nil || string(s.OCI.DockerConfigJSON) != config || s.OCI.Semver != ">=1.0.0" || s.Skip() != "" {
		t.Fatalf("app: %+v, %v", s, err)
	}
	all, err := ListFluxKustomizations(t.Context(), c, "oci-t")
	if err != nil || len(all) != 4 {
		t.Fatalf("list: %d sources, %v", len(all), err)
	}
	problems := map[string]string{}
	for _, s := range all {
		problems[s.Name] = s.Problem
	}
	if !strings.Contains(problems["nosecret"], `reading the secretRef of OCIRepository oci-t/nosecret: secrets "gone" not found`) ||
		problems["opaque"] != "Secret oci-t/opaque (secretRef of OCIRepository opaque) has no valid .dockerconfigjson" ||
		problems["app"] != "" || problems["git"] != "" {
		t.Errorf("problems %q", problems)
	}
	for _, s := range all {
		for _, text := range append([]string{s.Problem, s.Skip()}, s.Warnings...) {
			if strings.Contains(text, "canary-s3cr3t-7f3a") {
				t.Errorf("%s: the credentials leak: %s", s.Name, text)
			}
		}
	}

	all, err = ListFluxKustomizations(t.Context(), withoutKind{c, "OCIRepository"}, "oci-t")
	if err != nil || len(all) != 4 {
		t.Fatalf("without the CRD: %d sources, %v", len(all), err)
	}
	for _, s := range all {
		if (s.Name == "git") != (s.Problem == "") || s.Name != "git" && !strings.Contains(s.Problem, "not installed") {
			t.Errorf("without the CRD: %s: problem %q", s.Name, s.Problem)
		}
	}
}
