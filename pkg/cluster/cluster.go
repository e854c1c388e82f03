package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster/lite"
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

// PageReader reads a LIST one page at a time, so that a caller can process
// and drop each page before asking for the next.
type PageReader interface {
	// ListPage returns one page of what List returns and the continue
	// token of the next page ("" after the last).
	ListPage(ctx context.Context, m *meta.RESTMapping, namespace, labelSelector string, page Page) ([]unstructured.Unstructured, string, error)
}

// Page selects one page of a LIST.
type Page struct {
	// Limit bounds the objects returned (0: no limit).
	Limit int64
	// Continue is the token the previous page returned ("" for the first).
	Continue string
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
	// OmitManagedFields lets the result lack metadata.managedFields, for
	// callers that do not read them: they are often half of the response,
	// and decoding them costs as much.
	OmitManagedFields bool
}

// ErrKindNotServed reports a kind the API server does not serve, at all or
// at the version asked (then the error is a *NotServedError naming the
// versions it does serve).
var ErrKindNotServed = errors.New("kind not served by the API server")

// NotServedError is what Mapping returns for a kind the server does not
// serve at the version asked. It wraps ErrKindNotServed.
type NotServedError struct {
	GVK schema.GroupVersionKind
	// ServedVersions are the versions of GVK's group the server serves the
	// kind at (from discovery, preferred first): none when it serves the
	// kind at no version (e.g. its CRD is not installed), some when only
	// GVK's version is not served (e.g. a version removed from the CRD).
	ServedVersions []string
}

func (e *NotServedError) Error() string {
	if len(e.ServedVersions) == 0 {
		return ErrKindNotServed.Error() + ": " + gvkString(e.GVK)
	}
	return fmt.Sprintf("apiVersion not served by the API server: %s (it serves %s at %s)",
		gvkString(e.GVK), e.GVK.Kind, strings.Join(e.ServedVersions, ", "))
}

func (e *NotServedError) Unwrap() error { return ErrKindNotServed }

// VersionNotServed reports whether err says a kind is served, only not at
// the version asked: suggesting to install its CRD would then be wrong.
func VersionNotServed(err error) bool {
	var nse *NotServedError
	return errors.As(err, &nse) && len(nse.ServedVersions) > 0
}

// Client is the real implementation of Reader and Applier.
type Client struct {
	// lite is the part of the client that needs no discovery (GET, the
	// server's version): rest and dyn are its.
	lite *lite.Client
	// rest is the dynamic client's REST client: LIST and apply responses
	// are decoded from it directly (see decodeList).
	rest rest.Interface
	dyn  dynamic.Interface
	// mapper discovers through the context of the Mapping call that needs
	// it: a hung API server is left when the caller gives up (Ctrl-C, a
	// check timeout), not after discovery's own 32 s timeout.
	mapper meta.ResettableRESTMapperWithContext
	// disco is the mapper's cached discovery (ServerCapabilities).
	disco discovery.CachedDiscoveryInterfaceWithContext
	// ListPageSize bounds each LIST response (default 500, as kubectl).
	ListPageSize int64

	// lock (a one-slot semaphore, so that waiting for it honours the
	// caller's context) guards mappings, which caches Mapping's answers
	// until the mapper is reset: the deferred discovery mapper's lookups
	// allocate, and are made per object.
	lock     chan struct{}
	mappings map[schema.GroupVersionKind]*meta.RESTMapping
}

var _ interface {
	Reader
	PageReader
	Applier
} = (*Client)(nil)

// New connects to the API server described by cfg, under Config's policy
// (no client-side rate limit unless cfg asks for one).
func New(cfg *rest.Config) (*Client, error) {
	cfg = Config(cfg)
	lc, err := lite.New(cfg)
	if err != nil {
		return nil, err
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating discovery client: %w", err)
	}
	cached := memory.NewMemCacheClientWithContext(disco)
	return &Client{
		lite:         lc,
		rest:         lc.RESTClient(),
		dyn:          lc.Dynamic(),
		disco:        cached,
		mapper:       restmapper.NewDeferredDiscoveryRESTMapperWithContext(cached),
		ListPageSize: 500,
		lock:         make(chan struct{}, 1),
	}, nil
}

