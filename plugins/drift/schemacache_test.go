package drift

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// openAPICounter counts the requests of one client for the OpenAPI v3
// index (/openapi/v3) and for each group-version document, by path.
type openAPICounter struct {
	next  http.RoundTripper
	mu    sync.Mutex
	index int
	docs  map[string]int
}

func (c *openAPICounter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	switch p := req.URL.Path; {
	case p == "/openapi/v3":
		c.index++
	case strings.HasPrefix(p, "/openapi/v3/"):
		c.docs[p]++
	}
	c.mu.Unlock()
	return c.next.RoundTrip(req)
}

func (c *openAPICounter) counts() (int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	docs := map[string]int{}
	for p, n := range c.docs {
		docs[p] = n
	}
	return c.index, docs
}

// countingClient connects to cp through an openAPICounter.
func countingClient(t *testing.T, cp *controlplane.ControlPlane) (*cluster.Client, *openAPICounter) {
	t.Helper()
	counter := &openAPICounter{docs: map[string]int{}}
	cfg := cp.RESTConfig()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		counter.next = rt
		return counter
	})
	client, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client, counter
}

// schemaCacheOptions returns drift options on cp in mode, completed, with
// manifests read from dir.
func schemaCacheOptions(t *testing.T, cp *controlplane.ControlPlane, mode string, dir string) *Options {
	t.Helper()
	env := cli.NewEnv("kubectl-gitops-drift", genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	*env.ConfigFlags.KubeConfig = cp.Kubeconfig
	o := NewOptions(env)
	o.Mode = mode
	o.Filenames = []string{dir}
	if err := o.Complete(t.Context(), &cobra.Command{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	return o
}

func gizmoCRD(group string, extraFields string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.` + group + `}
spec:
  group: ` + group + `
  names: {kind: Gizmo, plural: gizmos, singular: gizmo}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              port: {type: integer}
` + extraFields
}

// waitPublished waits until the server's OpenAPI index lists gv (the
// schema of an established CRD is published asynchronously) and returns
// the URL it gives.
func waitPublished(t *testing.T, cp *controlplane.ControlPlane, gv schema.GroupVersion) string {
	t.Helper()
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	var url string
	eventually(t, "OpenAPI document of "+gv.String()+" published", func() string {
		paths, err := client.OpenAPIV3Paths(t.Context())
		if err != nil {
			return err.Error()
		}
		if url = paths[gv]; url == "" {
			return "not in the index"
		}
		return ""
	})
	return url
}

// TestSchemasReadOncePerCluster: comparing several sources with one
// cluster, in local and hybrid mode (the modes that check Git against the
// server's OpenAPI schemas), reads each group-version document at most once
// per cluster connection: the sources share one compare.Schemas, and the
// objects of a run compared in parallel wait for the one read. Another
// connection (a fleet's other cluster) reads its own.
func TestSchemasReadOncePerCluster(t *testing.T) {
	cp := controlplane.ForTest(t)
	const ns, group = "schemacache-once", "once.schemacache.example.com"
	kubectl(t, cp, gizmoCRD(group, ""), "apply", "--server-side", "-f", "-")
	kubectl(t, cp, "", "wait", "--for=condition=established", "--timeout=60s", "crd/gizmos."+group)
	waitPublished(t, cp, schema.GroupVersion{Group: group, Version: "v1"})
	kubectl(t, cp, "", "create", "namespace", ns)
	const sources = 4
	var dirs []string
	for i := range sources {
		port := "80"
		if i == sources-1 {
			port = `"8080"` // the server would refuse it
		}
		dirs = append(dirs, writeFiles(t, map[string]string{"all.yaml": fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: cm-%[1]d, namespace: %[2]s}
data: {k: v}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-%[1]d, namespace: %[2]s}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: %[3]s/v1
kind: Gizmo
metadata: {name: g-%[1]d, namespace: %[2]s}
spec: {port: %[4]s}
`, i, ns, group, port)}))
	}
	docs := []string{"/openapi/v3/api/v1", "/openapi/v3/apis/apps/v1", "/openapi/v3/apis/" + group + "/v1"}
	for _, mode := range []string{"local", "hybrid"} {
		t.Run(mode, func(t *testing.T) {
			o := schemaCacheOptions(t, cp, mode, dirs[0])
			var srcs []source
			for _, dir := range dirs {
				o.Filenames = []string{dir}
				objs, err := o.loadDesired(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				srcs = append(srcs, o.filesSource(objs))
			}
			compareAll := func(client *cluster.Client) {
				t.Helper()
				reps := make([]*compare.Report, len(srcs))
				errs := make([]error, len(srcs))
				var wg sync.WaitGroup
				for i, s := range srcs {
					wg.Go(func() { reps[i], errs[i] = o.compareSource(t.Context(), client, s) })
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("source %d: %v", i, err)
					}
				}
				// The last source's Gizmo is refused (in hybrid mode,
				// by the server, to which the local pass sends it), the
				// others' are not.
				for i, rep := range reps {
					for _, obj := range rep.Objects {
						invalid := obj.Status == compare.StatusError && strings.Contains(obj.Reason, "spec.port: expected")
						if want := obj.Kind == "Gizmo" && i == sources-1; invalid != want {
							t.Errorf("source %d: %s %s: %s (%s), want invalid %v", i, obj.Kind, obj.Name, obj.Status, obj.Reason, want)
						}
					}
				}
			}
			client, counter := countingClient(t, cp)
			compareAll(client)
			compareAll(client) // a second pass: a later check of drift watch
			index, got := counter.counts()
			for _, d := range docs {
				if got[d] != 1 {
					t.Errorf("%s read %d times over %d sources and two passes, want once", d, got[d], sources)
				}
			}
			for d, n := range got {
				if n > 1 {
					t.Errorf("%s read %d times, want at most once", d, n)
				}
			}
			// The index is read once per comparison, to see whether a
			// document changed.
			if index > 2*sources {
				t.Errorf("index read %d times for %d comparisons", index, 2*sources)
			}

			other, otherCounter := countingClient(t, cp)
			if o.schemas.of(other) == o.schemas.of(client) {
				t.Error("two cluster connections share their schemas")
			}
			compareAll(other)
			if _, got := otherCounter.counts(); got[docs[2]] != 1 {
				t.Errorf("the other connection read %s %d times, want once (its own read)", docs[2], got[docs[2]])
			}
		})
	}
}

