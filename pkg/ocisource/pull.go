package ocisource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Flux's artifact format, as `flux push artifact` writes it.
const (
	ConfigMediaType  = "application/vnd.cncf.flux.config.v1+json"
	ContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"

	RevisionAnnotation = "org.opencontainers.image.revision"
	SourceAnnotation   = "org.opencontainers.image.source"
	CreatedAnnotation  = "org.opencontainers.image.created"
)

// Layer operations (OCIRepository spec.layerSelector.operation).
const (
	OperationExtract = "extract"
	OperationCopy    = "copy"
)

// URLPrefix starts every OCIRepository URL.
const URLPrefix = "oci://"

// ErrUnsupported is returned (wrapped) for settings source-controller
// supports and this package does not (a cloud provider's authentication).
var ErrUnsupported = errors.New("not supported")

// ErrCredentialsInURL is what Repository wraps for a URL with user
// information or a query: an OCIRepository's credentials are in its
// spec.secretRef, never in its URL, which is not quoted in the error.
var ErrCredentialsInURL = errors.New("user information or a query in the URL (credentials belong in spec.secretRef)")

// hasSecretParts reports whether url has user information (an "@" before
// the first "/" of its authority) or a query or fragment: the parts of a
// URL that can carry a credential.
func hasSecretParts(url string) bool {
	rest := url
	if _, after, ok := strings.Cut(url, "://"); ok {
		rest = after
	}
	authority, _, _ := strings.Cut(rest, "/")
	return strings.Contains(authority, "@") || strings.ContainsAny(url, "?#")
}

// Spec says which artifact to pull and how, as an OCIRepository's spec
// says it.
type Spec struct {
	// URL is oci://<host>/<repository>, without a tag.
	URL string
	Ref Ref
	// LayerSelector picks the layer and what to do with it.
	LayerSelector LayerSelector
	// Insecure allows plain HTTP and unverified TLS (spec.insecure).
	// Loopback and private addresses use plain HTTP anyway, as
	// go-containerregistry does for every client.
	Insecure bool
	// Provider is spec.provider: "" and "generic" only.
	Provider string
	// DockerConfigJSON is the .dockerconfigjson of spec.secretRef; each of
	// its credentials goes to its own registry only.
	DockerConfigJSON []byte
	// UserDockerConfig also uses the user's docker config
	// (~/.docker/config.json, $DOCKER_CONFIG, its credential helpers).
	UserDockerConfig bool
	// Ignore is spec.ignore (.gitignore syntax); nil when unset.
	Ignore *string
	// Limits bound what the registry may send; zero fields take defaults.
	Limits Limits
	// TempDir is where the artifact's directory is created ("" for the
	// system's).
	TempDir string
	// Transport replaces http.DefaultTransport's clone (tests).
	Transport http.RoundTripper
}

// Ref is spec.ref: Digest wins over Semver, Semver over Tag; all empty
// means the tag "latest".
type Ref struct {
	Tag          string
	Semver       string
	SemverFilter string
	Digest       string
}

// LayerSelector is spec.layerSelector.
type LayerSelector struct {
	// MediaType selects the first layer of that media type; "" selects the
	// first layer.
	MediaType string
	// Operation is extract ("" too) or copy.
	Operation string
}

// Limits bound what a registry may send.
type Limits struct {
	// ManifestBytes bounds a manifest, a tags page or a token response.
	ManifestBytes int64
	// LayerBytes bounds a blob (the layer as stored, compressed).
	LayerBytes int64
	// UnpackedBytes bounds the layer decompressed.
	UnpackedBytes int64
	// Tags bounds the tags listed for a semver range.
	Tags int
}

// DefaultLimits: generous for manifests, kustomize-controller's default
// for artifacts (100 MiB).
var DefaultLimits = Limits{ManifestBytes: 4 << 20, LayerBytes: 100 << 20, UnpackedBytes: 100 << 20, Tags: 10000}

func (l Limits) withDefaults() Limits {
	if l.ManifestBytes <= 0 {
		l.ManifestBytes = DefaultLimits.ManifestBytes
	}
	if l.LayerBytes <= 0 {
		l.LayerBytes = DefaultLimits.LayerBytes
	}
	if l.UnpackedBytes <= 0 {
		l.UnpackedBytes = DefaultLimits.UnpackedBytes
	}
	if l.Tags <= 0 {
		l.Tags = DefaultLimits.Tags
	}
	return l
}

