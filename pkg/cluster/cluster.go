package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Mapper resolves kinds to REST resources.
type Mapper interface {
	// Mapping returns the resource for gvk; an error wrapping ErrKindNotServed
	// when the server does not serve it (e.g. its CRD is not installed).
	Mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error)
}

// Reader reads live objects.
type Reader interface {
	Mapper
	// Get returns the live object, or an error satisfying apierrors.IsNotFound.
	Get(ctx context.Context, m *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error)
	// List returns every object of a kind in namespace ("" for all namespaces
	// or a cluster-scoped kind) matching the label selector, paginated.
	List(ctx context.Context, m *meta.RESTMapping, namespace, labelSelector string) ([]unstructured.Unstructured, error)
}

// Applier applies objects with server-side apply.
type Applier interface {
	// Apply server-side applies obj as fieldManager. With dryRun nothing is
	// persisted and the result is what the object would become.
	Apply(ctx context.Context, m *meta.RESTMapping, obj *unstructured.Unstructured, opts ApplyOptions) (*unstructured.Unstructured, error)
}

// ApplyOptions are the options of one server-side apply.
type ApplyOptions struct {
	FieldManager string
	Force        bool
	DryRun       bool
}

// ErrKindNotServed reports a kind the API server does not serve.
var ErrKindNotServed = errors.New("kind not served by the API server")

// Client is the real implementation of Reader and Applier.
type Client struct {
	dyn    dynamic.Interface
	mapper meta.ResettableRESTMapper
	// ListPageSize bounds each LIST response (default 500, as kubectl).
	ListPageSize int64
}

var _ interface {
	Reader
	Applier
} = (*Client)(nil)

// New connects to the API server described by cfg. Client-side rate
// limiting is off unless cfg asks for it: callers bound their concurrency,
// and the API server's priority and fairness protects it (client-go's
// default of 5 requests per second would make a 5,000-object comparison
// take minutes).
func New(cfg *rest.Config) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.RateLimiter == nil && cfg.QPS == 0 {
		cfg.QPS = -1
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating dynamic client: %w", err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating discovery client: %w", err)
	}
	return &Client{
		dyn:          dyn,
		mapper:       restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco)),
		ListPageSize: 500,
	}, nil
}

// Mapping implements Mapper. A kind not found in the cached discovery is
// looked up once more after a reset (a CRD may have been installed since).
func (c *Client) Mapping(_ context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset()
		m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("%w: %s", ErrKindNotServed, gvkString(gvk))
	}
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", gvkString(gvk), err)
	}
	return m, nil
}

func gvkString(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return gvk.Version + " " + gvk.Kind
	}
	return gvk.Group + "/" + gvk.Version + " " + gvk.Kind
}

func (c *Client) resource(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace && namespace != "" {
		return c.dyn.Resource(m.Resource).Namespace(namespace)
	}
	return c.dyn.Resource(m.Resource)
}

// Get implements Reader.
func (c *Client) Get(ctx context.Context, m *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error) {
	return c.resource(m, namespace).Get(ctx, name, metav1.GetOptions{})
}

// List implements Reader.
func (c *Client) List(ctx context.Context, m *meta.RESTMapping, namespace, labelSelector string) ([]unstructured.Unstructured, error) {
	var out []unstructured.Unstructured
	opts := metav1.ListOptions{LabelSelector: labelSelector, Limit: c.ListPageSize}
	for {
		list, err := c.resource(m, namespace).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, list.Items...)
		if list.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = list.GetContinue()
	}
}

// Apply implements Applier.
func (c *Client) Apply(ctx context.Context, m *meta.RESTMapping, obj *unstructured.Unstructured, opts ApplyOptions) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", obj.GetName(), err)
	}
	po := metav1.PatchOptions{FieldManager: opts.FieldManager}
	if opts.Force {
		po.Force = &opts.Force
	}
	if opts.DryRun {
		po.DryRun = []string{metav1.DryRunAll}
	}
	return c.resource(m, obj.GetNamespace()).Patch(ctx, obj.GetName(), types.ApplyPatchType, data, po)
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool { return apierrors.IsNotFound(err) }
