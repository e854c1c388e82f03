package health

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
)

// TargetKind says what kind of object shows an application live.
type TargetKind string

// The kinds of target.
const (
	// Workload is a Deployment, StatefulSet or DaemonSet (Target.WorkloadKind).
	Workload TargetKind = "Workload"
	// ArgoCDApplication is an argoproj.io Application.
	ArgoCDApplication TargetKind = "ArgoCDApplication"
	// FluxKustomization is a kustomize.toolkit.fluxcd.io Kustomization.
	FluxKustomization TargetKind = "FluxKustomization"
	// FluxHelmRelease is a helm.toolkit.fluxcd.io HelmRelease.
	FluxHelmRelease TargetKind = "FluxHelmRelease"
)

// Workload kinds.
const (
	Deployment  = "Deployment"
	StatefulSet = "StatefulSet"
	DaemonSet   = "DaemonSet"
)

// Target names the live object to look at.
type Target struct {
	Kind TargetKind
	// WorkloadKind is Deployment, StatefulSet or DaemonSet (Workload only).
	WorkloadKind string
	Namespace    string
	Name         string
	// Container names the container whose image is compared (Workload only);
	// empty: any container (or init container) may match.
	Container string
}

// Expect is what must be live. Empty fields are not checked: a target with
// nothing expected is judged on its health alone.
type Expect struct {
	// Version is the image tag or digest ("sha256:<hex>") that must run
	// (Workload), or the chart version (FluxHelmRelease with ChartVersion).
	Version string
	// Image is the image repository the container must run (Workload),
	// compared after normalising Docker Hub names ("nginx" is
	// "docker.io/library/nginx").
	Image string
	// Revision is the Git commit that must be applied (Argo CD, Flux).
	Revision string
	// Contains reports whether the applied commit contains the wanted one
	// (e.g. `git merge-base --is-ancestor want applied`). Nil: the commits
	// must be equal (an abbreviated SHA of at least 7 digits matches its
	// full form). It is called only when the applied revision looks like a
	// commit and differs from the wanted one.
	Contains func(ctx context.Context, applied, want string) (bool, error)
	// ChartVersion compares Version with the HelmRelease's applied chart
	// version instead of checking Revision.
	ChartVersion bool
	// Artifact says Version is an OCI artifact's tag or digest
	// ("sha256:<hex>"), promoted through a Flux OCIRepository's spec.ref:
	// a Flux Kustomization reading that artifact is deployed when its
	// applied revision ("<tag>@sha256:<hex>", or "sha256:<hex>") has that
	// tag or digest.
	Artifact bool
}

// Result is what the cluster shows.
type Result struct {
	// Deployed: the expected version (or revision) is what the target
	// applied or runs.
	Deployed bool
	// Healthy: Deployed, and the target is rolled out, ready and in sync.
	Healthy bool
	// LiveVersion is the image tag or digest, chart version or applied Git
	// revision seen ("" when there is none).
	LiveVersion string
	// Since is when the target became healthy, as best the cluster tells
	// (zero when unknown or not healthy).
	Since time.Time
	// Reason says in one line why it is not deployed or healthy, or sums up
	// why it is, e.g. "Deployment web-dev/web: 1/3 replicas updated".
	Reason string
	// Object names the target, e.g. "Deployment web-dev/web".
	Object string
}

// Soaked reports whether the result is healthy and has been for at least d
// at now. An unknown Since never satisfies a positive d.
func (r Result) Soaked(d time.Duration, now time.Time) bool {
	if !r.Healthy {
		return false
	}
	if d <= 0 {
		return true
	}
	if r.Since.IsZero() {
		return false
	}
	return !now.Before(r.Since.Add(d))
}