// Artifact is a pulled and unpacked artifact. Close removes it.
type Artifact struct {
	// Root is the directory holding the unpacked layer.
	Root string
	// URL is the repository pulled, oci://<host>/<repository>.
	URL string
	// Tag is the tag resolved ("" for a digest reference).
	Tag string
	// Digest is the manifest's digest, "sha256:<hex>".
	Digest string
	// Revision is Flux's: "<tag>@sha256:<hex>", or "sha256:<hex>" for a
	// digest reference.
	Revision string
	// Annotations are the manifest's (org.opencontainers.image.revision,
	// .source, .created as `flux push artifact` writes them).
	Annotations map[string]string
	// SkippedLinks are the symbolic links not created (source-controller
	// and kustomize-controller skip them).
	SkippedLinks []string
}

// Close removes the artifact's directory. It is safe to call more than
// once and on nil.
func (a *Artifact) Close() error {
	if a == nil || a.Root == "" {
		return nil
	}
	root := a.Root
	a.Root = ""
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("removing artifact %s: %w", root, err)
	}
	return nil
}

// Repository parses an OCIRepository URL as source-controller does: it
// must start with oci:// and carry no tag.
func Repository(url string, insecure bool) (name.Repository, error) {
	if hasSecretParts(url) {
		// Not quoted: go-containerregistry's messages would quote the
		// user information or the query too. The caller shows the URL
		// through the project's redactor.
		return name.Repository{}, fmt.Errorf("OCI URL: %w", ErrCredentialsInURL)
	}
	if !strings.HasPrefix(url, URLPrefix) {
		return name.Repository{}, fmt.Errorf("OCI URL %q must be in format 'oci://<domain>/<org>/<repo>'", url)
	}
	u := strings.TrimPrefix(url, URLPrefix)
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(u, opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("OCI URL %q: %w", url, err)
	}
	if _, tag, ok := strings.Cut(strings.TrimPrefix(u, repo.RegistryStr()), ":"); ok {
		return name.Repository{}, fmt.Errorf("OCI URL %q must not contain a tag; remove ':%s'", url, tag)
	}
	return repo, nil
}

// Pull resolves spec's reference, pulls the artifact and unpacks its
// layer into a new directory.
func Pull(ctx context.Context, spec Spec) (_ *Artifact, err error) {
	if p := spec.Provider; p != "" && p != "generic" {
		return nil, fmt.Errorf("provider %s: %w (only generic)", p, ErrUnsupported)
	}
	op := spec.LayerSelector.Operation
	if op == "" {
		op = OperationExtract
	}
	if op != OperationExtract && op != OperationCopy {
		return nil, fmt.Errorf("unsupported layer operation: %s", op)
	}
	repo, err := Repository(spec.URL, spec.Insecure)
	if err != nil {
		return nil, err
	}
	opts, err := remoteOptions(ctx, spec, repo)
	if err != nil {
		return nil, err
	}
	limits := spec.Limits.withDefaults()
	ref, err := reference(ctx, repo, spec.Ref, limits.Tags, opts)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", spec.URL, err)
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	switch desc.MediaType {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
	default:
		return nil, fmt.Errorf("pulling %s: media type %s is not an image manifest", ref, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("parsing the manifest of %s: %w", ref, err)
	}
	art := &Artifact{URL: spec.URL, Digest: desc.Digest.String(), Annotations: m.Annotations}
	art.Revision = art.Digest
	if t, ok := ref.(name.Tag); ok {
		art.Tag = t.TagStr()
		art.Revision = art.Tag + "@" + art.Digest
	}
	layer, err := selectLayer(m, spec.LayerSelector.MediaType, limits.LayerBytes)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", art.Revision, err)
	}
	blob, err := remote.Layer(repo.Digest(layer.Digest.String()), opts...)
	if err != nil {
		return nil, fmt.Errorf("pulling layer %s: %w", layer.Digest, err)
	}
	rc, err := blob.Compressed()
	if err != nil {
		return nil, fmt.Errorf("pulling layer %s: %w", layer.Digest, err)
	}
	defer func() { _ = rc.Close() }()

	root, err := os.MkdirTemp(spec.TempDir, "kubectl-gitops-oci-")
	if err != nil {
		return nil, fmt.Errorf("creating the artifact directory: %w", err)
	}
	art.Root = root
	defer func() {
		if err != nil {
			_ = os.RemoveAll(root)
		}
	}()
	if art.SkippedLinks, err = untar(ctx, rc, art.Root, limits.UnpackedBytes); err != nil {
		return nil, fmt.Errorf("unpacking %s: %w", art.Revision, err)
	}
	// The layer's digest is checked when it is read to its end: what
	// follows the tar's end must be read too.
	if _, err = io.Copy(io.Discard, rc); err != nil {
		return nil, fmt.Errorf("verifying layer %s: %w", layer.Digest, err)
	}
	if op == OperationExtract {
		if err := applyIgnore(art.Root, spec.Ignore); err != nil {
			return nil, fmt.Errorf("unpacking %s: %w", art.Revision, err)
		}
	}
	return art, nil
}