// Mapping implements Mapper. A kind not found in the cached discovery is
// looked up once more after a reset (a CRD may have been installed since).
// Discovery runs under ctx: when ctx is done, Mapping returns its error.
func (c *Client) Mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("resolving %s: %w", gvkString(gvk), ctx.Err())
	}
	defer func() { <-c.lock }()
	if m, ok := c.mappings[gvk]; ok {
		return m, nil
	}
	m, err := c.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) && ctx.Err() == nil {
		c.mapper.ResetWithContext(ctx)
		clear(c.mappings)
		m, err = c.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	}
	if err != nil && ctx.Err() != nil {
		// Discovery was cut short: what it cached may lack groups, and its
		// errors do not always wrap the context's.
		c.mapper.ResetWithContext(context.WithoutCancel(ctx))
		clear(c.mappings)
		return nil, fmt.Errorf("resolving %s: %w", gvkString(gvk), ctx.Err())
	}
	if meta.IsNoMatchError(err) {
		return nil, &NotServedError{GVK: gvk, ServedVersions: c.servedVersions(ctx, gvk.GroupKind())}
	}
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", gvkString(gvk), err)
	}
	if c.mappings == nil {
		c.mappings = map[schema.GroupVersionKind]*meta.RESTMapping{}
	}
	c.mappings[gvk] = m
	return m, nil
}

// servedVersions lists the versions discovery serves gk at, preferred
// first; none when discovery fails or serves gk at no version.
func (c *Client) servedVersions(ctx context.Context, gk schema.GroupKind) []string {
	ms, err := c.mapper.RESTMappingsWithContext(ctx, gk)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range ms {
		if v := m.GroupVersionKind.Version; !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func gvkString(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return gvk.Version + " " + gvk.Kind
	}
	return gvk.Group + "/" + gvk.Version + " " + gvk.Kind
}

func (c *Client) resource(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	return c.lite.Resource(m, namespace)
}

// Get implements Reader.
func (c *Client) Get(ctx context.Context, m *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error) {
	return c.resource(m, namespace).Get(ctx, name, metav1.GetOptions{})
}

// List implements Reader.
func (c *Client) List(ctx context.Context, m *meta.RESTMapping, namespace, labelSelector string) ([]unstructured.Unstructured, error) {
	var out []unstructured.Unstructured
	page := Page{Limit: c.ListPageSize}
	for {
		items, cont, err := c.ListPage(ctx, m, namespace, labelSelector, page)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = items
		} else {
			out = append(out, items...)
		}
		if cont == "" {
			return out, nil
		}
		page.Continue = cont
	}
}

// ListPage implements PageReader.
func (c *Client) ListPage(ctx context.Context, m *meta.RESTMapping, namespace, labelSelector string, page Page) ([]unstructured.Unstructured, string, error) {
	ns := namespaceOf(m, namespace)
	if err := validPathSegments(ns); err != nil {
		return nil, "", err
	}
	opts := metav1.ListOptions{LabelSelector: labelSelector, Limit: page.Limit, Continue: page.Continue}
	res := c.rest.Get().
		AbsPath(urlSegments(m.Resource, ns, "")...).
		SpecificallyVersionedParams(&opts, parameterCodec, versionV1).
		Do(ctx)
	return decodeList(res)
}

// Apply implements Applier.
func (c *Client) Apply(ctx context.Context, m *meta.RESTMapping, obj *unstructured.Unstructured, opts ApplyOptions) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", obj.GetName(), err)
	}
	if obj.GetName() == "" {
		return nil, fmt.Errorf("name is required")
	}
	ns := namespaceOf(m, obj.GetNamespace())
	if err := validPathSegments(ns, obj.GetName()); err != nil {
		return nil, err
	}
	po := metav1.PatchOptions{FieldManager: opts.FieldManager}
	if opts.Force {
		po.Force = &opts.Force
	}
	if opts.DryRun {
		po.DryRun = []string{metav1.DryRunAll}
	}
	res := c.rest.Patch(types.ApplyPatchType).
		AbsPath(urlSegments(m.Resource, ns, obj.GetName())...).
		Body(data).
		SpecificallyVersionedParams(&po, parameterCodec, versionV1).
		Do(ctx)
	return decodeObject(res, opts.OmitManagedFields)
}