// TestWatchFollowsCRDUpdate: drift watch keeps the schemas across checks
// (a document is read again only when the index gives it a new hash); a
// CRD updated between two checks is validated against its new schema at
// the second, while the documents that did not change are not read again.
func TestWatchFollowsCRDUpdate(t *testing.T) {
	cp := controlplane.ForTest(t)
	const ns, group = "schemacache-watch", "watch.schemacache.example.com"
	kubectl(t, cp, gizmoCRD(group, ""), "apply", "--server-side", "-f", "-")
	kubectl(t, cp, "", "wait", "--for=condition=established", "--timeout=60s", "crd/gizmos."+group)
	gv := schema.GroupVersion{Group: group, Version: "v1"}
	before := waitPublished(t, cp, gv)
	kubectl(t, cp, "", "create", "namespace", ns)
	dir := writeFiles(t, map[string]string{"all.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: ` + ns + `}
data: {k: v}
---
apiVersion: ` + group + `/v1
kind: Gizmo
metadata: {name: g, namespace: ` + ns + `}
spec: {port: 80, color: red}
`})
	o := schemaCacheOptions(t, cp, "local", filepath.Clean(dir))
	w := &watchOptions{Options: o, CheckTimeout: 5 * time.Minute}
	client, counter := countingClient(t, cp)
	check := w.check(client, slog.New(slog.DiscardHandler))
	gizmo := func() compare.ObjectReport {
		t.Helper()
		res, err := check(t.Context())
		if err != nil || len(res) != 1 || res[0].Err != nil {
			t.Fatalf("check: %v %+v", err, res)
		}
		for _, obj := range res[0].Report.Objects {
			if obj.Kind == "Gizmo" {
				return obj
			}
		}
		t.Fatal("no Gizmo in the report")
		return compare.ObjectReport{}
	}
	if g := gizmo(); g.Status != compare.StatusError || !strings.Contains(g.Reason, "spec.color: field not declared in schema") {
		t.Fatalf("before the update: %s (%s), want spec.color refused", g.Status, g.Reason)
	}
	kubectl(t, cp, gizmoCRD(group, "              color: {type: string}\n"), "apply", "--server-side", "-f", "-")
	// The server publishes the new schema asynchronously: wait until its
	// index gives the document a new hash.
	eventually(t, "new OpenAPI hash", func() string {
		now, err := client.OpenAPIV3Paths(t.Context())
		if err != nil {
			return err.Error()
		}
		if now[gv] == before {
			return "still " + now[gv]
		}
		return ""
	})
	if g := gizmo(); g.Status == compare.StatusError {
		t.Errorf("after the update: %s (%s), want checked against the new schema", g.Status, g.Reason)
	}
	_, got := counter.counts()
	if d := "/openapi/v3/apis/" + group + "/v1"; got[d] != 2 {
		t.Errorf("%s read %d times, want twice (once per hash)", d, got[d])
	}
	if got["/openapi/v3/api/v1"] != 1 {
		t.Errorf("/openapi/v3/api/v1 read %d times over two checks, want once", got["/openapi/v3/api/v1"])
	}
}