// selectLayer picks the layer as source-controller does: the first of
// mediaType, or the first one.
func selectLayer(m *v1.Manifest, mediaType string, maxBytes int64) (v1.Descriptor, error) {
	if len(m.Layers) == 0 {
		return v1.Descriptor{}, errors.New("no layers found in artifact")
	}
	l := m.Layers[0]
	if mediaType != "" {
		found := false
		for _, c := range m.Layers {
			if string(c.MediaType) == mediaType {
				l, found = c, true
				break
			}
		}
		if !found {
			return v1.Descriptor{}, fmt.Errorf("failed to find layer with media type '%s' in artifact", mediaType)
		}
	}
	if l.Size > maxBytes {
		return v1.Descriptor{}, fmt.Errorf("layer %s: %d bytes %w of %d", l.Digest, l.Size, ErrTooLarge, maxBytes)
	}
	return l, nil
}

// reference resolves spec.ref as source-controller's getArtifactRef does.
func reference(ctx context.Context, repo name.Repository, r Ref, maxTags int, opts []remote.Option) (name.Reference, error) {
	switch {
	case r.Digest != "":
		if _, err := v1.NewHash(r.Digest); err != nil {
			return nil, fmt.Errorf("digest %q: %w", r.Digest, err)
		}
		return repo.Digest(r.Digest), nil
	case r.Semver != "":
		tags, err := listTags(ctx, repo, maxTags, opts)
		if err != nil {
			return nil, err
		}
		tag, err := pickSemver(tags, r.Semver, r.SemverFilter)
		if err != nil {
			return nil, err
		}
		return repo.Tag(tag), nil
	case r.Tag != "":
		return repo.Tag(r.Tag), nil
	}
	return repo.Tag(name.DefaultTag), nil
}

func listTags(ctx context.Context, repo name.Repository, maxTags int, opts []remote.Option) ([]string, error) {
	p, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, err
	}
	l, err := p.Lister(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("listing tags: %w", err)
	}
	var tags []string
	seen := 0 // an empty page counts as a tag: pages never end otherwise
	for l.HasNext() {
		page, err := l.Next(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing tags: %w", err)
		}
		tags = append(tags, page.Tags...)
		if seen += max(1, len(page.Tags)); seen > maxTags {
			return nil, fmt.Errorf("listing tags: more than %d tags: %w", maxTags, ErrTooLarge)
		}
	}
	return tags, nil
}

// pickSemver returns the highest tag matching the range among those the
// filter (a regular expression, "" for all) matches. Tags are versions
// when they have three dot-separated parts, as Flux parses them.
func pickSemver(tags []string, constraint, filter string) (string, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("semver '%s' parse error: %w", constraint, err)
	}
	var re *regexp.Regexp
	if filter != "" {
		if re, err = regexp.Compile(filter); err != nil {
			return "", fmt.Errorf("semverFilter %q: %w", filter, err)
		}
	}
	var versions []*semver.Version
	for _, t := range tags {
		if re != nil && !re.MatchString(t) {
			continue
		}
		if len(strings.SplitN(t, ".", 3)) != 3 {
			continue
		}
		v, err := semver.NewVersion(t)
		if err == nil && c.Check(v) {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return "", fmt.Errorf("no match found for semver: %s", constraint)
	}
	sort.Sort(sort.Reverse(semver.Collection(versions)))
	return versions[0].Original(), nil
}

// remoteOptions: the context, the guarded transport, the credentials.
func remoteOptions(ctx context.Context, spec Spec, repo name.Repository) ([]remote.Option, error) {
	var chain []authn.Keychain
	if len(spec.DockerConfigJSON) > 0 {
		kc, err := parseDockerConfig(spec.DockerConfigJSON)
		if err != nil {
			return nil, fmt.Errorf("secretRef: %w", err)
		}
		chain = append(chain, kc)
	}
	if spec.UserDockerConfig {
		chain = append(chain, authn.DefaultKeychain)
	}
	inner := spec.Transport
	if inner == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		if spec.Insecure {
			t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // spec.insecure, as source-controller allows it
		}
		inner = t
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(&guard{inner: inner, registry: repo.RegistryStr(), limits: spec.Limits.withDefaults()}),
		remote.WithUserAgent("kubectl-gitops"),
	}
	if len(chain) > 0 {
		opts = append(opts, remote.WithAuthFromKeychain(authn.NewMultiKeychain(chain...)))
	}
	return opts, nil
}
