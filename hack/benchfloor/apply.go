package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// protobufType is the API server's protobuf media type (built-in kinds only).
const protobufType = "application/vnd.kubernetes.protobuf"

// apiClient is a bare HTTP client with client-go's TLS and credentials, and
// no rate limiter: each call is one request, whose body is read and
// discarded.
type apiClient struct {
	http   *http.Client
	host   string
	accept string // the response media type
}

func newAPIClient() (*apiClient, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		return nil, fmt.Errorf("loading $KUBECONFIG: %w", err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	return &apiClient{http: hc, host: strings.TrimSuffix(cfg.Host, "/"), accept: "application/json"}, nil
}

// do sends one request and returns the status code and the number of bytes
// of the response body (kept in into when not nil).
func (c *apiClient) do(ctx context.Context, method, path string, body []byte, contentType string, into *bytes.Buffer) (int, int64, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.host+path, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Accept", c.accept)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	w := io.Discard
	if into != nil {
		w = into
	}
	n, err := io.Copy(w, resp.Body)
	return resp.StatusCode, n, err
}

// object is one manifest, ready to send: its apply URL path and JSON body.
type object struct {
	path string
	body []byte
	id   string
}

// resourcePaths maps apiVersion/kind to the URL prefix and resource of the
// kinds the benchmark uses (no discovery: minimal work).
var resourcePaths = map[string][2]string{
	"v1/Namespace":       {"/api/v1", "namespaces"},
	"v1/ConfigMap":       {"/api/v1", "configmaps"},
	"v1/Service":         {"/api/v1", "services"},
	"apps/v1/Deployment": {"/apis/apps/v1", "deployments"},
	"rbac.authorization.k8s.io/v1/RoleBinding": {"/apis/rbac.authorization.k8s.io/v1", "rolebindings"},
}

// readObjects reads the YAML files named (or the *.yaml files of the
// directories named), in order.
func readObjects(paths []string) ([]object, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.yaml"))
		if err != nil {
			return nil, err
		}
		slices.Sort(matches)
		files = append(files, matches...)
	}
	var objs []object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for i, doc := range splitYAML(data) {
			o, err := toObject(doc)
			if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", f, i, err)
			}
			if o != nil {
				objs = append(objs, *o)
			}
		}
	}
	return objs, nil
}

func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	start := 0
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data) - off
		}
		line := data[off : off+end]
		if string(bytes.TrimRight(line, " \r")) == "---" {
			docs = append(docs, data[start:off])
			start = off + end + 1
		}
		off += end + 1
	}
	return append(docs, data[min(start, len(data)):])
}

func toObject(doc []byte) (*object, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, nil
	}
	body, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var m struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	rp, ok := resourcePaths[m.APIVersion+"/"+m.Kind]
	if !ok {
		return nil, fmt.Errorf("kind %s/%s is not one the benchmark knows", m.APIVersion, m.Kind)
	}
	path := rp[0]
	if m.Metadata.Namespace != "" {
		path += "/namespaces/" + url.PathEscape(m.Metadata.Namespace)
	}
	path += "/" + rp[1] + "/" + url.PathEscape(m.Metadata.Name)
	return &object{path: path, body: body, id: m.Kind + " " + m.Metadata.Namespace + "/" + m.Metadata.Name}, nil
}

type applyOpts struct {
	fieldManager string
	dryRun       bool
	concurrency  int
}