// The dynamic client's query parameter encoding (k8s.io/client-go/dynamic,
// scheme.go), for the requests Client makes itself.
var (
	versionV1       = schema.GroupVersion{Version: "v1"}
	parameterScheme = func() *runtime.Scheme {
		s := runtime.NewScheme()
		metav1.AddToGroupVersion(s, versionV1)
		return s
	}()
	parameterCodec = runtime.NewParameterCodec(parameterScheme)
)

// namespaceOf is the namespace of a request, "" for all namespaces or a
// cluster-scoped kind (as resource does).
func namespaceOf(m *meta.RESTMapping, namespace string) string {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return namespace
	}
	return ""
}

// validPathSegments checks a namespace and name as the dynamic client does.
func validPathSegments(namespace string, name ...string) error {
	if msgs := rest.IsValidPathSegmentName(namespace); len(msgs) != 0 {
		return fmt.Errorf("invalid namespace %q: %v", namespace, msgs)
	}
	for _, n := range name {
		if msgs := rest.IsValidPathSegmentName(n); len(msgs) != 0 {
			return fmt.Errorf("invalid resource name %q: %v", n, msgs)
		}
	}
	return nil
}

// urlSegments is the path of a resource, a namespace's or one object's, as
// the dynamic client builds it.
func urlSegments(r schema.GroupVersionResource, namespace, name string) []string {
	url := make([]string, 0, 6)
	if r.Group == "" {
		url = append(url, "api")
	} else {
		url = append(url, "apis", r.Group)
	}
	url = append(url, r.Version)
	if namespace != "" {
		url = append(url, "namespaces", namespace)
	}
	url = append(url, r.Resource)
	if name != "" {
		url = append(url, name)
	}
	return url
}

// isJSON reports whether a response's content type is JSON.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// decodeObject decodes one object from a response into the same
// unstructured object the dynamic client returns, in one pass over the JSON
// where the dynamic client's decoder makes four (it reads apiVersion and kind
// first, then validates the document twice before decoding it).
//
// With omitManagedFields, metadata.managedFields may be left out.
func decodeObject(res rest.Result, omitManagedFields bool) (*unstructured.Unstructured, error) {
	body, ct, err := rawBody(res)
	if err != nil {
		return nil, err
	}
	if !isJSON(ct) {
		var out unstructured.Unstructured
		if err := res.Into(&out); err != nil {
			return nil, err
		}
		return &out, nil
	}
	data := body
	if omitManagedFields {
		data = withoutManagedFields(body)
	}
	m := map[string]any{}
	err = utiljson.Unmarshal(data, &m)
	if err != nil && len(data) < len(body) {
		// Not expected (the cut keeps valid JSON valid): decode it all.
		m = map[string]any{}
		err = utiljson.Unmarshal(body, &m)
	}
	if err != nil {
		return nil, err
	}
	out := &unstructured.Unstructured{Object: m}
	if out.GetKind() == "" {
		return nil, runtime.NewMissingKindErr(responseBody)
	}
	return out, nil
}

// responseBody stands for a response in errors: unlike the dynamic client,
// Client does not quote the body, which may hold a Secret's data.
const responseBody = "the API server's response"

// listBody is what Client reads of a LIST response.
type listBody struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Continue string `json:"continue"`
	} `json:"metadata"`
	Items []map[string]any `json:"items"`
}

// decodeList decodes a LIST response into the items the dynamic client
// returns and the continue token.
func decodeList(res rest.Result) ([]unstructured.Unstructured, string, error) {
	body, ct, err := rawBody(res)
	if err != nil {
		return nil, "", err
	}
	if !isJSON(ct) {
		var list unstructured.UnstructuredList
		if err := res.Into(&list); err != nil {
			return nil, "", err
		}
		return list.Items, list.GetContinue(), nil
	}
	return decodeListJSON(body)
}

// decodeListJSON decodes the JSON body of a LIST response into the items
// the dynamic client returns and the continue token, in one pass over the
// JSON where the dynamic client's decoder makes seven (three of them decode
// every item): parseListJSON's, or utiljson's for a body it leaves to
// utiljson. Items without apiVersion and kind get the list's, as there.
func decodeListJSON(body []byte) ([]unstructured.Unstructured, string, error) {
	lb, ok := parseListJSON(body)
	if !ok {
		lb = listBody{}
		if err := utiljson.Unmarshal(body, &lb); err != nil {
			return nil, "", err
		}
	}
	return listItems(lb)
}

