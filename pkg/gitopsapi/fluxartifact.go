package gitopsapi

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
)

// Flux's artifact kinds beyond GitRepository.
var (
	ExternalArtifactGVK  = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "ExternalArtifact"}
	ArtifactGeneratorGVK = schema.GroupVersionKind{Group: "source.extensions.fluxcd.io", Version: "v1beta1", Kind: "ArtifactGenerator"}
)

// maxIncludeDepth bounds GitRepository includes of includes: a cycle in
// the cluster's objects must not make the reader loop.
const maxIncludeDepth = 8

// GitRepository is a Flux GitRepository as source-controller turns it into
// the artifact a Kustomization reads: a checkout of URL at Revision (or the
// highest tag matching Semver), its includes copied in, then the files its
// ignore rules match left out.
type GitRepository struct {
	Namespace, Name string
	URL             string
	// Revision is a branch, tag, ref name or commit; Semver a tag range.
	Revision string
	Semver   string
	// Ignore is spec.ignore (gitignore syntax); nil when unset, and then
	// source-controller's default exclusions apply.
	Ignore *string
	// Include lists spec.include, in order.
	Include []GitInclude
	// SecretName is spec.secretRef.name (in Namespace): the Secret holding
	// the credentials source-controller clones with, "" for none. It is
	// read only by whoever fetches from URL itself (not from a
	// --repo-override).
	SecretName string
}

// ID is "<namespace>/<name>".
func (g *GitRepository) ID() string { return g.Namespace + "/" + g.Name }

// GitInclude is one spec.include entry: the artifact of another
// GitRepository (same namespace), FromPath of it copied to ToPath.
type GitInclude struct {
	Repo *GitRepository
	// FromPath is the directory of the included artifact ("" its root);
	// ToPath where it goes in the including one (default: the included
	// repository's name).
	FromPath, ToPath string
}

// ExternalArtifact is a Flux ExternalArtifact produced by an
// ArtifactGenerator (source-watcher): its tree is built by the generator's
// copy operations from the artifacts of its sources.
type ExternalArtifact struct {
	Namespace, Name string
	// Generator is the ArtifactGenerator, "<namespace>/<name>".
	Generator string
	// Sources are the generator's sources by alias.
	Sources map[string]*GitRepository
	// Copy are the artifact's copy operations, in order.
	Copy []CopyOperation
}

// CopyOperation is one ArtifactGenerator copy operation.
type CopyOperation struct {
	From, To string
	Exclude  []string
	// Strategy is Overwrite (default), Merge or Extract.
	Strategy string
}

// fluxGitRepository reads a GitRepository object (its includes not
// followed: see readIncludes).
func fluxGitRepository(repo *unstructured.Unstructured) *GitRepository {
	r := repo.Object
	g := &GitRepository{Namespace: repo.GetNamespace(), Name: repo.GetName(), URL: str(r, "spec", "url"),
		SecretName: str(r, "spec", "secretRef", "name")}
	ref, _, _ := unstructured.NestedMap(r, "spec", "ref")
	switch {
	case str(ref, "commit") != "":
		g.Revision = str(ref, "commit")
	case str(ref, "name") != "":
		g.Revision = str(ref, "name")
	case str(ref, "semver") != "":
		g.Semver = str(ref, "semver")
	case str(ref, "tag") != "":
		g.Revision = str(ref, "tag")
	case str(ref, "branch") != "":
		g.Revision = str(ref, "branch")
	default:
		g.Revision = FluxDefaultBranch
	}
	if v, ok, _ := unstructured.NestedString(r, "spec", "ignore"); ok {
		g.Ignore = &v
	}
	for _, e := range sliceOf(mapOf(r, "spec"), "include") {
		em, _ := e.(map[string]any)
		name := str(em, "repository", "name")
		incl := GitInclude{Repo: &GitRepository{Namespace: g.Namespace, Name: name}, FromPath: str(em, "fromPath"), ToPath: str(em, "toPath")}
		if incl.ToPath == "" {
			incl.ToPath = name
		}
		g.Include = append(g.Include, incl)
	}
	return g
}

// readGitRepository reads the GitRepository namespace/name and, depth
// levels down at most, the repositories it includes. what names it in
// messages. A repository that does not exist, or cannot be read for a
// reason of its own, is returned as a problem (second result); an error
// is for what fails every source (an interruption, the API server gone).
func readGitRepository(ctx context.Context, r cluster.Reader, namespace, name, what string, depth int) (*GitRepository, string, error) {
	m, err := mapping(ctx, r, GitRepositoryGVK, "Flux's source-controller")
	if err != nil {
		return nil, err.Error(), nil
	}
	obj, err := r.Get(ctx, m, namespace, name)
	if problem, err := readProblem(err, "GitRepository", namespace+"/"+name, what); problem != "" || err != nil {
		return nil, problem, err
	}
	g := fluxGitRepository(obj)
	if problem, err := readIncludes(ctx, r, g, depth); problem != "" || err != nil {
		return nil, problem, err
	}
	return g, "", nil
}

// readIncludes reads the repositories g includes, and theirs.
func readIncludes(ctx context.Context, r cluster.Reader, g *GitRepository, depth int) (string, error) {
	if len(g.Include) > 0 && depth >= maxIncludeDepth {
		return fmt.Sprintf("GitRepository %s: includes nested more than %d deep (a cycle?)", g.ID(), maxIncludeDepth), nil
	}
	for i, incl := range g.Include {
		inc, problem, err := readGitRepository(ctx, r, incl.Repo.Namespace, incl.Repo.Name, "included by GitRepository "+g.ID(), depth+1)
		if problem != "" || err != nil {
			return problem, err
		}
		g.Include[i].Repo = inc
	}
	return "", nil
}

