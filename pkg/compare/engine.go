package compare

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
)

// Desired is one object as Git declares it: Object, or an object read only
// when compared (Lazy, Pack; Object is nil then: read it with Load).
type Desired struct {
	Object *unstructured.Unstructured
	// Source is where it was read from, e.g. "apps/web.yaml:3".
	Source string
	// IfNotPresent, when set, says why only the object's presence counts:
	// the operator creates it when it is missing and never updates it
	// (helm-controller's CRD policy Create). Once it exists it is skipped
	// with this reason; missing, it is reported missing.
	IfNotPresent string

	lazy *lazy
}

// Options tune a comparison.
type Options struct {
	Mode Mode
	// FieldManager overrides the detected GitOps agent's field manager.
	FieldManager string
	// Concurrency bounds parallel requests (default 16).
	Concurrency int
	// Namespace is the namespace for namespaced objects that declare none.
	Namespace string
	// EnforceNamespace (an explicit -n) makes objects declaring another
	// namespace an error, as kubectl does.
	EnforceNamespace bool
	// Selector keeps only desired and extraneous objects whose labels match.
	Selector labels.Selector
	// PruneSelector finds extraneous objects by label, besides Argo CD
	// tracking ids and Flux labels learnt from the live objects.
	PruneSelector string
	// Tracking names the source the desired objects belong to (see
	// Tracking), for extraneous objects.
	Tracking Tracking
	// Ignore holds the ignore rules (nil: none).
	Ignore *ignore.Set
	// ShowSecrets disables masking of Secret values.
	ShowSecrets bool
	// SecretValues are clear-text values known to be secret outside any
	// Secret object (Flux post-build variables read from Secrets): masked
	// wherever they appear in the report, as Secret data are.
	SecretValues []string
	// ListThreshold: live objects of one kind and namespace are fetched with
	// one LIST when Git has at least this many of them (default 3), else with
	// GETs.
	ListThreshold int
	// Progress, when set, is called after each object is compared.
	Progress func(done, total int)
	// ListPageSize bounds each LIST response (default 500, as kubectl;
	// at most a quarter of MaxLive, so that four LISTs can be in flight),
	// when the Reader is a cluster.PageReader.
	ListPageSize int64
	// MaxLive bounds the live objects read and not yet compared (default
	// 1000): a LIST page is asked for only when a full page fits. Each
	// object is compared as its page arrives and dropped once compared, as
	// is its desired object, so memory does not grow with the number of
	// live objects.
	MaxLive int

	// exact, in hybrid mode's local pass, says of an object in which no
	// change was found why the server must still compare it (see
	// hybrid.exactReason).
	exact func(ctx context.Context, it *item, desiredN, liveN map[string]any) string
}

// Engine compares desired objects with a cluster. In local mode, when
// Reader is also a cluster.SchemaReader, desired objects are checked
// against the server's OpenAPI v3 schemas first: one the server would
// refuse to apply is an error, as in server mode.
type Engine struct {
	Reader  cluster.Reader
	Applier cluster.Applier
	// Schemas, when set, are the schemas of Reader's cluster shared with
	// other Runs (other sources, later checks), read from the server at
	// most once; nil: each Run reads the ones it needs anew.
	Schemas *Schemas
}

// item is one desired object being compared.
type item struct {
	// desired is dropped once compared; name and namespace stay (the
	// namespace prepare resolved). A lazy one is read (load) when it is
	// compared; setNamespace says prepare set its namespace.
	desired         *unstructured.Unstructured
	lazy            *lazy
	setNamespace    bool
	gvk             schema.GroupVersionKind
	name, namespace string
	source          string
	mapping         *meta.RESTMapping
	report          *ObjectReport

	// Set by the local pass of hybrid mode: whether changes were found
	// (before ignore rules), and if none, Options.exact's answer.
	ignoredChanges bool
	exactReason    string

	// ifNotPresent is Desired.IfNotPresent.
	ifNotPresent string
}

// groupKey identifies a kind (group and resource, whatever the version: one
// object can be read in any served version) in a namespace.
type groupKey struct {
	resource  schema.GroupResource
	namespace string
}

