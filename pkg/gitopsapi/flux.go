package gitopsapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
)

// FluxDefaultBranch is the branch a GitRepository without spec.ref follows.
const FluxDefaultBranch = "master"

// GetFluxKustomization reads the Kustomization namespace/name and its
// GitRepository.
func GetFluxKustomization(ctx context.Context, r cluster.Reader, namespace, name string) (*Source, error) {
	m, err := mapping(ctx, r, KustomizationGVK, "Flux")
	if err != nil {
		return nil, err
	}
	ks, err := r.Get(ctx, m, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("reading Flux Kustomization %s/%s: %w", namespace, name, err)
	}
	return fluxWithRepo(ctx, r, ks, map[string]*unstructured.Unstructured{})
}

// ListFluxKustomizations reads every Kustomization in namespace ("" for
// all) with its GitRepository, sorted by namespace and name.
func ListFluxKustomizations(ctx context.Context, r cluster.Reader, namespace string) ([]*Source, error) {
	m, err := mapping(ctx, r, KustomizationGVK, "Flux")
	if err != nil {
		return nil, err
	}
	list, err := r.List(ctx, m, namespace, "")
	if err != nil {
		return nil, fmt.Errorf("listing Flux Kustomizations: %w", err)
	}
	repos := map[string]*unstructured.Unstructured{}
	out := make([]*Source, 0, len(list))
	for i := range list {
		s, err := fluxWithRepo(ctx, r, &list[i], repos)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sortSources(out)
	return out, nil
}

// fluxWithRepo reads ks's source (through the cache repos): its
// GitRepository with the repositories it includes, or its ExternalArtifact
// with the ArtifactGenerator producing it and that generator's sources. A
// source that cannot be read is the source's Problem.
func fluxWithRepo(ctx context.Context, r cluster.Reader, ks *unstructured.Unstructured, repos map[string]*unstructured.Unstructured) (*Source, error) {
	kind := str(ks.Object, "spec", "sourceRef", "kind")
	if kind == ExternalArtifactGVK.Kind {
		s := FluxSource(ks, nil)
		if s.Problem == unreadArtifact(ks) {
			s.Problem = ""
			if err := fluxExternalArtifact(ctx, r, s, ks); err != nil {
				return nil, err
			}
		}
		return fluxPostBuildLoad(ctx, r, s)
	}
	gvk := GitRepositoryGVK
	switch kind {
	case GitRepositoryGVK.Kind:
	case OCIRepositoryGVK.Kind:
		gvk = OCIRepositoryGVK
	default:
		return FluxSource(ks, nil), nil
	}
	ns := str(ks.Object, "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = ks.GetNamespace()
	}
	name := str(ks.Object, "spec", "sourceRef", "name")
	key := kind + "/" + ns + "/" + name
	repo, ok := repos[key]
	if !ok {
		m, err := sourceMapping(ctx, r, gvk)
		if err != nil && gvk.Kind == OCIRepositoryGVK.Kind && errors.Is(err, ErrNotInstalled) {
			// Only this source's problem: the others still compare.
			s := FluxSource(ks, nil)
			s.Problem = err.Error()
			return s, nil
		}
		if err != nil {
			return nil, err
		}
		repo, err = r.Get(ctx, m, ns, name)
		var status apierrors.APIStatus
		switch {
		case err == nil, apierrors.IsNotFound(err):
		case errors.As(err, &status) && !apierrors.IsUnauthorized(err):
			// Forbidden and the like: this source's problem only.
			s := FluxSource(ks, nil)
			s.Problem = fmt.Sprintf("reading %s: %v", key, err)
			return s, nil
		default:
			return nil, fmt.Errorf("reading Flux %s: %w", key, err)
		}
		repos[key] = repo
	}
	s := FluxSource(ks, repo)
	if s.Git != nil && s.Problem == "" {
		problem, err := readIncludes(ctx, r, s.Git, 0)
		if err != nil {
			return nil, err
		}
		s.Problem = problem
	}
	if err := loadOCISecret(ctx, r, s); err != nil {
		return nil, err
	}
	return fluxPostBuildLoad(ctx, r, s)
}

// fluxPostBuildLoad reads the post-build variables of s.
func fluxPostBuildLoad(ctx context.Context, r cluster.Reader, s *Source) (*Source, error) {
	if s.PostBuild != nil && s.Skip() == "" {
		// A ConfigMap or Secret that cannot be read fails the render, as
		// it fails kustomize-controller's build; an interruption is fatal.
		if err := s.PostBuild.Load(ctx, r, s.Namespace); err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("reading the post-build variables of %s: %w", s.ID(), ctx.Err())
		}
	}
	return s, nil
}

