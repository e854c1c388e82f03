package chartsource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// Repository types, as HelmRepository spec.type spells them.
const (
	TypeHTTP = "default"
	TypeOCI  = "oci"
)

// ChartRef says which chart to fetch. It is plain data: the caller fills it
// from a HelmRepository + HelmRelease chart spec (or a HelmChart), or from
// an OCIRepository named by a HelmRelease chartRef.
type ChartRef struct {
	// RepoURL is the HelmRepository spec.url (https://charts.example.com,
	// oci://registry.example.com/charts) or the OCIRepository spec.url
	// (oci://registry.example.com/charts/podinfo, the chart included).
	RepoURL string
	// Type is "default" (or empty) for an HTTP chart repository, "oci" for
	// a registry. An oci:// RepoURL is OCI whatever Type says.
	Type string
	// Chart is the chart's name in the repository. For an OCIRepository it
	// is empty: RepoURL names the chart.
	Chart string
	// Version is the chart version or a semantic-version range (">=1.0.0-
	// alpha", "6.x", "*"); empty means the latest stable version. For an
	// OCIRepository use Tag, Semver or Digest instead.
	Version string
	// Tag, Semver and Digest are an OCIRepository's spec.ref: Digest wins
	// over Semver, Semver over Tag; none means the tag "latest".
	Tag, Semver, Digest string
	// SourceKind, SourceNamespace and SourceName name the object the
	// reference came from (HelmRepository or OCIRepository), for messages.
	SourceKind, SourceNamespace, SourceName string
	// Insecure allows plain http to an OCI registry (spec.insecure).
	Insecure bool
	// PassCredentials sends Credentials also to chart URLs on another host
	// than the repository's (HelmRepository spec.passCredentials).
	PassCredentials bool
	// Credentials are the basic-auth username and password of the
	// HelmRepository's (or OCIRepository's) secretRef, if any.
	Credentials *BasicAuth
	// SecretName is the source object's spec.secretRef.name (in
	// SourceNamespace), for Options.Credentials; "" for none.
	SecretName string
	// DockerConfig is the docker config of the secretRef (OCI only): each
	// registry gets its own entry's credentials and nothing else, before
	// the keychain. Credentials win over it.
	DockerConfig *DockerConfig
}

// DockerConfig is a docker config JSON (a kubernetes.io/dockerconfigjson
// Secret's .dockerconfigjson). It never prints.
type DockerConfig struct {
	JSON []byte
}

// String never shows the data.
func (d *DockerConfig) String() string { return "docker-config(***)" }

// GoString never shows it either (%#v).
func (d *DockerConfig) GoString() string { return d.String() }

// Credentials are what a source's secretRef Secret holds for this
// package: basic auth (username, password), or for registries a docker
// config (a kubernetes.io/dockerconfigjson Secret's .dockerconfigjson).
type Credentials struct {
	Basic        *BasicAuth
	DockerConfig *DockerConfig
}

// String never shows a credential.
func (c *Credentials) String() string { return "credentials(***)" }

// GoString never shows one either (%#v).
func (c *Credentials) GoString() string { return c.String() }

// BasicAuth is a username and password.
type BasicAuth struct {
	Username, Password string
}

// String never shows the password.
func (b *BasicAuth) String() string { return "basic-auth(" + b.Username + ", ***)" }

// GoString never shows the password either (%#v).
func (b *BasicAuth) GoString() string { return b.String() }

func (r ChartRef) isOCI() bool {
	return strings.HasPrefix(r.RepoURL, "oci://") || strings.EqualFold(r.Type, TypeOCI)
}

// source names the reference in messages, without credentials.
func (r ChartRef) source() string {
	s := gitrepo.RedactURL(r.RepoURL)
	if r.Chart != "" {
		s += " chart " + r.Chart
	}
	if r.SourceName != "" {
		kind := r.SourceKind
		if kind == "" {
			kind = "source"
		}
		s = fmt.Sprintf("%s %s/%s (%s)", kind, r.SourceNamespace, r.SourceName, s)
	}
	return s
}

// Chart is a fetched chart.
type Chart struct {
	// Path is the chart archive (.tgz) in the cache or in a local override
	// directory, or an unpacked chart directory of an override. Callers
	// read it and never modify it.
	Path string
	// Digest is "sha256:<hex>" of the archive (for an unpacked directory,
	// of its files: see dirDigest).
	Digest string
	// Name and Version are the chart's, as resolved.
	Name, Version string
	// URL is where it came from, without credentials (a local path for an
	// override to a directory).
	URL string
	// ManifestDigest is the OCI manifest's digest, for OCI charts.
	ManifestDigest string
	// Cached says the archive came from the cache without a download.
	Cached bool
}

// Limits bound what a repository or registry may make this read. Zero
// fields take the defaults (DefaultLimits).
type Limits struct {
	// IndexSize bounds a repository's index.yaml.
	IndexSize int64
	// ChartSize bounds a chart archive as downloaded (compressed); the
	// decompressed size is bounded by Helm's loader
	// (archive.MaxDecompressedChartSize).
	ChartSize int64
	// Tags bounds the number of tags of an OCI repository.
	Tags int
	// Response bounds every other response (an OCI manifest, a tag-list
	// page, a token).
	Response int64
}

// DefaultLimits are source-controller's: a 50 MiB index, 10 MiB charts.
var DefaultLimits = Limits{IndexSize: 50 << 20, ChartSize: 10 << 20, Tags: 10000, Response: 4 << 20}

