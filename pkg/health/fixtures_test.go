package health

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
)

// Fixed times: the fixtures' conditions and the evaluation time.
var (
	t0  = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	t1  = t0.Add(10 * time.Minute)
	t2  = t0.Add(20 * time.Minute)
	now = t0.Add(time.Hour)
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC = "cccccccccccccccccccccccccccccccccccccccc"
	dig  = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// fakeReader serves the kinds in served (GVK → resource) and the objects in
// live; err fails every GET.
type fakeReader struct {
	served map[schema.GroupVersionKind]string
	live   []*unstructured.Unstructured
	err    error
}

var _ cluster.Reader = (*fakeReader)(nil)

// allServed is what a cluster with Argo CD and Flux serves.
func allServed() map[schema.GroupVersionKind]string {
	return map[schema.GroupVersionKind]string{
		{Group: "apps", Version: "v1", Kind: "Deployment"}:                           "deployments",
		{Group: "apps", Version: "v1", Kind: "StatefulSet"}:                          "statefulsets",
		{Group: "apps", Version: "v1", Kind: "DaemonSet"}:                            "daemonsets",
		{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}:             "applications",
		{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}: "kustomizations",
		{Group: "helm.toolkit.fluxcd.io", Version: "v2", Kind: "HelmRelease"}:        "helmreleases",
	}
}

func (f *fakeReader) Mapping(_ context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	res, ok := f.served[gvk]
	if !ok {
		return nil, fmt.Errorf("%w: %s", cluster.ErrKindNotServed, gvk)
	}
	return &meta.RESTMapping{Resource: gvk.GroupVersion().WithResource(res), GroupVersionKind: gvk, Scope: meta.RESTScopeNamespace}, nil
}

func (f *fakeReader) Get(_ context.Context, m *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, o := range f.live {
		if o.GroupVersionKind().GroupKind() == m.GroupVersionKind.GroupKind() && o.GetNamespace() == namespace && o.GetName() == name {
			return o.DeepCopy(), nil
		}
	}
	return nil, apierrors.NewNotFound(m.Resource.GroupResource(), name)
}

func (f *fakeReader) List(context.Context, *meta.RESTMapping, string, string) ([]unstructured.Unstructured, error) {
	return nil, fmt.Errorf("unexpected LIST")
}

// Fixture builders.

type mod = builders.Mod

func object(apiVersion, kind, namespace, name string, mods ...mod) *unstructured.Unstructured {
	return builders.Object(apiVersion, kind, namespace, name, append([]mod{generation(1)}, mods...)...)
}

var (
	set   = builders.Set
	unset = builders.Unset
)

func generation(g int64) mod { return func(u *unstructured.Unstructured) { u.SetGeneration(g) } }

// cond builds a status condition; fields are "key=value" pairs.
func cond(typ, status string, fields ...string) map[string]any {
	c := map[string]any{"type": typ, "status": status}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		if k == "observedGeneration" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				panic(err)
			}
			c[k] = n
			continue
		}
		c[k] = v
	}
	return c
}

// conditions replaces status.conditions.
func conditions(cs ...map[string]any) mod {
	return func(u *unstructured.Unstructured) {
		list := make([]any, len(cs))
		for i, c := range cs {
			list[i] = c
		}
		set("status.conditions", list)(u)
	}
}

func ts(t time.Time) string { return t.Format(time.RFC3339) }

// containers replaces the pod template's containers: "name=image" pairs.
func containers(field string, pairs ...string) mod {
	return func(u *unstructured.Unstructured) {
		list := make([]any, len(pairs))
		for i, p := range pairs {
			name, image, _ := strings.Cut(p, "=")
			list[i] = map[string]any{"name": name, "image": image}
		}
		set("spec.template.spec."+field, list)(u)
	}
}

func image(img string) mod { return containers("containers", "web="+img) }

// statusWrite records a write of the status subresource at t.
func statusWrite(t time.Time) mod {
	return func(u *unstructured.Unstructured) {
		u.SetManagedFields(append(u.GetManagedFields(), metav1.ManagedFieldsEntry{
			Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate,
			Subresource: "status", Time: &metav1.Time{Time: t},
		}))
	}
}

// deployment is web-dev/web at ghcr.io/acme/web:1.4.2, rolled out with 3
// replicas, Available since t0 and its new ReplicaSet available since t1.
func deployment(mods ...mod) *unstructured.Unstructured {
	base := []mod{
		set("spec.replicas", 3), image("ghcr.io/acme/web:1.4.2"),
		set("status.observedGeneration", 1), set("status.replicas", 3), set("status.updatedReplicas", 3),
		set("status.readyReplicas", 3), set("status.availableReplicas", 3),
		conditions(
			cond("Available", "True", "reason=MinimumReplicasAvailable", "lastTransitionTime="+ts(t0), "lastUpdateTime="+ts(t0)),
			cond("Progressing", "True", "reason=NewReplicaSetAvailable", "lastTransitionTime="+ts(t0), "lastUpdateTime="+ts(t1)),
		),
	}
	return object("apps/v1", "Deployment", "web-dev", "web", append(base, mods...)...)
}