// FluxSource reads a Flux Kustomization and its GitRepository (nil when
// it does not exist or the source is of another kind).
func FluxSource(ks, repo *unstructured.Unstructured) *Source {
	o := ks.Object
	s := &Source{Operator: Flux, Kind: "Kustomization", Namespace: ks.GetNamespace(), Name: ks.GetName(), Kustomize: true}
	s.Tracking = Tracking{Method: "labels", Instance: s.Namespace + "/" + s.Name, NoPrune: !boolean(o, "spec", "prune")}
	s.Path = str(o, "spec", "path")
	s.Suspended = boolean(o, "spec", "suspend")
	s.Status = OperatorStatus{Revision: str(o, "status", "lastAppliedRevision")}
	if ready := condition(o, "Ready"); ready != nil {
		// Its message may quote the repository URL, credentials included.
		s.Status.Ready, s.Status.Message = str(ready, "status"), gitsource.RedactURL(str(ready, "message"))
	}
	if strings.EqualFold(ks.GetAnnotations()[FluxReconcile], "disabled") {
		s.Disabled = FluxReconcile + ": disabled"
	}
	if inv, ok, _ := unstructured.NestedMap(o, "status", "inventory"); ok {
		s.Inventory = []ObjectRef{}
		entries, _, _ := unstructured.NestedSlice(inv, "entries")
		for _, e := range entries {
			em, _ := e.(map[string]any)
			ref, err := ParseInventoryID(str(em, "id"))
			if err != nil {
				s.Warnings = append(s.Warnings, err.Error())
				continue
			}
			ref.Version = str(em, "v")
			s.Inventory = append(s.Inventory, ref)
		}
	}
	if entries, ok, _ := unstructured.NestedSlice(o, "spec", "ignore"); ok {
		set, err := ignore.FromFlux(entries, s.ID(), "spec.ignore")
		if err != nil {
			s.Problem = err.Error()
		}
		s.Ignore = set
	}
	s.Overlay = fluxOverlay(o)

	if _, ok := mapOf(o, "spec")["kubeConfig"]; ok {
		setUnsupported(s, "applies to another cluster (spec.kubeConfig); run against that cluster with --repo, --revision and --path")
	}
	s.PostBuild = fluxPostBuild(o)
	if _, ok, _ := unstructured.NestedMap(o, "spec", "decryption"); ok {
		s.Warnings = append(s.Warnings, s.ID()+": spec.decryption: encrypted values are compared as Git has them, not decrypted")
	}

	kind := str(o, "spec", "sourceRef", "kind")
	switch {
	case kind == ExternalArtifactGVK.Kind:
		// Read by fluxExternalArtifact, which clears this problem.
		if s.Problem == "" {
			s.Problem = unreadArtifact(ks)
		}
		return s
	case kind != GitRepositoryGVK.Kind && kind != OCIRepositoryGVK.Kind:
		setUnsupported(s, fmt.Sprintf("sources of kind %s (only GitRepository, OCIRepository and ExternalArtifact are)", kind))
		return s
	case repo == nil:
		ns := str(o, "spec", "sourceRef", "namespace")
		if ns == "" {
			ns = s.Namespace
		}
		if s.Problem == "" {
			s.Problem = fmt.Sprintf("%s %s/%s not found", kind, ns, str(o, "spec", "sourceRef", "name"))
		}
		return s
	case kind == OCIRepositoryGVK.Kind:
		fluxOCI(s, repo)
		return s
	}
	s.Git = fluxGitRepository(repo)
	s.RepoURL, s.Revision, s.Semver = s.Git.URL, s.Git.Revision, s.Git.Semver
	return s
}

// unreadArtifact is the problem of a Kustomization whose ExternalArtifact
// has not been read.
func unreadArtifact(ks *unstructured.Unstructured) string {
	return fmt.Sprintf("ExternalArtifact %s not read", str(ks.Object, "spec", "sourceRef", "name"))
}

// fluxOverlay converts the Kustomization's kustomize options.
func fluxOverlay(o map[string]any) *Overlay {
	spec := mapOf(o, "spec")
	ov := &Overlay{
		Namespace: str(spec, "targetNamespace"), NamePrefix: str(spec, "namePrefix"), NameSuffix: str(spec, "nameSuffix"),
		Kustomization: map[string]any{},
	}
	if cm := mapOf(spec, "commonMetadata"); cm != nil {
		ov.Labels, ov.Annotations = stringMap(mapOf(cm, "labels")), stringMap(mapOf(cm, "annotations"))
	}
	if imgs := sliceOf(spec, "images"); len(imgs) > 0 {
		ov.Kustomization["images"] = imgs
	}
	if patches := sliceOf(spec, "patches"); len(patches) > 0 {
		ov.Kustomization["patches"] = patches
	}
	if comps, _, _ := unstructured.NestedStringSlice(spec, "components"); len(comps) > 0 {
		ov.Components = comps
		ov.IgnoreMissingComponents = boolean(o, "spec", "ignoreMissingComponents")
	}
	if ov.empty() {
		return nil
	}
	return ov
}

// ParseInventoryID parses a Flux inventory entry id,
// "<namespace>_<name>_<group>_<kind>" (colons in names written "__").
func ParseInventoryID(id string) (ObjectRef, error) {
	bad := fmt.Errorf("invalid inventory entry %q", id)
	ns, rest, ok := strings.Cut(id, "_")
	if !ok {
		return ObjectRef{}, bad
	}
	i := strings.LastIndex(rest, "_")
	if i < 0 {
		return ObjectRef{}, bad
	}
	kind := rest[i+1:]
	rest = rest[:i]
	i = strings.LastIndex(rest, "_")
	if i < 0 {
		return ObjectRef{}, bad
	}
	group, name := rest[i+1:], rest[:i]
	if kind == "" || name == "" {
		return ObjectRef{}, bad
	}
	return ObjectRef{Group: group, Kind: kind, Namespace: ns, Name: strings.ReplaceAll(name, "__", ":")}, nil
}

func condition(o map[string]any, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(o, "status", "conditions")
	for _, c := range conds {
		if cm, ok := c.(map[string]any); ok && str(cm, "type") == typ {
			return cm
		}
	}
	return nil
}

func mapOf(o map[string]any, key string) map[string]any {
	m, _ := o[key].(map[string]any)
	return m
}

func sliceOf(o map[string]any, key string) []any {
	s, _ := o[key].([]any)
	return s
}

func stringMap(m map[string]any) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}
