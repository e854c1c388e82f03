package drift

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// pageCounter is the real cluster client, counting the live objects of the
// desired set that LISTs and GETs have returned and that are not yet
// compared (Progress counts the compared ones). held is sampled as each
// response arrives; peak is its largest value.
type pageCounter struct {
	*cluster.Client
	declared map[string]bool

	mu               sync.Mutex
	read, done, peak int
	responses        int
}

func (c *pageCounter) arrived(names ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.responses++
	for _, n := range names {
		if c.declared[n] {
			c.read++
		}
	}
	c.peak = max(c.peak, c.read-c.done)
}

func (c *pageCounter) List(ctx context.Context, m *apimeta.RESTMapping, ns, sel string) ([]unstructured.Unstructured, error) {
	items, err := c.Client.List(ctx, m, ns, sel)
	c.arrived(names(items)...)
	return items, err
}

func (c *pageCounter) ListPage(ctx context.Context, m *apimeta.RESTMapping, ns, sel string, p cluster.Page) ([]unstructured.Unstructured, string, error) {
	items, cont, err := c.Client.ListPage(ctx, m, ns, sel, p)
	c.arrived(names(items)...)
	return items, cont, err
}

func (c *pageCounter) Get(ctx context.Context, m *apimeta.RESTMapping, ns, name string) (*unstructured.Unstructured, error) {
	o, err := c.Client.Get(ctx, m, ns, name)
	if err == nil {
		c.arrived(name)
	}
	return o, err
}

func (c *pageCounter) progress(done, _ int) {
	c.mu.Lock()
	c.done = done
	c.mu.Unlock()
}

func names(items []unstructured.Unstructured) []string {
	out := make([]string, len(items))
	for i := range items {
		out[i] = items[i].GetName()
	}
	return out
}

