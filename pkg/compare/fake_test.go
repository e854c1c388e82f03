package compare

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
)

// served are the kinds the fake API server knows: resource name and whether
// the kind is namespaced. Every version of a group is served.
var served = map[schema.GroupKind]struct {
	resource   string
	namespaced bool
}{
	{Kind: "ConfigMap"}:                 {"configmaps", true},
	{Kind: "Secret"}:                    {"secrets", true},
	{Kind: "Namespace"}:                 {"namespaces", false},
	{Group: "apps", Kind: "Deployment"}: {"deployments", true},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:     {"clusterroles", false},
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}:       {"horizontalpodautoscalers", true},
	{Group: "source.toolkit.fluxcd.io", Kind: "GitRepository"}:    {"gitrepositories", true},
	{Group: "kustomize.toolkit.fluxcd.io", Kind: "Kustomization"}: {"kustomizations", true},
	{Group: "helm.toolkit.fluxcd.io", Kind: "HelmRelease"}:        {"helmreleases", true},
}

// fakeCluster is a minimal cluster.Reader and cluster.Applier over a fixed
// set of live objects. It records every call as "get configmaps shop/web",
// "list configmaps shop" or "apply configmaps shop/web".
type fakeCluster struct {
	live []*unstructured.Unstructured
	// readErr fails GETs and LISTs of a resource ("configmaps"), or of a
	// resource in a namespace ("configmaps shop").
	readErr map[string]error
	// listErr fails only LISTs, keyed the same way.
	listErr map[string]error
	// mappingErr fails every Mapping call.
	mappingErr error
	// apply computes the dry-run result (default: desired merged into live).
	apply func(desired, live *unstructured.Unstructured) (*unstructured.Unstructured, error)

	mu        sync.Mutex
	calls     []string
	applyOpts []cluster.ApplyOptions
}

var _ interface {
	cluster.Reader
	cluster.Applier
} = (*fakeCluster)(nil)

func (f *fakeCluster) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

// count returns how many recorded calls start with prefix.
func (f *fakeCluster) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeCluster) Mapping(_ context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	if f.mappingErr != nil {
		return nil, f.mappingErr
	}
	k, ok := served[gvk.GroupKind()]
	if !ok {
		return nil, fmt.Errorf("%w: %s", cluster.ErrKindNotServed, gvk)
	}
	scope := meta.RESTScopeRoot
	if k.namespaced {
		scope = meta.RESTScopeNamespace
	}
	return &meta.RESTMapping{Resource: gvk.GroupVersion().WithResource(k.resource), GroupVersionKind: gvk, Scope: scope}, nil
}

func (f *fakeCluster) readError(m *meta.RESTMapping, namespace string, errs map[string]error) error {
	if err := errs[m.Resource.Resource+" "+namespace]; err != nil {
		return err
	}
	return errs[m.Resource.Resource]
}

// find returns the live object of m's group and kind (any version), as
// served in m's version.
func (f *fakeCluster) find(m *meta.RESTMapping, namespace, name string) *unstructured.Unstructured {
	for _, o := range f.live {
		if o.GroupVersionKind().GroupKind() == m.GroupVersionKind.GroupKind() && o.GetNamespace() == namespace && o.GetName() == name {
			c := o.DeepCopy()
			c.SetAPIVersion(m.GroupVersionKind.GroupVersion().String())
			return c
		}
	}
	return nil
}

func (f *fakeCluster) Get(_ context.Context, m *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error) {
	f.record("get " + m.Resource.Resource + " " + namespace + "/" + name)
	if err := f.readError(m, namespace, f.readErr); err != nil {
		return nil, err
	}
	if o := f.find(m, namespace, name); o != nil {
		return o, nil
	}
	return nil, apierrors.NewNotFound(m.Resource.GroupResource(), name)
}