// statefulSet is web-dev/db at ghcr.io/acme/web:1.4.2, rolled out with 3
// replicas; its status last written at t2.
func statefulSet(mods ...mod) *unstructured.Unstructured {
	base := []mod{
		set("spec.replicas", 3), image("ghcr.io/acme/web:1.4.2"),
		set("spec.updateStrategy.type", "RollingUpdate"), set("spec.updateStrategy.rollingUpdate.partition", 0),
		set("status.observedGeneration", 1), set("status.replicas", 3), set("status.readyReplicas", 3),
		set("status.updatedReplicas", 3), set("status.currentReplicas", 3),
		set("status.currentRevision", "db-1"), set("status.updateRevision", "db-1"),
		statusWrite(t1), statusWrite(t2),
	}
	return object("apps/v1", "StatefulSet", "web-dev", "db", append(base, mods...)...)
}

// daemonSet is web-dev/agent at ghcr.io/acme/web:1.4.2 on 2 nodes.
func daemonSet(mods ...mod) *unstructured.Unstructured {
	base := []mod{
		image("ghcr.io/acme/web:1.4.2"), set("spec.updateStrategy.type", "RollingUpdate"),
		set("status.observedGeneration", 1), set("status.desiredNumberScheduled", 2),
		set("status.currentNumberScheduled", 2), set("status.updatedNumberScheduled", 2),
		set("status.numberReady", 2), set("status.numberAvailable", 2), statusWrite(t2),
	}
	return object("apps/v1", "DaemonSet", "web-dev", "agent", append(base, mods...)...)
}

// application is argocd/web-dev, Synced and Healthy at shaA since t1.
func application(mods ...mod) *unstructured.Unstructured {
	base := []mod{
		set("spec.project", "default"),
		set("status.sync.status", "Synced"), set("status.sync.revision", shaA),
		set("status.health.status", "Healthy"), set("status.health.lastTransitionTime", ts(t1)),
		set("status.operationState.phase", "Succeeded"), set("status.operationState.operation.sync.revision", shaA),
		set("status.operationState.startedAt", ts(t0.Add(-time.Minute))), set("status.operationState.finishedAt", ts(t0)),
		set("status.reconciledAt", ts(t2)),
	}
	return object("argoproj.io/v1alpha1", "Application", "argocd", "web-dev", append(base, mods...)...)
}

// kustomization is flux-system/web at generation 2, Ready at main@sha1:shaA
// since t1.
func kustomization(mods ...mod) *unstructured.Unstructured {
	base := []mod{
		generation(2), set("spec.interval", "5m"),
		set("status.observedGeneration", 2), set("status.lastAppliedRevision", "main@sha1:"+shaA),
		set("status.lastAttemptedRevision", "main@sha1:"+shaA),
		conditions(cond("Ready", "True", "reason=ReconciliationSucceeded", "message=Applied revision: main@sha1:"+shaA,
			"lastTransitionTime="+ts(t1), "observedGeneration=2")),
	}
	return object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "web", append(base, mods...)...)
}

// history sets a HelmRelease's latest release snapshot.
func history(chartVersion, status string) mod {
	return set("status.history", []any{map[string]any{
		"name": "web", "namespace": "web-dev", "chartName": "web", "chartVersion": chartVersion,
		"status": status, "version": int64(3), "firstDeployed": ts(t0), "lastDeployed": ts(t1),
		"configDigest": "sha256:" + strings.Repeat("1", 64), "digest": "sha256:" + strings.Repeat("2", 64),
	}})
}

// helmRelease is web-dev/web, Ready with chart 1.4.2 deployed since t1.
func helmRelease(mods ...mod) *unstructured.Unstructured {
	base := []mod{
		set("spec.interval", "5m"), set("status.observedGeneration", 1), history("1.4.2", "deployed"),
		set("status.lastAttemptedRevision", "1.4.2"),
		conditions(cond("Ready", "True", "reason=UpgradeSucceeded", "message=Helm upgrade succeeded",
			"lastTransitionTime="+ts(t1), "observedGeneration=1")),
	}
	return object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "web-dev", "web", append(base, mods...)...)
}

// ancestry is a fake `git merge-base --is-ancestor`: each commit's ancestors.
type ancestry map[string][]string

func (a ancestry) contains(_ context.Context, applied, want string) (bool, error) {
	if _, ok := a[applied]; !ok {
		return false, fmt.Errorf("unknown commit %s", applied)
	}
	for _, c := range a[applied] {
		if c == want {
			return true, nil
		}
	}
	return false, nil
}

// history of the fixtures' repository: A ← B ← C.
var repo = ancestry{shaA: nil, shaB: {shaA}, shaC: {shaA, shaB}}
