package lite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Config is the suite's one client policy, applied to a copy of cfg by
// every client this package and pkg/cluster build:
//   - no client-side rate limit unless cfg asks for one (a RateLimiter or a
//     QPS): callers bound their concurrency and the API server's priority
//     and fairness paces requests (client-go's default of 5 requests per
//     second would make a 5,000-object comparison take minutes);
//   - the per-request timeout is cfg.Timeout, which the kubeconfig flags set
//     from --request-timeout; none is added here;
//   - warnings go to the handler cfg names, else to client-go's default
//     (printed on stderr, as kubectl does); none is added here.
func Config(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	if cfg.RateLimiter == nil && cfg.QPS == 0 {
		cfg.QPS = -1
	}
	return cfg
}

// Client reads resources whose REST mapping the caller knows, under
// Config's policy, through one HTTP connection pool.
type Client struct {
	rest  *rest.RESTClient
	dyn   *dynamic.DynamicClient
	proxy *rest.RESTClient // rest's, its response bodies bounded (ServiceProxyGet)
}

// New builds a Client for the API server described by cfg, under Config's
// policy.
func New(cfg *rest.Config) (*Client, error) {
	cfg = Config(cfg)
	// What dynamic.NewForConfig does, keeping the REST client (pkg/cluster
	// decodes LIST and apply responses from it directly).
	dcfg := dynamic.ConfigFor(cfg)
	dcfg.GroupVersion = nil
	dcfg.APIPath = "/if-you-see-this-search-for-the-break"
	httpClient, err := rest.HTTPClientFor(dcfg)
	if err != nil {
		return nil, fmt.Errorf("creating dynamic client: %w", err)
	}
	rc, err := rest.UnversionedRESTClientForConfigAndClient(dcfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("creating dynamic client: %w", err)
	}
	// The same connections, the response bodies bounded.
	capped := *httpClient
	rt := httpClient.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	capped.Transport = cappedTransport{rt: rt}
	proxy, err := rest.UnversionedRESTClientForConfigAndClient(dcfg, &capped)
	if err != nil {
		return nil, fmt.Errorf("creating the service proxy client: %w", err)
	}
	return &Client{rest: rc, dyn: dynamic.New(rc), proxy: proxy}, nil
}

// RESTClient is the client's REST client (absolute paths only: it has no
// group-version of its own).
func (c *Client) RESTClient() *rest.RESTClient { return c.rest }

// Dynamic is the client's dynamic client, on the same REST client.
func (c *Client) Dynamic() *dynamic.DynamicClient { return c.dyn }

// Resource is the dynamic client for m's resource, in namespace when the
// resource is namespaced and namespace is not "".
func (c *Client) Resource(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace && namespace != "" {
		return c.dyn.Resource(m.Resource).Namespace(namespace)
	}
	return c.dyn.Resource(m.Resource)
}

// Get returns the live object, or an error satisfying apierrors.IsNotFound.
func (c *Client) Get(ctx context.Context, m *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error) {
	return c.Resource(m, namespace).Get(ctx, name, metav1.GetOptions{})
}

// ServiceProxyGet GETs path from port (a port name or number) of the
// Service namespace/name over scheme ("http" or "https"), through
// /api/v1/namespaces/NS/services/SCHEME:NAME:PORT/proxy/PATH (RBAC: get on
// services/proxy), reading at most limit bytes of the response: what the
// Service's endpoint answers (an error's body too) is cluster data, as
// large as it likes. A larger response is an error wrapping
// ErrResponseTooLarge; API errors are returned as they are.
func (c *Client) ServiceProxyGet(ctx context.Context, namespace, name, scheme, port, path string, limit int64) ([]byte, error) {
	segments := []string{"/api/v1/namespaces", namespace, "services", utilnet.JoinSchemeNamePort(scheme, name, port), "proxy"}
	if p := strings.TrimPrefix(path, "/"); p != "" {
		segments = append(segments, p)
	}
	// The proxy's REST client bounds response bodies (cappedTransport):
	// client-go reads a body whole, an error's included.
	// An error's body is read by DoRaw whole and quoted in its error: the
	// bound's being hit is kept apart.
	b := &bound{limit: limit}
	data, err := c.proxy.Get().AbsPath(segments...).DoRaw(context.WithValue(ctx, boundKey{}, b))
	if b.hit.Load() || errors.Is(err, ErrResponseTooLarge) {
		return nil, fmt.Errorf("the response of service %s/%s port %s: %w (%d bytes)", namespace, name, port, ErrResponseTooLarge, limit)
	}
	return data, err
}

// ErrResponseTooLarge is the error of a response longer than its bound.
var ErrResponseTooLarge = errors.New("response larger than its bound")

// boundKey is the context key of a request's bound on its response body.
type boundKey struct{}

// bound is a bound on a response body, and whether it was hit.
type bound struct {
	limit int64
	hit   atomic.Bool
}

// cappedTransport fails the read of a response body past the bound of the
// request's context (boundKey), when it has one.
type cappedTransport struct {
	rt http.RoundTripper
}

func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	b, ok := req.Context().Value(boundKey{}).(*bound)
	if err != nil || !ok || resp.Body == nil {
		return resp, err
	}
	if resp.ContentLength > b.limit {
		_ = resp.Body.Close()
		b.hit.Store(true)
		return nil, ErrResponseTooLarge
	}
	resp.Body = &cappedBody{rc: resp.Body, left: b.limit, b: b}
	return resp, nil
}

// cappedBody reads rc until left bytes are read; one more is an error.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	b    *bound
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrResponseTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		b.b.hit.Store(true)
		return 0, ErrResponseTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// ServerVersion asks the API server its version (GET /version), as
// discovery's ServerVersion does, under ctx.
func (c *Client) ServerVersion(ctx context.Context) (*version.Info, error) {
	body, err := c.rest.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("unable to parse the server version: %w", err)
	}
	return &info, nil
}