func (f *fakeCluster) List(_ context.Context, m *meta.RESTMapping, namespace, labelSelector string) ([]unstructured.Unstructured, error) {
	f.record("list " + m.Resource.Resource + " " + namespace)
	if err := f.readError(m, namespace, f.readErr); err != nil {
		return nil, err
	}
	if err := f.readError(m, namespace, f.listErr); err != nil {
		return nil, err
	}
	sel, err := labels.Parse(labelSelector)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	var out []unstructured.Unstructured
	for _, o := range f.live {
		if o.GroupVersionKind().GroupKind() != m.GroupVersionKind.GroupKind() || (namespace != "" && o.GetNamespace() != namespace) {
			continue
		}
		if sel.Matches(labels.Set(o.GetLabels())) {
			out = append(out, *f.find(m, o.GetNamespace(), o.GetName()))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, nil
}

func (f *fakeCluster) Apply(_ context.Context, m *meta.RESTMapping, obj *unstructured.Unstructured, opts cluster.ApplyOptions) (*unstructured.Unstructured, error) {
	f.record("apply " + m.Resource.Resource + " " + obj.GetNamespace() + "/" + obj.GetName())
	f.mu.Lock()
	f.applyOpts = append(f.applyOpts, opts)
	f.mu.Unlock()
	live := f.find(m, obj.GetNamespace(), obj.GetName())
	if f.apply != nil {
		return f.apply(obj.DeepCopy(), live)
	}
	desired := obj.DeepCopy()
	if sd, ok := desired.Object["stringData"].(map[string]any); ok {
		// As the API server does on write.
		data, _ := desired.Object["data"].(map[string]any)
		if data == nil {
			data = map[string]any{}
		}
		for k, v := range sd {
			data[k] = base64.StdEncoding.EncodeToString([]byte(v.(string)))
		}
		desired.Object["data"] = data
		delete(desired.Object, "stringData")
	}
	if live == nil {
		return desired, nil
	}
	merge(live.Object, desired.Object)
	return live, nil
}

// merge sets every field of src in dst, recursing into maps (lists are
// replaced): roughly what a server-side apply keeps of other managers.
func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// Fixture builders: test/builders' and the few only these tests use.

var (
	object          = builders.Object
	configMap       = builders.ConfigMap
	withLabels      = builders.Labels
	withAnnotations = builders.Annotations
	withField       = builders.Set
)

func pairs(kv []string) map[string]string { return builders.Pairs(kv...) }

func withData(kv ...string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		d := map[string]any{}
		for k, v := range pairs(kv) {
			d[k] = v
		}
		u.Object["data"] = d
	}
}

func withStringData(kv ...string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		d := map[string]any{}
		for k, v := range pairs(kv) {
			d[k] = v
		}
		u.Object["stringData"] = d
	}
}

// created sets the creation timestamp.
func created(ts string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) { u.SetCreationTimestamp(metav1.NewTime(mustTime(ts))) }
}

func mustTime(ts string) time.Time {
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		panic(err)
	}
	return t
}

// entry is one managedFields entry, as the API server writes it; ts may be
// "" (the scale subresource writes none).
func entry(manager, operation, subresource, ts, fieldsV1 string) metav1.ManagedFieldsEntry {
	e := metav1.ManagedFieldsEntry{
		Manager: manager, Operation: metav1.ManagedFieldsOperationType(operation), Subresource: subresource,
		APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fieldsV1),
	}
	if ts != "" {
		t := metav1.NewTime(mustTime(ts))
		e.Time = &t
	}
	return e
}

func withManagedFields(entries ...metav1.ManagedFieldsEntry) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) { u.SetManagedFields(entries) }
}

// fluxLabels marks an object as applied by the Flux Kustomization ns/name.
func fluxLabels(ns, name string) func(*unstructured.Unstructured) {
	return withLabels(FluxNamespaceLabel, ns, FluxNameLabel, name)
}

// argoTracked sets a self-referencing Argo CD tracking id for app.
func argoTracked(app string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		gvk := u.GroupVersionKind()
		withAnnotations(ArgoTrackingID, app+":"+gvk.Group+"/"+gvk.Kind+":"+u.GetNamespace()+"/"+u.GetName())(u)
	}
}

// git wraps objects as desired objects from file.yaml, numbering lines,
// packed as drift's readers give them (Pack), so that every test of the
// engine reads them lazily.
func git(objs ...*unstructured.Unstructured) []Desired {
	out := make([]Desired, 0, len(objs))
	for i, o := range objs {
		out = append(out, Pack(o, fmt.Sprintf("file.yaml:%d", 1+10*i)))
	}
	return out
}

// run compares desired with the fake cluster and fails the test on error.
func run(t *testing.T, f *fakeCluster, opts Options, desired []Desired) *Report {
	t.Helper()
	rep, err := (&Engine{Reader: f, Applier: f}).Run(t.Context(), desired, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

// row is an object report reduced to what most tests check.
type row struct {
	ID     string // "ConfigMap shop/web"
	Status Status
	Reason string
}

func rows(rep *Report) []row {
	var out []row
	for _, o := range rep.Objects {
		id := o.Kind + " " + o.Name
		if o.Namespace != "" {
			id = o.Kind + " " + o.Namespace + "/" + o.Name
		}
		out = append(out, row{ID: id, Status: o.Status, Reason: o.Reason})
	}
	return out
}

func find(t *testing.T, rep *Report, kind, namespace, name string) *ObjectReport {
	t.Helper()
	for i := range rep.Objects {
		o := &rep.Objects[i]
		if o.Kind == kind && o.Namespace == namespace && o.Name == name {
			return o
		}
	}
	t.Fatalf("%s %s/%s not in the report: %+v", kind, namespace, name, rows(rep))
	return nil
}