// listItems turns a decoded LIST body into its items and continue token.
func listItems(lb listBody) ([]unstructured.Unstructured, string, error) {
	if lb.Kind == "" {
		return nil, "", runtime.NewMissingKindErr(responseBody)
	}
	itemKind := strings.TrimSuffix(lb.Kind, "List")
	items := make([]unstructured.Unstructured, len(lb.Items))
	for i, m := range lb.Items {
		if m == nil {
			m = map[string]any{}
		}
		items[i].Object = m
		if items[i].GetKind() == "" && items[i].GetAPIVersion() == "" {
			items[i].SetKind(itemKind)
			items[i].SetAPIVersion(lb.APIVersion)
		}
	}
	return items, lb.Metadata.Continue, nil
}

// rawBody returns a response's body and content type, or its error as
// Result.Into would return it.
func rawBody(res rest.Result) ([]byte, string, error) {
	var ct string
	body, err := res.ContentType(&ct).Raw()
	if err != nil {
		return nil, "", res.Error()
	}
	if len(body) == 0 {
		var code int
		res.StatusCode(&code)
		return nil, "", fmt.Errorf("0-length response with status code: %d and content type: %s", code, ct)
	}
	return body, ct, nil
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool { return apierrors.IsNotFound(err) }

// withoutManagedFields returns the JSON object body without its
// metadata.managedFields (often half of an object's bytes, and many small
// maps to decode), or body itself when it has none or is not laid out as
// expected. The result is valid JSON if body is.
func withoutManagedFields(body []byte) []byte {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return body
	}
	md, ok := memberValue(body, i, `"metadata"`)
	if !ok || md >= len(body) || body[md] != '{' {
		return body
	}
	// The members of metadata: cut "managedFields" and one comma.
	i = md + 1
	prevEnd := -1 // end of the previous member's value
	for {
		i = skipSpace(body, i)
		if i >= len(body) || body[i] != '"' {
			return body
		}
		start := i
		keyEnd := skipString(body, i)
		if keyEnd < 0 {
			return body
		}
		i = skipSpace(body, keyEnd)
		if i >= len(body) || body[i] != ':' {
			return body
		}
		valEnd := skipValue(body, skipSpace(body, i+1))
		if valEnd < 0 {
			return body
		}
		next := skipSpace(body, valEnd)
		if string(body[start:keyEnd]) == `"managedFields"` {
			out := make([]byte, 0, len(body)-(valEnd-start))
			switch {
			case prevEnd >= 0: // cut from the comma after the previous member
				out = append(append(out, body[:prevEnd]...), body[valEnd:]...)
			case next < len(body) && body[next] == ',': // first member: cut through the comma after it
				out = append(append(out, body[:start]...), body[next+1:]...)
			default: // the only member
				out = append(append(out, body[:start]...), body[valEnd:]...)
			}
			return out
		}
		if next >= len(body) || body[next] != ',' {
			return body
		}
		prevEnd = valEnd
		i = next + 1
	}
}

// memberValue returns where the value of the member named key (a JSON
// string as written) of the object at body[obj] starts.
func memberValue(body []byte, obj int, key string) (int, bool) {
	i := obj + 1
	for {
		i = skipSpace(body, i)
		if i >= len(body) || body[i] != '"' {
			return 0, false
		}
		keyEnd := skipString(body, i)
		if keyEnd < 0 {
			return 0, false
		}
		name := string(body[i:keyEnd])
		i = skipSpace(body, keyEnd)
		if i >= len(body) || body[i] != ':' {
			return 0, false
		}
		v := skipSpace(body, i+1)
		if name == key {
			return v, true
		}
		end := skipValue(body, v)
		if end < 0 {
			return 0, false
		}
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ',' {
			return 0, false
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"'),
// or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], or -1. It
// only matches brackets and strings: the decoder validates the rest.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end := skipString(b, i)
				if end < 0 {
					return -1
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default:
		for ; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return i
	}
}
