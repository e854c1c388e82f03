package drift

import (
	"context"
	"encoding/base64"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
)

// chartFetcher fetches the charts of HelmReleases whose chart comes from a
// HelmRepository or an OCIRepository (pkg/chartsource), for pkg/desired.
type chartFetcher struct {
	f *chartsource.Fetcher
}

// newChartFetcher returns the chart fetcher of a drift run: --repo-override
// maps repository URLs (to another URL or a local directory), and the
// basic-auth Secret a source's spec.secretRef names is read from the
// cluster through r, only for a URL that is not overridden.
func newChartFetcher(r cluster.Reader, overrides []string) (desired.ChartFetcher, error) {
	var override func(string) string
	if len(overrides) > 0 {
		override = func(url string) string { return desired.OverrideURL(overrides, url) }
	}
	f, err := chartsource.New(chartsource.Options{Override: override, Credentials: chartCredentials(r)})
	if err != nil {
		return nil, fmt.Errorf("preparing the chart fetcher: %w", err)
	}
	return chartFetcher{f: f}, nil
}

// Fetch implements desired.ChartFetcher.
func (c chartFetcher) Fetch(ctx context.Context, ref desired.ChartRef) (path, digest string, err error) {
	return c.f.Fetch(ctx, chartRef(ref))
}

// chartRef is ref as pkg/chartsource takes it.
func chartRef(ref desired.ChartRef) chartsource.ChartRef {
	out := chartsource.ChartRef{
		RepoURL: ref.URL, Type: ref.Type, Chart: ref.Chart, Version: ref.Version,
		SourceKind: ref.SourceKind, SourceNamespace: ref.SourceNamespace, SourceName: ref.SourceName,
		Insecure: ref.Insecure, PassCredentials: ref.PassCredentials, SecretName: ref.SecretName,
	}
	if ref.SourceKind == "OCIRepository" {
		// The OCIRepository's URL names the chart; its spec.ref the
		// version.
		out.Chart, out.Version = "", ""
		out.Tag, out.Semver, out.Digest = ref.OCIRef["tag"], ref.OCIRef["semver"], ref.OCIRef["digest"]
	}
	return out
}

// chartCredentials reads the Secret a HelmRepository's (or
// OCIRepository's) spec.secretRef names (carried from the source as
// pkg/gitopsapi read it), as source-controller does: username and password
// (basic auth), and for registries the .dockerconfigjson of a
// kubernetes.io/dockerconfigjson Secret. A Secret holding neither gives
// none.
func chartCredentials(r cluster.Reader) chartsource.CredentialsFunc {
	return func(ctx context.Context, namespace, secret string) (*chartsource.Credentials, error) {
		sec, err := getObject(ctx, r, schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, namespace, secret)
		if err != nil {
			return nil, err
		}
		var c chartsource.Credentials
		config, err := secretKey(sec, ".dockerconfigjson")
		if err != nil {
			return nil, err
		}
		if config != "" {
			c.DockerConfig = &chartsource.DockerConfig{JSON: []byte(config)}
		}
		user, err := secretKey(sec, "username")
		if err != nil {
			return nil, err
		}
		if user != "" {
			pass, err := secretKey(sec, "password")
			if err != nil {
				return nil, err
			}
			c.Basic = &chartsource.BasicAuth{Username: user, Password: pass}
		}
		if c.Basic == nil && c.DockerConfig == nil {
			return nil, nil
		}
		return &c, nil
	}
}

func getObject(ctx context.Context, r cluster.Reader, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	m, err := r.Mapping(ctx, gvk)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", gvk.Kind, err)
	}
	obj, err := r.Get(ctx, m, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, namespace, name, err)
	}
	return obj, nil
}

// secretKey decodes one key of a Secret's data; an error never holds the
// value.
func secretKey(sec *unstructured.Unstructured, key string) (string, error) {
	enc, _, _ := unstructured.NestedString(sec.Object, "data", key)
	if enc == "" {
		return "", nil
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", fmt.Errorf("secret %s/%s: key %s is not base64", sec.GetNamespace(), sec.GetName(), key)
	}
	return string(dec), nil
}

// secretData reads a Secret's data, decoded, for pkg/desired (the
// credentials of a Flux GitRepository's spec.secretRef); an error never
// holds a value.
func secretData(r cluster.Reader) func(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	return func(ctx context.Context, namespace, name string) (map[string][]byte, error) {
		sec, err := getObject(ctx, r, schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, namespace, name)
		if err != nil {
			return nil, err
		}
		data, _, _ := unstructured.NestedStringMap(sec.Object, "data")
		out := make(map[string][]byte, len(data))
		for k := range data {
			v, err := secretKey(sec, k)
			if err != nil {
				return nil, err
			}
			out[k] = []byte(v)
		}
		return out, nil
	}
}