// Evaluate reads the target from the cluster and judges it against e at
// now. A missing object is a Result with Deployed false, not an error; a
// kind the cluster does not serve (its CRD is not installed) is an error
// wrapping cluster.ErrKindNotServed.
func Evaluate(ctx context.Context, r cluster.Reader, t Target, e Expect, now time.Time) (Result, error) {
	kinds, hint, err := t.kinds()
	if err != nil {
		return Result{}, fmt.Errorf("checking health: %w", err)
	}
	res := Result{Object: kinds[0].Kind + " " + t.Namespace + "/" + t.Name}
	if t.Namespace == "" || t.Name == "" {
		return res, fmt.Errorf("checking health of %s: namespace and name are required", res.Object)
	}
	m, err := mapping(ctx, r, kinds)
	if errors.Is(err, cluster.ErrKindNotServed) {
		return res, fmt.Errorf("checking health of %s: %w (%s)", res.Object, err, hint)
	}
	if err != nil {
		return res, fmt.Errorf("checking health of %s: %w", res.Object, err)
	}
	obj, err := r.Get(ctx, m, t.Namespace, t.Name)
	if cluster.IsNotFound(err) {
		res.Reason = res.Object + " not found"
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("reading %s: %w", res.Object, err)
	}
	var v verdict
	switch t.Kind {
	case Workload:
		v = evalWorkload(obj, t, e)
	case ArgoCDApplication:
		v, err = evalArgo(ctx, obj, e)
	case FluxKustomization:
		v, err = evalKustomization(ctx, obj, e)
	case FluxHelmRelease:
		v, err = evalHelmRelease(ctx, obj, e)
	}
	if err != nil {
		return res, fmt.Errorf("checking health of %s: %w", res.Object, err)
	}
	res.Deployed, res.Healthy, res.LiveVersion = v.deployed, v.deployed && v.healthy, v.live
	res.Reason = res.Object + ": " + v.reason
	if res.Healthy {
		res.Since = v.since
		if !v.since.IsZero() && !now.Before(v.since) {
			res.Reason += ", healthy for " + now.Sub(v.since).Truncate(time.Second).String()
		}
	}
	return res, nil
}

// verdict is one evaluator's judgement.
type verdict struct {
	deployed, healthy bool
	live              string
	since             time.Time
	reason            string
}

// kinds returns the kinds to try, preferred version first, and a hint for
// when none is served.
func (t Target) kinds() ([]schema.GroupVersionKind, string, error) {
	switch t.Kind {
	case Workload:
		switch t.WorkloadKind {
		case Deployment, StatefulSet, DaemonSet:
			return []schema.GroupVersionKind{{Group: "apps", Version: "v1", Kind: t.WorkloadKind}}, "is this a Kubernetes cluster?", nil
		}
		return nil, "", fmt.Errorf("unsupported workload kind %q (want Deployment, StatefulSet or DaemonSet)", t.WorkloadKind)
	case ArgoCDApplication:
		return []schema.GroupVersionKind{{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}},
			"is Argo CD installed in this cluster? its Application CRD is missing", nil
	case FluxKustomization:
		g := "kustomize.toolkit.fluxcd.io"
		return []schema.GroupVersionKind{{Group: g, Version: "v1", Kind: "Kustomization"}, {Group: g, Version: "v1beta2", Kind: "Kustomization"}},
			"is Flux installed in this cluster? the kustomize-controller's Kustomization CRD is missing", nil
	case FluxHelmRelease:
		g := "helm.toolkit.fluxcd.io"
		return []schema.GroupVersionKind{{Group: g, Version: "v2", Kind: "HelmRelease"}, {Group: g, Version: "v2beta2", Kind: "HelmRelease"}, {Group: g, Version: "v2beta1", Kind: "HelmRelease"}},
			"is Flux installed in this cluster? the helm-controller's HelmRelease CRD is missing", nil
	}
	return nil, "", fmt.Errorf("unsupported target kind %q", t.Kind)
}

// mapping resolves the first served kind of kinds.
func mapping(ctx context.Context, r cluster.Reader, kinds []schema.GroupVersionKind) (*meta.RESTMapping, error) {
	var first error
	for _, gvk := range kinds {
		m, err := r.Mapping(ctx, gvk)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, cluster.ErrKindNotServed) {
			return nil, err
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// Field helpers on unstructured content, tolerant of how numbers decode.

func str(obj map[string]any, fields ...string) string {
	s, _, _ := unstructured.NestedString(obj, fields...)
	return s
}

func boolean(obj map[string]any, fields ...string) bool {
	b, _, _ := unstructured.NestedBool(obj, fields...)
	return b
}

// integer returns the number at fields and whether it is set.
func integer(obj map[string]any, fields ...string) (int64, bool) {
	v, ok, _ := unstructured.NestedFieldNoCopy(obj, fields...)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), true
	}
	return 0, false
}

func num(obj map[string]any, fields ...string) int64 {
	n, _ := integer(obj, fields...)
	return n
}

func timestamp(obj map[string]any, fields ...string) time.Time {
	t, err := time.Parse(time.RFC3339, str(obj, fields...))
	if err != nil {
		return time.Time{}
	}
	return t
}

// condition returns the status condition of type typ, or nil.
func condition(obj map[string]any, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(obj, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}

// statusWritten returns the latest time a manager wrote the status
// subresource: once a rollout is done its controller stops writing, so this
// is a conservative (late) estimate of when the status settled.
func statusWritten(u *unstructured.Unstructured) time.Time {
	var latest time.Time
	for _, f := range u.GetManagedFields() {
		if f.Subresource == "status" && f.Time != nil && f.Time.After(latest) {
			latest = f.Time.Time
		}
	}
	return latest
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