// readProblem sorts a Get error: nil for none; a problem of the source
// for a missing object or one this user may not read; an error for the
// rest.
func readProblem(err error, kind, key, what string) (string, error) {
	var status apierrors.APIStatus
	switch {
	case err == nil:
		return "", nil
	case apierrors.IsNotFound(err):
		msg := kind + " " + key + " not found"
		if what != "" {
			msg += " (" + what + ")"
		}
		return msg, nil
	case errors.As(err, &status) && !apierrors.IsUnauthorized(err):
		return fmt.Sprintf("reading %s %s: %v", kind, key, err), nil
	default:
		return "", fmt.Errorf("reading Flux %s %s: %w", kind, key, err)
	}
}

// fluxExternalArtifact reads the ExternalArtifact s's Kustomization
// refers to, the ArtifactGenerator that produces it and the
// GitRepositories the generator reads, into s.Artifact; what cannot be
// read or built is the source's Problem or Unsupported.
func fluxExternalArtifact(ctx context.Context, r cluster.Reader, s *Source, ks *unstructured.Unstructured) error {
	ns := str(ks.Object, "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = ks.GetNamespace()
	}
	name := str(ks.Object, "spec", "sourceRef", "name")
	key := ns + "/" + name
	m, err := mapping(ctx, r, ExternalArtifactGVK, "Flux's source-controller (v1.7 or later)")
	if err != nil {
		s.Problem = err.Error()
		return nil
	}
	ea, err := r.Get(ctx, m, ns, name)
	if problem, err := readProblem(err, "ExternalArtifact", key, ""); problem != "" || err != nil {
		s.Problem = problem
		return err
	}
	ref := mapOf(mapOf(ea.Object, "spec"), "sourceRef")
	if str(ref, "kind") != ArtifactGeneratorGVK.Kind {
		setUnsupported(s, fmt.Sprintf("ExternalArtifact %s produced by %s (only an ArtifactGenerator's are built)", key, orNone(str(ref, "kind"))))
		return nil
	}
	genNS := str(ref, "namespace")
	if genNS == "" {
		genNS = ns
	}
	genKey := genNS + "/" + str(ref, "name")
	gm, err := mapping(ctx, r, ArtifactGeneratorGVK, "Flux's source-watcher")
	if err != nil {
		s.Problem = err.Error()
		return nil
	}
	gen, err := r.Get(ctx, gm, genNS, str(ref, "name"))
	if problem, err := readProblem(err, "ArtifactGenerator", genKey, "producing ExternalArtifact "+key); problem != "" || err != nil {
		s.Problem = problem
		return err
	}
	art, unsupported := generatorArtifact(gen, name)
	if unsupported != "" {
		setUnsupported(s, unsupported)
		return nil
	}
	if art == nil {
		s.Problem = fmt.Sprintf("ArtifactGenerator %s declares no artifact %s", genKey, name)
		return nil
	}
	art.Namespace = ns
	for alias, g := range art.Sources {
		full, problem, err := readGitRepository(ctx, r, g.Namespace, g.Name, "source @"+alias+" of ArtifactGenerator "+genKey, 0)
		if problem != "" || err != nil {
			s.Problem = problem
			return err
		}
		art.Sources[alias] = full
	}
	s.Artifact = art
	return nil
}

// generatorArtifact reads from an ArtifactGenerator the artifact called
// name: nil when it declares none; the second result says what it uses
// that is not built (path patterns, sources that are not
// GitRepositories, the Extract strategy).
func generatorArtifact(gen *unstructured.Unstructured, name string) (*ExternalArtifact, string) {
	key := gen.GetNamespace() + "/" + gen.GetName()
	spec := mapOf(gen.Object, "spec")
	if str(spec, "pathPattern") != "" {
		return nil, "ArtifactGenerator " + key + ": spec.pathPattern"
	}
	var found map[string]any
	for _, a := range sliceOf(spec, "artifacts") {
		if am, _ := a.(map[string]any); str(am, "name") == name {
			found = am
			break
		}
	}
	if found == nil {
		return nil, ""
	}
	art := &ExternalArtifact{Name: name, Generator: key, Sources: map[string]*GitRepository{}}
	for _, c := range sliceOf(found, "copy") {
		cm, _ := c.(map[string]any)
		op := CopyOperation{From: str(cm, "from"), To: str(cm, "to"), Strategy: str(cm, "strategy")}
		op.Exclude, _, _ = unstructured.NestedStringSlice(cm, "exclude")
		if op.Strategy == "Extract" {
			return nil, fmt.Sprintf("ArtifactGenerator %s: the Extract copy strategy (%s)", key, op.From)
		}
		art.Copy = append(art.Copy, op)
	}
	used := map[string]bool{}
	for _, op := range art.Copy {
		if alias, _, ok := parseCopyFrom(op.From); ok {
			used[alias] = true
		}
	}
	for _, src := range sliceOf(spec, "sources") {
		sm, _ := src.(map[string]any)
		alias := str(sm, "alias")
		if !used[alias] {
			continue // source-watcher fetches it; this artifact does not read it
		}
		if kind := str(sm, "kind"); kind != GitRepositoryGVK.Kind {
			return nil, fmt.Sprintf("ArtifactGenerator %s: source @%s is of kind %s (only GitRepository sources are built)", key, alias, orNone(kind))
		}
		ns := str(sm, "namespace")
		if ns == "" {
			ns = gen.GetNamespace()
		}
		art.Sources[alias] = &GitRepository{Namespace: ns, Name: str(sm, "name")}
	}
	return art, ""
}

func orNone(s string) string {
	if s == "" {
		return "kind not named"
	}
	return s
}
