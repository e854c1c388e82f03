package chartsource

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ocisource"
)

// Media types of a Helm chart in an OCI registry (helm.sh/helm/v4/pkg/registry).
const (
	ChartLayerMediaType       = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	legacyChartLayerMediaType = "application/tar+gzip"
)

// fetchOCI pulls a chart from a registry with go-containerregistry's
// remote client: the tag (or digest) is resolved to a manifest, and the
// layer of the Helm chart media type (OCIRepository's layerSelector for
// charts, operation copy) is the archive. A HelmRepository of type oci
// names the repository oci://host/path and the chart; its version is a tag
// or a range over the tags, as source-controller's OCIChartRepository
// resolves it (an exact version is used as the tag without listing tags).
func (f *Fetcher) fetchOCI(ctx context.Context, ref ChartRef) (_ *Chart, err error) {
	if gitrepo.CheckNoCredentials(ref.RepoURL) != nil || strings.ContainsAny(ref.RepoURL, "?#") {
		// Refused before go-containerregistry parses it: its messages
		// quote the user information and the query.
		return nil, fmt.Errorf("repository URL %q: %w (they belong in spec.secretRef)", gitrepo.RedactURL(ref.RepoURL), gitrepo.ErrCredentialsInURL)
	}
	raw, ok := strings.CutPrefix(ref.RepoURL, "oci://")
	if !ok || raw == "" {
		return nil, fmt.Errorf("repository URL %q: an OCI repository is oci://host/path", gitrepo.RedactURL(ref.RepoURL))
	}
	repoPath := strings.TrimSuffix(raw, "/")
	if ref.Chart != "" {
		repoPath += "/" + ref.Chart
	}
	var nopts []name.Option
	if ref.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	repository, err := name.NewRepository(repoPath, nopts...)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repoPath, err)
	}
	opts, secrets, anonymous, err := f.remoteOptions(ctx, ref, repository)
	if err != nil {
		return nil, err
	}
	defer func() { err = scrubSecrets(err, secrets...) }()

	var target name.Reference
	remember := false // the reference names one artifact, for good
	key := "oci\x00" + repository.String() + "\x00"
	switch {
	case ref.Digest != "":
		hexd, err := digestHex(ref.Digest)
		if err != nil {
			return nil, err
		}
		target, remember, key = repository.Digest("sha256:"+hexd), true, key+"@sha256:"+hexd
	case ref.Chart != "" && isExactVersion(ref.Version):
		// Helm writes a version's "+" as "_" in a tag.
		tag := strings.ReplaceAll(ref.Version, "+", "_")
		target, remember, key = repository.Tag(tag), true, key+":"+tag
	case ref.Chart != "" || ref.Semver != "":
		constraint := ref.Version
		if ref.Chart == "" {
			constraint = ref.Semver
		}
		tags, err := remote.List(repository, opts...)
		if err != nil {
			return nil, fmt.Errorf("listing the tags of %s: %w", repository, err)
		}
		if len(tags) > f.limits.Tags {
			return nil, fmt.Errorf("%s has %d tags, more than the limit of %d", repository, len(tags), f.limits.Tags)
		}
		tag, err := pickTag(tags, constraint)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", repository, err)
		}
		target = repository.Tag(tag)
	default:
		tag := ref.Tag
		if tag == "" {
			tag = "latest"
		}
		target = repository.Tag(tag)
	}
	// Remembered only without credentials: with them, this run's manifest
	// request is what shows the registry still lets them in.
	remember = remember && anonymous
	if remember {
		if c, ok := f.lookupRef(key); ok {
			return c, nil
		}
	}

	desc, err := remote.Get(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("getting the manifest of %s: %w", target, err)
	}
	switch desc.MediaType {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
	default:
		return nil, fmt.Errorf("%s is a %s, not an image manifest", target, desc.MediaType)
	}
	m, err := v1.ParseManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of %s: %w", target, err)
	}
	var layer *v1.Descriptor
	for i := range m.Layers {
		if mt := string(m.Layers[i].MediaType); mt == ChartLayerMediaType || mt == legacyChartLayerMediaType {
			layer = &m.Layers[i]
			break
		}
	}
	if layer == nil {
		return nil, fmt.Errorf("%s has no layer of media type %s: not a Helm chart", target, ChartLayerMediaType)
	}
	if layer.Size > f.limits.ChartSize {
		return nil, fmt.Errorf("%s: the chart layer is %d bytes, more than the limit of %d", target, layer.Size, f.limits.ChartSize)
	}
	hexd, err := digestHex(layer.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("%s: chart layer: %w", target, err)
	}
	version := m.Annotations["org.opencontainers.image.version"]
	if t, ok := target.(name.Tag); ok && version == "" {
		version = strings.ReplaceAll(t.TagStr(), "_", "+")
	}
	chartName := ref.Chart
	if chartName == "" {
		chartName = path.Base(repository.RepositoryStr())
	}
	shown := "oci://" + target.String()
	c := &Chart{Name: chartName, Version: version, URL: shown, ManifestDigest: desc.Digest.String(), Digest: "sha256:" + hexd}
	if p, ok := f.cached(hexd); ok {
		c.Path, c.Cached = p, true
	} else {
		data, err := f.pullLayer(repository, layer, opts)
		if err != nil {
			return nil, fmt.Errorf("pulling the chart of %s: %w", target, err)
		}
		if got := sha256Hex(data); got != hexd {
			return nil, fmt.Errorf("%s: %w: the manifest says sha256:%s, the layer is sha256:%s", target, ErrDigestMismatch, hexd, got)
		}
		if err := checkArchive(data, ref.Chart); err != nil {
			return nil, fmt.Errorf("%s: %w", target, err)
		}
		if c.Path, _, err = f.store(data); err != nil {
			return nil, err
		}
	}
	if remember {
		f.rememberRef(key, c)
	}
	return c, nil
}