// TestStreamHoldsOnePageOfLiveObjects pins the memory shape of a large
// comparison on the real API server (issue 17.2): with MaxLive 40 (pages
// of 10), no LIST page arrives while more than 40 of the desired set's live
// objects are read and not yet compared, in every mode, so memory does not
// grow with the number of objects. The report is the one the default
// settings give (one page of 250 here), byte for byte, and
// extraneous detection works across pages: an object of the first page is
// extraneous by an Argo CD application learnt only from the last page.
func TestStreamHoldsOnePageOfLiveObjects(t *testing.T) {
	cp := controlplane.ForTest(t)
	const ns, n, maxLive = "stream-pages", 240, 40
	kubectl(t, cp, "", "create", "namespace", ns)
	labels := "{" + fluxLabels("apps") + "}"
	var git, live strings.Builder
	declared := map[string]bool{}
	for i := range n {
		name := fmt.Sprintf("cm-%03d", i)
		declared[name] = true
		fmt.Fprintf(&git, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s, labels: %s}\ndata: {i: %q}\n", name, ns, labels, fmt.Sprint(i))
	}
	// The last page's object tracked by Argo CD application "shop".
	argo := func(name string) string {
		return fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s, annotations: {argocd.argoproj.io/tracking-id: \"shop:/ConfigMap:%s/%s\"}}\ndata: {k: v}\n", name, ns, ns, name)
	}
	git.WriteString(argo("zz-argo"))
	declared["zz-argo"] = true
	live.WriteString(git.String())
	// Not in Git: extraneous on the first page (Argo CD, learnt from the
	// last) and in the middle (Flux); untracked, not extraneous.
	live.WriteString(argo("aa-orphan"))
	fmt.Fprintf(&live, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-100-orphan, namespace: %s, labels: %s}\n", ns, labels)
	fmt.Fprintf(&live, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-200-untracked, namespace: %s}\n", ns)
	kubectl(t, cp, live.String(), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	// Drift on three pages: a value changed, a label added.
	kubectl(t, cp, "", "patch", "-n", ns, "configmap", "cm-005", "--type=merge", "-p", `{"data":{"i":"changed"}}`)
	kubectl(t, cp, "", "patch", "-n", ns, "configmap", "cm-130", "--type=merge", "-p", `{"data":{"i":"changed"}}`)
	kubectl(t, cp, "", "label", "-n", ns, "configmap", "cm-239", "hotfix=yes")

	dir := writeFiles(t, map[string]string{"cms.yaml": git.String()})
	objs, _, err := desired.ReadFiles(t.Context(), manifest.Options{Filenames: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	wantDrift := []string{"ConfigMap/aa-orphan extraneous", "ConfigMap/cm-005 modified", "ConfigMap/cm-100-orphan extraneous", "ConfigMap/cm-130 modified", "ConfigMap/cm-239 modified"}
	for _, mode := range []compare.Mode{compare.ModeLocal, compare.ModeHybrid, compare.ModeServer} {
		t.Run(string(mode), func(t *testing.T) {
			run := func(opts compare.Options) ([]byte, *pageCounter) {
				t.Helper()
				client, err := cluster.New(cp.RESTConfig())
				if err != nil {
					t.Fatal(err)
				}
				c := &pageCounter{Client: client, declared: declared}
				opts.Mode, opts.Concurrency, opts.Progress = mode, 8, c.progress
				rep, err := (&compare.Engine{Reader: c, Applier: c}).Run(t.Context(), objs, opts)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, o := range rep.Objects {
					if o.Status != compare.StatusUnchanged {
						got = append(got, o.Kind+"/"+o.Name+" "+string(o.Status))
					}
				}
				if diff := cmp.Diff(wantDrift, got); diff != "" {
					t.Errorf("drifted objects (-want +got):\n%s", diff)
				}
				out, err := json.MarshalIndent(toJSON(rep), "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				return out, c
			}
			paged, c := run(compare.Options{MaxLive: maxLive})
			if c.peak > maxLive {
				t.Errorf("%d live objects held when a response arrived, want at most MaxLive (%d)", c.peak, maxLive)
			}
			if want := n / (maxLive / 4); c.responses < want {
				t.Errorf("%d responses, want at least %d pages", c.responses, want)
			}
			whole, _ := run(compare.Options{})
			if diff := cmp.Diff(string(whole), string(paged)); diff != "" {
				t.Errorf("report with MaxLive %d differs from the default's (-default +paged):\n%s", maxLive, diff)
			}
		})
	}
}

// parseCounter counts the desired objects parsed (loaded) and not yet
// compared (Progress counts the compared ones); peak is the largest count
// seen when an object is parsed.
type parseCounter struct {
	mu                sync.Mutex
	loads, done, peak int
}

func (c *parseCounter) wrap(d compare.Desired) compare.Desired {
	w := compare.Lazy(d.Head(), d.Source, func() (*unstructured.Unstructured, error) {
		c.mu.Lock()
		c.loads++
		c.peak = max(c.peak, c.loads-c.done)
		c.mu.Unlock()
		return d.Load()
	})
	w.IfNotPresent = d.IfNotPresent
	return w
}

func (c *parseCounter) progress(done, _ int) {
	c.mu.Lock()
	c.done = done
	c.mu.Unlock()
}

// TestStreamParsesDesiredObjectsWhenCompared pins the other half of the
// memory shape (issue 17.2) on the real API server: drift's reader gives
// every desired object packed (compare.Pack: never all parsed at once), and
// the engine parses each only when it compares it and drops it after, so
// that, in every mode, no more desired objects are parsed at a time than
// comparisons run (--concurrency, 4 here), fewer than one kind and
// namespace's group (60), whatever the number of objects. Each is parsed
// once, and the report is the one the same objects given parsed give, byte
// for byte (namespaces set by -n and dropped from a cluster-scoped object,
// drift, missing objects, a label selector).
func TestStreamParsesDesiredObjectsWhenCompared(t *testing.T) {
	cp := controlplane.ForTest(t)
	const perGroup, concurrency = 60, 4
	namespaces := []string{"lazy-a", "lazy-b", "lazy-c"}
	var git, live strings.Builder
	for _, ns := range namespaces {
		kubectl(t, cp, "", "create", "namespace", ns)
		for i := range perGroup {
			doc := fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%03d, namespace: %s, labels: {tier: t%d}}\ndata: {i: %q, n: \"1\"}\n", i, ns, i%2, fmt.Sprint(i))
			git.WriteString(doc)
			if i != 7 { // missing
				live.WriteString(doc)
			}
		}
	}
	// No namespace: -n lazy-a's; a cluster-scoped object declaring one.
	git.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: no-ns, labels: {tier: t0}}\ndata: {k: v}\n")
	live.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: no-ns, namespace: lazy-a, labels: {tier: t0}}\ndata: {k: live}\n")
	clusterRole := "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: lazy-reader, namespace: lazy-b, labels: {tier: t0}}\nrules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]\n"
	git.WriteString(clusterRole)
	live.WriteString(strings.Replace(clusterRole, "namespace: lazy-b, ", "", 1))
	kubectl(t, cp, live.String(), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	kubectl(t, cp, "", "patch", "-n", "lazy-b", "configmap", "cm-030", "--type=merge", "-p", `{"data":{"i":"changed"}}`)

	dir := writeFiles(t, map[string]string{"cms.yaml": git.String()})
	objs, _, err := desired.ReadFiles(t.Context(), manifest.Options{Filenames: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	total := len(namespaces)*perGroup + 2
	if len(objs) != total {
		t.Fatalf("%d desired objects, want %d", len(objs), total)
	}
	var parsed []compare.Desired
	for _, d := range objs {
		if d.Object != nil {
			t.Fatalf("ReadFiles gave %s parsed, want it packed", d.Source)
		}
		parsed = append(parsed, compare.Desired{Object: desiredObject(t, d), Source: d.Source})
	}
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []compare.Mode{compare.ModeLocal, compare.ModeHybrid, compare.ModeServer} {
		for _, sel := range []string{"", "tier=t0"} {
			t.Run(string(mode)+"/"+sel, func(t *testing.T) {
				opts := compare.Options{Mode: mode, Concurrency: concurrency, Namespace: "lazy-a"}
				if sel != "" {
					s, err := labels.Parse(sel)
					if err != nil {
						t.Fatal(err)
					}
					opts.Selector = s
				}
				run := func(desired []compare.Desired, progress func(done, total int)) string {
					t.Helper()
					opts.Progress = progress
					rep, err := (&compare.Engine{Reader: client, Applier: client}).Run(t.Context(), desired, opts)
					if err != nil {
						t.Fatal(err)
					}
					var drifted int
					for _, o := range rep.Objects {
						if o.Status != compare.StatusUnchanged {
							drifted++
						}
					}
					if drifted == 0 {
						t.Error("no drift found")
					}
					out, err := json.MarshalIndent(toJSON(rep), "", "  ")
					if err != nil {
						t.Fatal(err)
					}
					return string(out)
				}
				c := &parseCounter{}
				wrapped := make([]compare.Desired, len(objs))
				for i, d := range objs {
					wrapped[i] = c.wrap(d)
				}
				lazy := run(wrapped, c.progress)
				// Matching a selector reads each object once more, before any
				// comparison, and drops it at once: the count cannot tell.
				if sel == "" && c.peak > concurrency {
					t.Errorf("%d desired objects parsed and not yet compared at once, want at most --concurrency (%d)", c.peak, concurrency)
				}
				compared := c.done
				if sel != "" {
					compared += total // each read once more to match the selector
				}
				if c.loads != compared {
					t.Errorf("%d desired objects parsed, want %d (each once when compared)", c.loads, compared)
				}
				if diff := cmp.Diff(run(parsed, nil), lazy); diff != "" {
					t.Errorf("report of the packed objects differs from the parsed ones' (-parsed +packed):\n%s", diff)
				}
			})
		}
	}
}

// desiredObject reads d's object (a new one when d is packed).
func desiredObject(t *testing.T, d compare.Desired) *unstructured.Unstructured {
	t.Helper()
	o, err := d.Load()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// packedToken stands for a packed desired object's bytes: a finalizer
// counts it freed.
type packedToken struct{ _ [256]byte }

// TestStreamFreesPackedObjectsWhenCompared pins the third part of the
// memory shape (issue 17.2) on the real API server: once the engine has
// compared a desired object it holds no reference to its packed form, so a
// caller that keeps no desired set of its own (drift without --fix or
// watch) has it freed as the comparison goes, not at the end. Each packed
// object here also holds a token whose finalizer counts it freed; by the
// last Progress call (every object compared, the report not yet returned)
// the tokens of nearly all of them must be freed, in every mode. Before,
// the items held every packed object until Run returned: none was.
func TestStreamFreesPackedObjectsWhenCompared(t *testing.T) {
	cp := controlplane.ForTest(t)
	const ns, n = "stream-free", 120
	kubectl(t, cp, "", "create", "namespace", ns)
	var git strings.Builder
	for i := range n {
		fmt.Fprintf(&git, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%03d, namespace: %s}\ndata: {i: %q}\n", i, ns, fmt.Sprint(i))
	}
	kubectl(t, cp, git.String(), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	kubectl(t, cp, "", "patch", "-n", ns, "configmap", "cm-042", "--type=merge", "-p", `{"data":{"i":"changed"}}`)
	dir := writeFiles(t, map[string]string{"cms.yaml": git.String()})
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []compare.Mode{compare.ModeLocal, compare.ModeHybrid, compare.ModeServer} {
		t.Run(string(mode), func(t *testing.T) {
			var freed atomic.Int64
			// tokened reads the desired set and gives each object a token,
			// referenced only from the object's packed form: nothing of the
			// test holds the set once it is handed to Run.
			tokened := func() []compare.Desired {
				objs, _, err := desired.ReadFiles(t.Context(), manifest.Options{Filenames: []string{dir}})
				if err != nil {
					t.Fatal(err)
				}
				out := make([]compare.Desired, len(objs))
				for i, d := range objs {
					tok := &packedToken{}
					runtime.SetFinalizer(tok, func(*packedToken) { freed.Add(1) })
					out[i] = compare.Lazy(d.Head(), d.Source, func() (*unstructured.Unstructured, error) {
						runtime.KeepAlive(tok)
						return d.Load()
					})
				}
				return out
			}
			var atEnd int64 = -1
			opts := compare.Options{Mode: mode, Concurrency: 4, Progress: func(done, total int) {
				if done < total {
					return
				}
				// Finalizers run after a collection, on their own
				// goroutine: collect until they have, a bounded number
				// of times.
				for range 50 {
					runtime.GC()
					if freed.Load() >= n {
						break
					}
					time.Sleep(time.Millisecond)
				}
				atEnd = freed.Load()
			}}
			rep, err := (&compare.Engine{Reader: client, Applier: client}).Run(t.Context(), tokened(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Counts(); got[compare.StatusModified] != 1 || got[compare.StatusUnchanged] != n-1 {
				t.Fatalf("counts %v, want 1 modified and %d unchanged", got, n-1)
			}
			if atEnd < n*9/10 {
				t.Errorf("%d of %d packed desired objects freed when the last was compared, want nearly all: the engine holds them to the end", atEnd, n)
			}
		})
	}
}