// Run compares desired with the cluster. It returns an error only when the
// comparison as a whole cannot be done (cluster unreachable, context
// cancelled); per-object problems are reported as StatusError.
func (e *Engine) Run(ctx context.Context, desired []Desired, opts Options) (*Report, error) {
	if opts.Mode == "" {
		opts.Mode = ModeServer
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.ListThreshold <= 0 {
		opts.ListThreshold = 3
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.ListPageSize <= 0 {
		opts.ListPageSize = 500
	}
	if opts.MaxLive <= 0 {
		opts.MaxLive = 1000
	}
	rep := &Report{Mode: opts.Mode}
	items, reports, err := e.prepare(ctx, desired, opts, rep)
	if err != nil {
		return nil, err
	}
	track, err := newTracker(opts.PruneSelector)
	if err != nil {
		return nil, err
	}
	track.learn(opts.Tracking)
	sweeper := newSecrets(opts.ShowSecrets)
	sweeper.addText(opts.SecretValues)
	var schemas *validator
	var hy *hybrid
	switch opts.Mode {
	case ModeLocal:
		schemas = newValidator(e.Reader, e.Schemas)
	case ModeHybrid:
		if hy, err = e.newHybrid(ctx); err != nil {
			return nil, err
		}
		schemas = hy.schemas
	}
	// Hybrid mode compares locally first; serverOpts compare the objects
	// the local pass cannot decide.
	firstOpts, serverOpts := opts, opts
	if hy != nil {
		firstOpts.Mode, firstOpts.exact = ModeLocal, hy.exactReason
		serverOpts.Mode = ModeServer
	}
	var done int
	var mu sync.Mutex
	// compare is called once per item, with its live object (nil when
	// missing or unread), as the live objects arrive; the live object is
	// dropped when it returns.
	compare := func(ctx context.Context, i int, live *unstructured.Unstructured) {
		it := items[i]
		if it.report.Status != StatusError {
			if err := it.load(); err != nil {
				it.report.Status, it.report.Reason = StatusError, err.Error()
			}
		}
		if it.report.Status != StatusError {
			e.compareOne(ctx, it, live, firstOpts, sweeper, schemas)
			if hy != nil {
				if reason := hy.serverReason(ctx, it, live); reason != "" {
					// The server compares it, at once: its dry-run
					// overlaps the local comparison of others.
					hy.count(reason)
					r := it.report
					*r = ObjectReport{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Source: r.Source}
					e.compareOne(ctx, it, live, serverOpts, sweeper, nil)
				}
			}
		}
		// Keep only what the report needs: large comparisons must not
		// hold every live object and its copies, nor every desired
		// object, to the end. Nor its packed form (Pack): once prepare
		// has run, the items hold the only reference to it that the
		// engine keeps, so a caller that keeps no desired set of its own
		// (drift without --fix or watch) frees it as it is compared.
		it.desired, it.lazy = nil, nil
		if it.report.Status == StatusUnchanged {
			it.report.Live, it.report.After = nil, nil
		}
		if opts.Progress != nil {
			mu.Lock()
			done++
			opts.Progress(done, len(items))
			mu.Unlock()
		}
	}
	undeclared, err := e.stream(ctx, items, track, opts, rep, compare)
	if err != nil {
		return nil, err
	}
	if hy != nil {
		for _, n := range hy.counts {
			rep.ServerCompared += n
		}
		rep.ServerReasons = hy.counts
	}
	// The items' reports are the report's objects: not copied.
	rep.Objects = reports
	extraneous, err := e.extraneous(ctx, items, track, undeclared, opts, rep, sweeper)
	if err != nil {
		return nil, err
	}
	rep.Objects = append(rep.Objects, extraneous...)
	fromInventory, err := e.inventoryExtraneous(ctx, items, extraneous, opts, rep, sweeper)
	if err != nil {
		return nil, err
	}
	rep.Objects = append(rep.Objects, fromInventory...)
	if opts.Mode == ModeLocal {
		rep.Warnings = append(rep.Warnings, schemas.warnings()...)
	}
	sweeper.finish(rep)
	sort.Strings(rep.Warnings)
	sort.SliceStable(rep.Objects, func(i, j int) bool { return less(&rep.Objects[i], &rep.Objects[j]) })
	return rep, nil
}

func less(a, b *ObjectReport) bool {
	ga, gb := groupOf(a.APIVersion), groupOf(b.APIVersion)
	if ga != gb {
		return ga < gb
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

func groupOf(apiVersion string) string {
	if g, _, ok := strings.Cut(apiVersion, "/"); ok {
		return g
	}
	return ""
}

// prepare resolves kinds and namespaces and filters by selector. It reads
// a lazy desired object only to match a selector; each is read again when
// compared (see item.load). The reports it returns are the items', in the
// same order: one array, which the report keeps as its objects, so that a
// large comparison holds each object's report once, not also a copy.
func (e *Engine) prepare(ctx context.Context, desired []Desired, opts Options, rep *Report) ([]*item, []ObjectReport, error) {
	var items []*item
	// Never grown past its capacity here: the items point into it. Run
	// appends the extraneous objects and sorts once every item is
	// compared; the items' report pointers are dead from then on.
	reports := make([]ObjectReport, 0, len(desired))
	seen := map[string]string{}
	for _, d := range desired {
		h := d.Head()
		reports = append(reports, ObjectReport{APIVersion: h.APIVersion, Kind: h.Kind, Namespace: h.Namespace, Name: h.Name, Source: d.Source})
		r := &reports[len(reports)-1]
		// The caller's object, copied only where its namespace is set.
		obj := d.Object
		if opts.Selector != nil {
			o, err := d.Load()
			if err != nil {
				items = append(items, &item{source: d.Source, report: r, gvk: gvkOf(h), name: h.Name, namespace: h.Namespace})
				r.Status, r.Reason = StatusError, err.Error()
				continue
			}
			if !opts.Selector.Matches(labels.Set(o.GetLabels())) {
				reports = reports[:len(reports)-1]
				continue
			}
		}
		it := &item{desired: obj, lazy: d.lazy, source: d.Source, report: r, ifNotPresent: d.IfNotPresent, gvk: gvkOf(h), name: h.Name, namespace: h.Namespace}
		items = append(items, it)
		m, err := e.Reader.Mapping(ctx, it.gvk)
		if err != nil {
			if errors.Is(err, cluster.ErrKindNotServed) {
				r.Status, r.Reason = StatusError, err.Error()
				if !cluster.VersionNotServed(err) {
					r.Reason += " (is its CRD installed?)"
				}
				continue
			}
			return nil, nil, err
		}
		it.mapping = m
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			switch ns := h.Namespace; {
			case ns == "":
				it.namespace, it.setNamespace = opts.Namespace, true
			case opts.EnforceNamespace && ns != opts.Namespace:
				r.Status = StatusError
				r.Reason = fmt.Sprintf("the namespace from the provided object %q does not match the namespace %q; you must pass '--namespace=%s' to perform this operation", ns, opts.Namespace, ns)
				continue
			}
		} else if h.Namespace != "" {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: %s %s is cluster-scoped; its namespace %q is ignored", d.Source, h.Kind, h.Name, h.Namespace))
			it.namespace, it.setNamespace = "", true
		}
		if it.setNamespace && obj != nil {
			obj = withOwnMetadata(obj)
			obj.SetNamespace(it.namespace)
			it.desired = obj
		}
		r.Namespace = it.namespace
		if h.Name == "" {
			r.Status = StatusError
			r.Reason = "metadata.generateName objects get a new name on every apply and cannot be compared; give the object a metadata.name"
			continue
		}
		key := m.Resource.GroupResource().String() + "|" + it.namespace + "|" + h.Name
		if prev, dup := seen[key]; dup {
			r.Status = StatusError
			r.Reason = "declared twice in Git (also at " + prev + ")"
			continue
		}
		seen[key] = d.Source
	}
	return items, reports, nil
}

// gvkOf is the kind h names, as Unstructured.GroupVersionKind reads it.
func gvkOf(h Head) schema.GroupVersionKind {
	gv, err := schema.ParseGroupVersion(h.APIVersion)
	if err != nil {
		return schema.GroupVersionKind{}
	}
	return gv.WithKind(h.Kind)
}

// load reads a lazy desired object into it.desired, with the namespace
// prepare resolved; the caller drops it once compared.
func (it *item) load() error {
	if it.desired != nil || it.lazy == nil {
		return nil
	}
	obj, err := it.lazy.load()
	if err != nil {
		return fmt.Errorf("reading the desired object: %w", err)
	}
	if it.setNamespace {
		obj.SetNamespace(it.namespace)
	}
	it.desired = obj
	return nil
}

// withOwnMetadata returns a copy of u that shares all but its top level and
// metadata with u: prepare only sets the namespace, and nothing of the
// engine writes into a desired object, so a deep copy (a quarter of the heap
// at 20,000 objects) is not needed to leave the caller's objects untouched;
// nor is any copy of an object whose namespace stays as declared.
func withOwnMetadata(u *unstructured.Unstructured) *unstructured.Unstructured {
	out := maps.Clone(u.Object)
	if md, ok := out["metadata"].(map[string]any); ok {
		out["metadata"] = maps.Clone(md)
	}
	return &unstructured.Unstructured{Object: out}
}

func nsLabel(ns string) string {
	if ns == "" {
		return "the cluster scope"
	}
	return "namespace " + ns
}

// isFatal reports errors that make the whole comparison pointless: the
// server cannot be reached or the credentials are rejected.
func isFatal(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if apierrors.IsUnauthorized(err) {
		return true
	}
	var status apierrors.APIStatus
	return !errors.As(err, &status)
}