// applyAll server-side applies every object (force, as GitOps agents do)
// with opts.concurrency requests in flight. Real applies are retried a few
// times on 404 (a namespace just created), 409, 429 and 5xx.
func applyAll(ctx context.Context, c *apiClient, objs []object, opts applyOpts) error {
	q := url.Values{"fieldManager": {opts.fieldManager}, "force": {"true"}}
	if opts.dryRun {
		q.Set("dryRun", "All")
	}
	query := "?" + q.Encode()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *object)
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for range max(opts.concurrency, 1) {
		wg.Go(func() {
			for o := range work {
				err := applyOne(ctx, c, o, query, !opts.dryRun)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range objs {
		if ctx.Err() != nil {
			break
		}
		work <- &objs[i]
	}
	close(work)
	wg.Wait()
	return first
}

func applyOne(ctx context.Context, c *apiClient, o *object, query string, retry bool) error {
	for attempt := 1; ; attempt++ {
		var msg bytes.Buffer
		code, _, err := c.do(ctx, http.MethodPatch, o.path+query, o.body, "application/apply-patch+yaml", &msg)
		if err != nil {
			return fmt.Errorf("applying %s: %w", o.id, err)
		}
		if code == http.StatusOK || code == http.StatusCreated {
			return nil
		}
		transient := code == http.StatusNotFound || code == http.StatusConflict || code == http.StatusTooManyRequests || code >= 500
		if !retry || !transient || attempt == 5 {
			return fmt.Errorf("applying %s: HTTP %d: %s", o.id, code, bytes.TrimSpace(msg.Bytes()))
		}
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
	}
}

// applyCmd applies (or dry-runs) the objects of -f.
func applyCmd(args []string) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	var files stringList
	fs.Var(&files, "f", "file or directory of YAML manifests (repeatable)")
	manager := fs.String("field-manager", "kustomize-controller", "field manager")
	dryRun := fs.Bool("dry-run", false, "dry-run only (dryRun=All)")
	conc := fs.Int("concurrency", 16, "requests in flight")
	protobuf := fs.Bool("protobuf", false, "ask for protobuf responses instead of JSON")
	verbose := fs.Bool("v", false, "report counts and times on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	objs, err := readObjects(files)
	if err != nil {
		return err
	}
	parsed := time.Since(start)
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	if *protobuf {
		c.accept = protobufType
	}
	if err := applyAll(context.Background(), c, objs, applyOpts{*manager, *dryRun, *conc}); err != nil {
		return err
	}
	if *verbose {
		fmt.Fprintf(os.Stderr, "benchfloor: applied %d objects (dry-run %v, concurrency %d) in %.2fs (reading and parsing %.2fs)\n",
			len(objs), *dryRun, *conc, time.Since(start).Seconds(), parsed.Seconds())
	}
	return nil
}

// sweepCmd dry-runs the objects of -f at each concurrency, -repeat times,
// reports the median of each on stderr and prints the best concurrency.
func sweepCmd(args []string) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	var files stringList
	fs.Var(&files, "f", "file or directory of YAML manifests (repeatable)")
	manager := fs.String("field-manager", "kustomize-controller", "field manager")
	levels := fs.String("concurrency", "1,4,8,16,32,64", "comma-separated concurrencies to try")
	repeat := fs.Int("repeat", 3, "runs per concurrency")
	sample := fs.Int("sample", 2000, "dry-run only the first this many objects (0: all)")
	protobuf := fs.Bool("protobuf", false, "ask for protobuf responses instead of JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var concs []int
	for _, s := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("bad concurrency %q", s)
		}
		concs = append(concs, n)
	}
	objs, err := readObjects(files)
	if err != nil {
		return err
	}
	if *sample > 0 && len(objs) > *sample {
		objs = objs[:*sample]
	}
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	if *protobuf {
		c.accept = protobufType
	}
	ctx := context.Background()
	// One warm-up pass: connections, server caches.
	if err := applyAll(ctx, c, objs, applyOpts{*manager, true, concs[len(concs)-1]}); err != nil {
		return err
	}
	best, bestT := 0, time.Duration(0)
	for _, conc := range concs {
		var ts []time.Duration
		for range max(*repeat, 1) {
			start := time.Now()
			if err := applyAll(ctx, c, objs, applyOpts{*manager, true, conc}); err != nil {
				return err
			}
			ts = append(ts, time.Since(start))
		}
		slices.Sort(ts)
		med := ts[len(ts)/2]
		fmt.Fprintf(os.Stderr, "benchfloor: %d dry-run applies at concurrency %3d: median %.3fs (%.0f/s)\n",
			len(objs), conc, med.Seconds(), float64(len(objs))/med.Seconds())
		if best == 0 || med < bestT {
			best, bestT = conc, med
		}
	}
	fmt.Println(best)
	return nil
}

// listKinds are the resources the LIST floors read.
var listKinds = [][2]string{
	{"/api/v1", "configmaps"},
	{"/apis/apps/v1", "deployments"},
	{"/api/v1", "services"},
	{"/apis/rbac.authorization.k8s.io/v1", "rolebindings"},
}

// listCmd LISTs the four kinds as JSON and discards the bodies: across all
// namespaces, one request per kind, the four at once; or with
// -per-namespace one request per kind and namespace (the requests drift
// --mode=local makes), -concurrency at once. With -save it keeps the bodies
// (for pkg/cluster's decode benchmarks).
func listCmd(args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	perNS := fs.Bool("per-namespace", false, "one LIST per kind and namespace")
	prefix := fs.String("namespace-prefix", "bench-", "with -per-namespace: the namespaces to list in")
	conc := fs.Int("concurrency", 16, "with -per-namespace: requests in flight")
	verbose := fs.Bool("v", false, "report bytes and time on stderr")
	protobuf := fs.Bool("protobuf", false, "ask for protobuf responses instead of JSON")
	cbor := fs.Bool("cbor", false, "ask for CBOR responses instead of JSON (kube-apiserver feature gate CBORServingAndStorage)")
	save := fs.String("save", "", "keep each body in this directory (one file per request)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	ctx := context.Background()
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	var paths []string
	if !*perNS {
		for _, k := range listKinds {
			paths = append(paths, k[0]+"/"+k[1])
		}
	} else {
		var buf bytes.Buffer
		code, _, err := c.do(ctx, http.MethodGet, "/api/v1/namespaces", nil, "", &buf)
		if err != nil {
			return fmt.Errorf("listing namespaces: %w", err)
		}
		if code != http.StatusOK {
			return fmt.Errorf("listing namespaces: HTTP %d: %s", code, bytes.TrimSpace(buf.Bytes()))
		}
		var nsList struct {
			Items []struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			} `json:"items"`
		}
		if err := json.Unmarshal(buf.Bytes(), &nsList); err != nil {
			return err
		}
		for _, k := range listKinds {
			for _, ns := range nsList.Items {
				if strings.HasPrefix(ns.Metadata.Name, *prefix) {
					paths = append(paths, k[0]+"/namespaces/"+ns.Metadata.Name+"/"+k[1])
				}
			}
		}
	}
	ext := ".json"
	switch {
	case *protobuf && *cbor:
		return errors.New("-protobuf and -cbor exclude each other")
	case *protobuf:
		c.accept, ext = protobufType, ".pb"
	case *cbor:
		c.accept, ext = "application/cbor", ".cbor"
	}
	if *save != "" {
		if err := os.MkdirAll(*save, 0o755); err != nil {
			return err
		}
	}
	var (
		total int64
		mu    sync.Mutex
		errs  []error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, max(*conc, len(listKinds)))
	for _, p := range paths {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var into *bytes.Buffer
			if *save != "" {
				into = &bytes.Buffer{}
			}
			code, n, err := c.do(ctx, http.MethodGet, p, nil, "", into)
			if err == nil && code == http.StatusOK && into != nil {
				name := strings.ReplaceAll(strings.Trim(p, "/"), "/", "_") + ext
				err = os.WriteFile(filepath.Join(*save, name), into.Bytes(), 0o644)
			}
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("GET %s: HTTP %d", p, code)
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if *verbose {
		fmt.Fprintf(os.Stderr, "benchfloor: %d LIST requests, %.1f MB in %.3fs\n", len(paths), float64(total)/1e6, time.Since(start).Seconds())
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