func (f *Fetcher) pullLayer(repository name.Repository, layer *v1.Descriptor, opts []remote.Option) ([]byte, error) {
	l, err := remote.Layer(repository.Digest(layer.Digest.String()), opts...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readBounded(rc, f.limits.ChartSize, "the chart layer")
}

// remoteOptions: the context, the guard (credentials only to their host,
// never over plain http but to loopback, every response bounded) and the
// credentials: the source's secretRef, else the keychain's for the
// repository. It returns the secrets to keep out of errors, and whether
// there are none (anonymous).
func (f *Fetcher) remoteOptions(ctx context.Context, ref ChartRef, repository name.Repository) (_ []remote.Option, _ []string, anonymous bool, _ error) {
	g := &guard{inner: f.opts.Transport, maxReq: 1000, registry: repository.RegistryStr(), bodyLimit: func(r *http.Request) int64 {
		if strings.Contains(r.URL.Path, "/blobs/") {
			return f.limits.ChartSize
		}
		return f.limits.Response
	}}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(g)}
	var auth authn.Authenticator
	if ref.Credentials != nil {
		auth = &authn.Basic{Username: ref.Credentials.Username, Password: ref.Credentials.Password}
	} else {
		kc := f.keychain
		if ref.DockerConfig != nil && len(ref.DockerConfig.JSON) > 0 {
			secret, err := ocisource.DockerConfigKeychain(ref.DockerConfig.JSON)
			if err != nil {
				return nil, nil, false, fmt.Errorf("secretRef: %w", err)
			}
			kc = authn.NewMultiKeychain(secret, kc)
		}
		a, err := authn.Resolve(ctx, kc, repository)
		if err != nil {
			return nil, nil, false, fmt.Errorf("reading registry credentials for %s: %w", repository.RegistryStr(), err)
		}
		auth = a
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil {
		return nil, nil, false, fmt.Errorf("reading registry credentials for %s: %w", repository.RegistryStr(), err)
	}
	secrets := []string{cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken, cfg.Username + ":" + cfg.Password}
	return append(opts, remote.WithAuth(auth)), secrets, *cfg == (authn.AuthConfig{}), nil
}