func (l Limits) withDefaults() Limits {
	if l.IndexSize <= 0 {
		l.IndexSize = DefaultLimits.IndexSize
	}
	if l.ChartSize <= 0 {
		l.ChartSize = DefaultLimits.ChartSize
	}
	if l.Tags <= 0 {
		l.Tags = DefaultLimits.Tags
	}
	if l.Response <= 0 {
		l.Response = DefaultLimits.Response
	}
	return l
}

// Options configure a Fetcher. The zero value is usable.
type Options struct {
	// CacheDir holds cached charts; empty means
	// os.UserCacheDir()/kubectl-gitops/charts.
	CacheDir string
	// Override maps a repository URL to another URL or to a local
	// directory (a path or file:// URL), as --repo-override does; nil
	// changes nothing. The result is used as returned.
	Override func(url string) string
	// Keychain gives registry credentials for OCI; nil means the Docker
	// configuration (~/.docker/config.json, $DOCKER_CONFIG) then Helm's
	// registry configuration ($HELM_REGISTRY_CONFIG,
	// ~/.config/helm/registry/config.json). ChartRef.Credentials win.
	Keychain authn.Keychain
	// Credentials, when set, is asked for the credentials of the Secret a
	// reference names (SourceNamespace, SecretName) when the reference
	// carries none and its URL is not overridden: the plugin reads the
	// Secret, this package never does.
	Credentials CredentialsFunc
	// Transport is the HTTP transport under the credential guard; nil
	// means a clone of http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds one Fetch; zero means two minutes.
	Timeout time.Duration
	// Limits bound responses; zero fields take DefaultLimits.
	Limits Limits
}

// CredentialsFunc returns the credentials the Secret namespace/secret (a
// source object's spec.secretRef) holds, or nil when it holds none.
type CredentialsFunc func(ctx context.Context, namespace, secret string) (*Credentials, error)

// Fetcher fetches charts. It is safe for concurrent use; indexes and
// resolutions are remembered for its lifetime.
type Fetcher struct {
	opts     Options
	cacheDir string
	limits   Limits
	keychain authn.Keychain

	mu      sync.Mutex
	indexes map[string]*indexEntry // by index URL (with the credentials' user)
}

// New returns a Fetcher.
func New(opts Options) (*Fetcher, error) {
	dir := opts.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("finding the chart cache: %w", err)
		}
		dir = filepath.Join(base, "kubectl-gitops", "charts")
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	kc := opts.Keychain
	if kc == nil {
		kc = defaultKeychain()
	}
	return &Fetcher{opts: opts, cacheDir: dir, limits: opts.Limits.withDefaults(), keychain: kc,
		indexes: map[string]*indexEntry{}}, nil
}

// Fetch returns the path of the chart archive (or unpacked directory) for
// ref and its digest: the ChartFetcher a renderer calls.
func (f *Fetcher) Fetch(ctx context.Context, ref ChartRef) (path, digest string, err error) {
	c, err := f.FetchChart(ctx, ref)
	if err != nil {
		return "", "", err
	}
	return c.Path, c.Digest, nil
}

// FetchChart fetches the chart ref names and says what it fetched.
func (f *Fetcher) FetchChart(ctx context.Context, ref ChartRef) (*Chart, error) {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	overridden := f.opts.Override != nil && f.opts.Override(ref.RepoURL) != ref.RepoURL
	if ref.Credentials == nil && f.opts.Credentials != nil && ref.SecretName != "" && !overridden {
		creds, err := f.opts.Credentials(ctx, ref.SourceNamespace, ref.SecretName)
		if err != nil {
			return nil, fmt.Errorf("fetching %s: reading its credentials: %w", ref.source(), err)
		}
		if creds != nil {
			ref.Credentials, ref.DockerConfig = creds.Basic, creds.DockerConfig
		}
	}
	c, err := f.fetch(ctx, ref)
	if err != nil {
		return nil, scrub(fmt.Errorf("fetching %s: %w", ref.source(), err), ref)
	}
	return c, nil
}

func (f *Fetcher) fetch(ctx context.Context, ref ChartRef) (*Chart, error) {
	url := ref.RepoURL
	if f.opts.Override != nil {
		url = f.opts.Override(url)
	}
	if dir, ok := localDir(url); ok {
		return f.fetchLocal(dir, ref)
	}
	if url != ref.RepoURL {
		// Another repository: the type follows the URL it was mapped to,
		// and the credentials stay with the original host.
		ref.Type, ref.Credentials, ref.PassCredentials = "", nil, false
		if strings.HasPrefix(url, "oci://") {
			ref.Type = TypeOCI
		}
		ref.RepoURL = url
	}
	if ref.isOCI() {
		return f.fetchOCI(ctx, ref)
	}
	return f.fetchHTTP(ctx, ref)
}

// scrub removes the reference's password from an error's text (a server
// may echo what it was sent), keeping the chain for errors.Is.
func scrub(err error, ref ChartRef) error {
	if ref.Credentials == nil {
		return err
	}
	return scrubSecrets(err, ref.Credentials.Password, ref.Credentials.Username+":"+ref.Credentials.Password)
}

// scrubSecrets removes secret values (and their base64) from err's text.
func scrubSecrets(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	sw := redact.NewSweeper()
	for _, s := range secrets {
		if s != "" && s != ":" {
			sw.AddText(s)
		}
	}
	// The result still unwraps to context and HTTP status errors.
	return redact.MaskError(err, sw.String)
}

// ErrDigestMismatch is returned when a chart's content does not match the
// digest its repository declared.
var ErrDigestMismatch = errors.New("chart digest mismatch")
