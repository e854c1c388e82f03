package gitopsapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
)

// OCIRepositoryGVK is Flux's OCIRepository (source-controller v1; clusters
// serving only v1beta2 are read through that version).
var OCIRepositoryGVK = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "OCIRepository"}

// OCISource is what pulling a Flux OCIRepository's artifact needs: its
// spec, and the docker config of its spec.secretRef.
type OCISource struct {
	// Namespace and Name identify the OCIRepository.
	Namespace, Name string
	URL             string
	// Tag, Semver (with SemverFilter) and Digest are spec.ref.
	Tag, Semver, SemverFilter, Digest string
	// LayerMediaType and LayerOperation are spec.layerSelector.
	LayerMediaType, LayerOperation string
	Insecure                       bool
	Provider                       string
	// Ignore is spec.ignore; nil when unset.
	Ignore *string
	// SecretName is spec.secretRef.name; DockerConfigJSON its
	// .dockerconfigjson, once read (see LoadOCISecret).
	SecretName       string
	DockerConfigJSON []byte
	// Revision is the artifact revision source-controller last stored
	// (status.artifact.revision), "<tag>@sha256:<hex>".
	Revision string
}

// fluxOCI fills s from the OCIRepository repo.
func fluxOCI(s *Source, repo *unstructured.Unstructured) {
	r := repo.Object
	o := &OCISource{Namespace: repo.GetNamespace(), Name: repo.GetName(), URL: str(r, "spec", "url"),
		Tag: str(r, "spec", "ref", "tag"), Semver: str(r, "spec", "ref", "semver"),
		SemverFilter: str(r, "spec", "ref", "semverFilter"), Digest: str(r, "spec", "ref", "digest"),
		LayerMediaType: str(r, "spec", "layerSelector", "mediaType"), LayerOperation: str(r, "spec", "layerSelector", "operation"),
		Insecure: boolean(r, "spec", "insecure"), Provider: str(r, "spec", "provider"),
		SecretName: str(r, "spec", "secretRef", "name"), Revision: str(r, "status", "artifact", "revision")}
	if v, ok, _ := unstructured.NestedString(r, "spec", "ignore"); ok {
		o.Ignore = &v
	}
	s.OCI, s.RepoURL = o, o.URL
	id := "OCIRepository " + o.Namespace + "/" + o.Name
	if o.Provider != "" && o.Provider != "generic" {
		setUnsupported(s, fmt.Sprintf("provider %s of %s (cloud registry authentication; only generic is)", o.Provider, id))
	}
	spec := mapOf(r, "spec")
	for _, f := range []struct{ field, warning string }{
		{"verify", "its signatures are not verified (spec.verify): the artifact is compared as the registry serves it"},
		{"certSecretRef", "spec.certSecretRef is not used: the registry's certificate is checked against the system's CAs"},
		{"proxySecretRef", "spec.proxySecretRef is not used: the registry is reached directly (or through HTTPS_PROXY)"},
		{"serviceAccountName", "the image pull secrets of spec.serviceAccountName are not used (only spec.secretRef and your docker config)"},
	} {
		if _, ok := spec[f.field]; ok {
			s.Warnings = append(s.Warnings, s.ID()+": "+id+": "+f.warning)
		}
	}
}

// loadOCISecret reads the .dockerconfigjson of the OCIRepository's
// spec.secretRef. A Secret that cannot be read or has no docker config is
// the source's problem, as it fails source-controller's pull; only an
// interruption or lost credentials to the cluster are returned.
func loadOCISecret(ctx context.Context, r cluster.Reader, s *Source) error {
	o := s.OCI
	if o == nil || o.SecretName == "" || s.Skip() != "" {
		return nil
	}
	m, err := r.Mapping(ctx, schema.GroupVersionKind{Version: "v1", Kind: "Secret"})
	if err != nil {
		return fmt.Errorf("resolving Secret: %w", err)
	}
	sec, err := r.Get(ctx, m, o.Namespace, o.SecretName)
	var status apierrors.APIStatus
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return fmt.Errorf("reading the secretRef of OCIRepository %s/%s: %w", o.Namespace, o.Name, ctx.Err())
	case errors.As(err, &status) && !apierrors.IsUnauthorized(err):
		s.Problem = fmt.Sprintf("reading the secretRef of OCIRepository %s/%s: %v", o.Namespace, o.Name, err)
		return nil
	default:
		return fmt.Errorf("reading the secretRef of OCIRepository %s/%s: %w", o.Namespace, o.Name, err)
	}
	enc := str(sec.Object, "data", ".dockerconfigjson")
	dec, err := base64.StdEncoding.DecodeString(enc)
	if enc == "" || err != nil {
		s.Problem = fmt.Sprintf("Secret %s/%s (secretRef of OCIRepository %s) has no valid .dockerconfigjson", o.Namespace, o.SecretName, o.Name)
		return nil
	}
	o.DockerConfigJSON = dec
	return nil
}

// sourceMapping resolves the mapping of a Flux source kind; OCIRepository
// falls back to v1beta2 on clusters with an older source-controller.
func sourceMapping(ctx context.Context, r cluster.Reader, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := mapping(ctx, r, gvk, "Flux's source-controller")
	if err != nil && gvk.Kind == OCIRepositoryGVK.Kind && errors.Is(err, ErrNotInstalled) {
		old := gvk
		old.Version = "v1beta2"
		if m2, err2 := mapping(ctx, r, old, "Flux's source-controller"); err2 == nil {
			return m2, nil
		}
	}
	return m, err
}
