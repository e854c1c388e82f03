package compare

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

var local = Options{Mode: ModeLocal}

func TestNamespaces(t *testing.T) {
	t.Parallel()
	live := []*unstructured.Unstructured{
		configMap("team-a", "cfg", withData("k", "v")),
		configMap("other", "cfg", withData("k", "v")),
		object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader"),
	}
	tests := []struct {
		name         string
		desired      *unstructured.Unstructured
		opts         Options
		want         []row
		wantWarnings []string
		wantCalls    []string
	}{
		{
			name:      "namespaced object without a namespace gets the default",
			desired:   configMap("", "cfg", withData("k", "v")),
			opts:      Options{Mode: ModeLocal, Namespace: "team-a"},
			want:      []row{{ID: "ConfigMap team-a/cfg", Status: StatusUnchanged}},
			wantCalls: []string{"get configmaps team-a/cfg"},
		},
		{
			name:      "a declared namespace wins without -n",
			desired:   configMap("other", "cfg", withData("k", "v")),
			opts:      Options{Mode: ModeLocal, Namespace: "team-a"},
			want:      []row{{ID: "ConfigMap other/cfg", Status: StatusUnchanged}},
			wantCalls: []string{"get configmaps other/cfg"},
		},
		{
			name:    "-n rejects another declared namespace, as kubectl does",
			desired: configMap("other", "cfg", withData("k", "v")),
			opts:    Options{Mode: ModeLocal, Namespace: "team-a", EnforceNamespace: true},
			want: []row{{ID: "ConfigMap other/cfg", Status: StatusError,
				Reason: `the namespace from the provided object "other" does not match the namespace "team-a"; you must pass '--namespace=other' to perform this operation`}},
		},
		{
			name:      "-n accepts the same namespace",
			desired:   configMap("team-a", "cfg", withData("k", "v")),
			opts:      Options{Mode: ModeLocal, Namespace: "team-a", EnforceNamespace: true},
			want:      []row{{ID: "ConfigMap team-a/cfg", Status: StatusUnchanged}},
			wantCalls: []string{"get configmaps team-a/cfg"},
		},
		{
			name:         "cluster-scoped object with a namespace",
			desired:      object("rbac.authorization.k8s.io/v1", "ClusterRole", "team-a", "reader"),
			opts:         Options{Mode: ModeLocal, Namespace: "team-a", EnforceNamespace: true},
			want:         []row{{ID: "ClusterRole reader", Status: StatusUnchanged}},
			wantWarnings: []string{`file.yaml:1: ClusterRole reader is cluster-scoped; its namespace "team-a" is ignored`},
			wantCalls:    []string{"get clusterroles /reader"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{live: live}
			rep := run(t, f, tt.opts, git(tt.desired))
			if diff := cmp.Diff(tt.want, rows(rep)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarnings, rep.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCalls, f.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunDoesNotModifyDesired(t *testing.T) {
	t.Parallel()
	d := configMap("", "cfg", withData("k", "v"))
	before := d.DeepCopy()
	run(t, &fakeCluster{}, Options{Mode: ModeLocal, Namespace: "team-a"}, git(d))
	if diff := cmp.Diff(before.Object, d.Object); diff != "" {
		t.Errorf("desired object modified (-before +after):\n%s", diff)
	}
}

func TestDeclarationErrors(t *testing.T) {
	t.Parallel()
	f := &fakeCluster{live: []*unstructured.Unstructured{configMap("shop", "cfg", withData("k", "v"))}}
	generated := configMap("shop", "")
	generated.SetGenerateName("gen-")
	rep := run(t, f, Options{Mode: ModeLocal, Namespace: "shop"}, git(
		configMap("shop", "cfg", withData("k", "v")),
		configMap("", "cfg", withData("k", "other")), // the same object: the namespace defaults to shop
		generated,
		object("example.com/v1", "Widget", "shop", "w"),
	))
	want := []row{
		{ID: "ConfigMap shop/", Status: StatusError, Reason: "metadata.generateName objects get a new name on every apply and cannot be compared; give the object a metadata.name"},
		{ID: "ConfigMap shop/cfg", Status: StatusUnchanged},
		{ID: "ConfigMap shop/cfg", Status: StatusError, Reason: "declared twice in Git (also at file.yaml:1)"},
		{ID: "Widget shop/w", Status: StatusError, Reason: "kind not served by the API server: example.com/v1, Kind=Widget (is its CRD installed?)"},
	}
	if diff := cmp.Diff(want, rows(rep)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"get configmaps shop/cfg"}, f.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if !rep.Errored() || rep.Drifted() {
		t.Errorf("Errored() = %v, Drifted() = %v; want true, false", rep.Errored(), rep.Drifted())
	}
}

func TestMappingFailureAbortsRun(t *testing.T) {
	t.Parallel()
	boom := errors.New("discovery: connection refused")
	_, err := (&Engine{Reader: &fakeCluster{mappingErr: boom}}).Run(t.Context(), git(configMap("shop", "cfg")), local)
	if !errors.Is(err, boom) {
		t.Errorf("Run error %v, want %v", err, boom)
	}
}

func TestListOrGet(t *testing.T) {
	t.Parallel()
	cms := func(ns string, n int) []*unstructured.Unstructured {
		var out []*unstructured.Unstructured
		for i := range n {
			out = append(out, configMap(ns, fmt.Sprintf("cm-%d", i), withData("k", "v")))
		}
		return out
	}
	tests := []struct {
		name             string
		desired          []*unstructured.Unstructured
		threshold        int
		wantGet, wantLst int
	}{
		{"below the default threshold", cms("a", 2), 0, 2, 0},
		{"at the default threshold", cms("a", 3), 0, 0, 1},
		{"per namespace", append(cms("a", 3), cms("b", 2)...), 0, 2, 1},
		{"threshold 2", append(cms("a", 2), cms("b", 1)...), 2, 1, 1},
		// A single object is read with GET whatever the threshold.
		{"threshold 1", cms("a", 1), 1, 1, 0},
		{"high threshold", cms("a", 5), 6, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The live objects exist, so every desired object is unchanged
			// whichever way it was read.
			f := &fakeCluster{live: append(cms("a", 5), cms("b", 2)...)}
			rep := run(t, f, Options{Mode: ModeLocal, ListThreshold: tt.threshold}, git(tt.desired...))
			if got := f.count("get "); got != tt.wantGet {
				t.Errorf("%d GETs, want %d (calls %v)", got, tt.wantGet, f.calls)
			}
			if got := f.count("list "); got != tt.wantLst {
				t.Errorf("%d LISTs, want %d (calls %v)", got, tt.wantLst, f.calls)
			}
			if n := rep.Counts()[StatusUnchanged]; n != len(tt.desired) {
				t.Errorf("%d unchanged, want %d: %+v", n, len(tt.desired), rows(rep))
			}
		})
	}
}

func TestMissingObject(t *testing.T) {
	t.Parallel()
	f := &fakeCluster{}
	rep := run(t, f, local, git(configMap("shop", "new", withData("k", "v"))))
	o := find(t, rep, "ConfigMap", "shop", "new")
	if o.Status != StatusMissing || o.Live != nil || o.Changes != nil {
		t.Errorf("status %s, live %v, changes %v; want missing, no live, no changes", o.Status, o.Live, o.Changes)
	}
	want := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "new", "namespace": "shop"}, "data": map[string]any{"k": "v"}}
	if diff := cmp.Diff(want, o.After); diff != "" {
		t.Errorf("After (-want +got):\n%s", diff)
	}
}

func TestForbiddenRead(t *testing.T) {
	t.Parallel()
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New(`User "auditor" cannot list resource "secrets"`))
	tests := []struct {
		name    string
		secrets int // Secrets in Git: 1 is read with GET, 3 with LIST
	}{
		{"LIST", 3},
		{"GET", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{
				live:    []*unstructured.Unstructured{configMap("shop", "visible", withData("a", "b"))},
				readErr: map[string]error{"secrets shop": forbidden},
			}
			desired := []*unstructured.Unstructured{configMap("shop", "visible", withData("a", "b"))}
			for i := range tt.secrets {
				desired = append(desired, object("v1", "Secret", "shop", fmt.Sprintf("hidden-%d", i)))
			}
			rep := run(t, f, local, git(desired...))
			want := []row{{ID: "ConfigMap shop/visible", Status: StatusUnchanged}}
			for i := range tt.secrets {
				want = append(want, row{ID: fmt.Sprintf("Secret shop/hidden-%d", i), Status: StatusError, Reason: "reading the live object: " + forbidden.Error()})
			}
			if diff := cmp.Diff(want, rows(rep)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			wantWarnings := []string{"forbidden to read secrets in namespace shop: those objects are reported as errors"}
			if diff := cmp.Diff(wantWarnings, rep.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFatalReadErrorAbortsRun(t *testing.T) {
	t.Parallel()
	refused := errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	tests := []struct {
		name    string
		f       *fakeCluster
		desired int
		want    error
	}{
		{"GET, not an API error", &fakeCluster{readErr: map[string]error{"configmaps": refused}}, 1, refused},
		{"LIST, not an API error", &fakeCluster{readErr: map[string]error{"configmaps": refused}}, 3, refused},
		{"unauthorized", &fakeCluster{readErr: map[string]error{"configmaps": apierrors.NewUnauthorized("token expired")}}, 1, nil},
		{
			"LIST for extraneous objects",
			&fakeCluster{
				live:    []*unstructured.Unstructured{configMap("shop", "cm-0", fluxLabels("flux-system", "apps"))},
				listErr: map[string]error{"configmaps": refused},
			}, 1, refused,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var desired []*unstructured.Unstructured
			for i := range tt.desired {
				desired = append(desired, configMap("shop", fmt.Sprintf("cm-%d", i), fluxLabels("flux-system", "apps")))
			}
			rep, err := (&Engine{Reader: tt.f, Applier: tt.f}).Run(t.Context(), git(desired...), local)
			if err == nil || rep != nil {
				t.Fatalf("Run = %v, %v; want no report and an error", rep, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if tt.want == nil && !apierrors.IsUnauthorized(err) {
				t.Errorf("error %v, want unauthorized", err)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := (&Engine{Reader: &fakeCluster{}, Applier: &fakeCluster{}}).Run(ctx, git(configMap("shop", "a")), local)
	if err == nil {
		t.Error("Run with a cancelled context succeeded")
	}
}

func TestExtraneous(t *testing.T) {
	t.Parallel()
	argo := func(app string) func(*unstructured.Unstructured) { return argoTracked(app) }
	flux := fluxLabels("flux-system", "apps")
	copied := configMap("shop", "copy", withAnnotations(ArgoTrackingID, "shop:/ConfigMap:shop/web"))
	tests := []struct {
		name      string
		live      []*unstructured.Unstructured
		desired   []*unstructured.Unstructured
		opts      Options
		want      []row
		wantLists int
	}{
		{
			name: "Argo CD tracking id, self-referencing only",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", argo("shop")),
				configMap("shop", "stray", argo("shop")),
				configMap("shop", "other-app", argo("billing")),
				copied, // copied from web with its annotation: tracks nothing
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", argo("shop"))},
			want: []row{
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "tracked by Argo CD application shop, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
			wantLists: 1,
		},
		{
			name: "Flux labels of the same Kustomization",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", flux),
				configMap("shop", "stray", flux),
				configMap("shop", "other", fluxLabels("flux-system", "other")),
				configMap("billing", "elsewhere", flux), // a namespace Git does not use
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", flux)},
			want: []row{
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "tracked by Flux Kustomization flux-system/apps, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
			wantLists: 1,
		},
		{
			name: "prune selector",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", withLabels("app", "shop")),
				configMap("shop", "stray", withLabels("app", "shop")),
				configMap("shop", "unlabelled"),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", withLabels("app", "shop"))},
			opts:    Options{PruneSelector: "app=shop"},
			want: []row{
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "matches --prune-selector, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
			wantLists: 1,
		},
		{
			// Argo CD's Prune options count only on objects Argo CD
			// tracks, whatever selected them.
			name: "prune selector, Argo CD's Prune options",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", withLabels("app", "shop")),
				configMap("shop", "argo-kept", withLabels("app", "shop"), argo("billing"), withAnnotations(ArgoSyncOptions, "Prune=false")),
				configMap("shop", "argo-confirm", withLabels("app", "shop"), argo("billing"), withAnnotations(ArgoSyncOptions, "Prune=confirm")),
				configMap("shop", "flux-stray", withLabels("app", "shop"), flux, withAnnotations(ArgoSyncOptions, "Prune=false")),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", withLabels("app", "shop"))},
			opts:    Options{PruneSelector: "app=shop"},
			want: []row{
				{ID: "ConfigMap shop/argo-confirm", Status: StatusExtraneous, Reason: "matches --prune-selector, not in Git (argocd.argoproj.io/sync-options: Prune=confirm: Argo CD shows it OutOfSync and deletes it only once a person confirms the pruning)"},
				{ID: "ConfigMap shop/argo-kept", Status: StatusExtraneous, Reason: "matches --prune-selector, not in Git (argocd.argoproj.io/sync-options: Prune=false: Argo CD shows it OutOfSync but its sync does not delete it)"},
				{ID: "ConfigMap shop/flux-stray", Status: StatusExtraneous, Reason: "matches --prune-selector, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
			wantLists: 1,
		},
		{
			// Another application's objects, by tracking id or by the
			// instance label, keep their own Prune option; the compared
			// application's syncOptions (Prune=false) are not theirs.
			name: "prune selector, another application's Prune options",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", argo("shop"), withLabels("app", "shop")),
				configMap("shop", "billing-plain", withLabels("app", "shop"), argo("billing")),
				configMap("shop", "billing-label-kept", withLabels("app", "shop", "app.kubernetes.io/instance", "billing"), withAnnotations(ArgoSyncOptions, "Prune=false")),
				configMap("shop", "unlabelled-kept", withLabels("app", "shop"), withAnnotations(ArgoSyncOptions, "Prune=false")),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", argo("shop"), withLabels("app", "shop"))},
			opts: Options{PruneSelector: "app=shop", Tracking: Tracking{
				ArgoApps: []string{"shop"}, ArgoInstanceLabel: "app.kubernetes.io/instance", ArgoPrune: "false"}},
			want: []row{
				{ID: "ConfigMap shop/billing-label-kept", Status: StatusExtraneous, Reason: "matches --prune-selector, not in Git (argocd.argoproj.io/sync-options: Prune=false: Argo CD shows it OutOfSync but its sync does not delete it)"},
				{ID: "ConfigMap shop/billing-plain", Status: StatusExtraneous, Reason: "matches --prune-selector, not in Git"},
				{ID: "ConfigMap shop/unlabelled-kept", Status: StatusExtraneous, Reason: "matches --prune-selector, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
			wantLists: 1,
		},
		{
			name: "IgnoreExtraneous and reconcile: disabled",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", flux),
				configMap("shop", "argo-ignored", flux, withAnnotations(ArgoCompareOptions, "IgnoreExtraneous")),
				configMap("shop", "argo-ignored-too", flux, withAnnotations(ArgoCompareOptions, "ServerSideDiff=true,IgnoreExtraneous")),
				configMap("shop", "flux-disabled", flux, withAnnotations(FluxReconcile, "Disabled")),
			},
			desired:   []*unstructured.Unstructured{configMap("shop", "web", flux)},
			want:      []row{{ID: "ConfigMap shop/web", Status: StatusUnchanged}},
			wantLists: 1,
		},
		{
			// Flux never deletes these (kustomize-controller's garbage
			// collection exclusions); Argo CD's sync never deletes
			// Prune=false but shows it OutOfSync.
			name: "prune: disabled, ssa: Ignore and Prune=false",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", flux),
				configMap("shop", "flux-kept", flux, withAnnotations(FluxPrune, "disabled")),
				configMap("shop", "flux-kept-label", flux, withLabels(FluxPrune, "Disabled")),
				configMap("shop", "flux-ignored", flux, withAnnotations(FluxSSA, "Ignore")),
				configMap("shop", "argo-kept", argo("shop"), withAnnotations(ArgoSyncOptions, "Replace=true,Prune=false")),
				configMap("shop", "api", argo("shop")),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", flux), configMap("shop", "api", argo("shop"))},
			want: []row{
				{ID: "ConfigMap shop/api", Status: StatusUnchanged},
				{ID: "ConfigMap shop/argo-kept", Status: StatusExtraneous, Reason: "tracked by Argo CD application shop, not in Git (argocd.argoproj.io/sync-options: Prune=false: Argo CD shows it OutOfSync but its sync does not delete it)"},
				{ID: "ConfigMap shop/flux-ignored", Status: StatusSkipped, Reason: "kustomize.toolkit.fluxcd.io/ssa: Ignore: not in Git, and Flux does not delete it"},
				{ID: "ConfigMap shop/flux-kept", Status: StatusSkipped, Reason: "kustomize.toolkit.fluxcd.io/prune: disabled: not in Git, and Flux does not delete it"},
				{ID: "ConfigMap shop/flux-kept-label", Status: StatusSkipped, Reason: "kustomize.toolkit.fluxcd.io/prune: disabled: not in Git, and Flux does not delete it"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
			wantLists: 1,
		},
		{
			name: "label selector filters extraneous objects too",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", flux, withLabels("tier", "fe")),
				configMap("shop", "stray-fe", flux, withLabels("tier", "fe")),
				configMap("shop", "stray-be", flux, withLabels("tier", "be")),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", flux, withLabels("tier", "fe"))},
			opts:    Options{Selector: labels.SelectorFromSet(labels.Set{"tier": "fe"})},
			want: []row{
				{ID: "ConfigMap shop/stray-fe", Status: StatusExtraneous, Reason: "tracked by Flux Kustomization flux-system/apps, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
			wantLists: 1,
		},
		{
			name: "one LIST per kind and namespace of the desired set",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", flux),
				configMap("billing", "web", flux),
				object("v1", "Secret", "shop", "stray", flux),
				object("apps/v1", "Deployment", "billing", "stray", flux),
			},
			desired: []*unstructured.Unstructured{
				configMap("shop", "web", flux), configMap("billing", "web", flux), object("v1", "Secret", "shop", "missing", flux),
			},
			want: []row{
				{ID: "ConfigMap billing/web", Status: StatusUnchanged},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
				{ID: "Secret shop/missing", Status: StatusMissing},
				{ID: "Secret shop/stray", Status: StatusExtraneous, Reason: "tracked by Flux Kustomization flux-system/apps, not in Git"},
			},
			wantLists: 3,
		},
		{
			name:    "no tracking metadata, no prune selector: no LIST",
			live:    []*unstructured.Unstructured{configMap("shop", "web"), configMap("shop", "stray")},
			desired: []*unstructured.Unstructured{configMap("shop", "web")},
			want:    []row{{ID: "ConfigMap shop/web", Status: StatusUnchanged}},
		},
		{
			// Only live objects teach what to track: Git's labels alone
			// (the object is missing) do not.
			name:    "tracking learnt from live objects only",
			live:    []*unstructured.Unstructured{configMap("shop", "stray", flux)},
			desired: []*unstructured.Unstructured{configMap("shop", "web", flux)},
			want:    []row{{ID: "ConfigMap shop/web", Status: StatusMissing}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{live: tt.live}
			opts := tt.opts
			opts.Mode = ModeLocal
			rep := run(t, f, opts, git(tt.desired...))
			if diff := cmp.Diff(tt.want, rows(rep)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if got := f.count("list "); got != tt.wantLists {
				t.Errorf("%d LISTs, want %d: %v", got, tt.wantLists, f.calls)
			}
		})
	}
}

func TestExtraneousObjectReport(t *testing.T) {
	t.Parallel()
	flux := fluxLabels("flux-system", "apps")
	f := &fakeCluster{live: []*unstructured.Unstructured{
		configMap("shop", "web", flux),
		configMap("shop", "stray", flux, withData("k", "v"), withManagedFields(entry("kubectl-create", "Update", "", "2026-11-20T10:00:00Z", `{"f:data":{"f:k":{}}}`))),
	}}
	rep := run(t, f, local, git(configMap("shop", "web", flux)))
	o := find(t, rep, "ConfigMap", "shop", "stray")
	want := ObjectReport{
		APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "stray", Status: StatusExtraneous,
		Reason: "tracked by Flux Kustomization flux-system/apps, not in Git",
		Live: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"k": "v"},
			"metadata": map[string]any{"name": "stray", "namespace": "shop", "labels": map[string]any{FluxNameLabel: "apps", FluxNamespaceLabel: "flux-system"}},
		},
	}
	if diff := cmp.Diff(want, *o); diff != "" {
		t.Errorf("extraneous object (-want +got):\n%s", diff)
	}
	if !rep.Drifted() {
		t.Error("an extraneous object is not drift")
	}
}

func TestExtraneousErrors(t *testing.T) {
	t.Parallel()
	flux := fluxLabels("flux-system", "apps")
	live := []*unstructured.Unstructured{configMap("shop", "web", flux)}
	t.Run("forbidden LIST is a warning", func(t *testing.T) {
		t.Parallel()
		f := &fakeCluster{live: live, listErr: map[string]error{"configmaps": apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "", errors.New("no"))}}
		rep := run(t, f, local, git(configMap("shop", "web", flux)))
		if diff := cmp.Diff([]row{{ID: "ConfigMap shop/web", Status: StatusUnchanged}}, rows(rep)); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
		want := []string{"forbidden to list configmaps in namespace shop: extraneous objects there are not detected"}
		if diff := cmp.Diff(want, rep.Warnings); diff != "" {
			t.Errorf("warnings (-want +got):\n%s", diff)
		}
	})
	t.Run("other API errors abort", func(t *testing.T) {
		t.Parallel()
		f := &fakeCluster{live: live, listErr: map[string]error{"configmaps": apierrors.NewInternalError(errors.New("etcd timeout"))}}
		if _, err := (&Engine{Reader: f, Applier: f}).Run(t.Context(), git(configMap("shop", "web", flux)), local); !apierrors.IsInternalError(err) {
			t.Errorf("Run error %v, want the internal error", err)
		}
	})
	t.Run("invalid prune selector", func(t *testing.T) {
		t.Parallel()
		f := &fakeCluster{live: live}
		_, err := (&Engine{Reader: f, Applier: f}).Run(t.Context(), git(configMap("shop", "web", flux)), Options{Mode: ModeLocal, PruneSelector: "a in (b"})
		if err == nil || !strings.Contains(err.Error(), "parsing --prune-selector") {
			t.Errorf("Run error %v, want one about --prune-selector", err)
		}
	})
}

func TestReconcileDisabled(t *testing.T) {
	t.Parallel()
	disabled := withAnnotations(FluxReconcile, "disabled")
	tests := []struct {
		name          string
		desired, live *unstructured.Unstructured
	}{
		{"in Git", configMap("shop", "cfg", disabled, withData("k", "git")), configMap("shop", "cfg", withData("k", "live"))},
		{"live", configMap("shop", "cfg", withData("k", "git")), configMap("shop", "cfg", disabled, withData("k", "live"))},
		{"live, case-insensitive", configMap("shop", "cfg", withData("k", "git")), configMap("shop", "cfg", withAnnotations(FluxReconcile, "Disabled"), withData("k", "live"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range []Mode{ModeLocal, ModeServer} {
				f := &fakeCluster{live: []*unstructured.Unstructured{tt.live}}
				rep := run(t, f, Options{Mode: mode}, git(tt.desired))
				want := []row{{ID: "ConfigMap shop/cfg", Status: StatusSkipped, Reason: FluxReconcile + ": disabled"}}
				if diff := cmp.Diff(want, rows(rep)); diff != "" {
					t.Errorf("%s: objects (-want +got):\n%s", mode, diff)
				}
				if n := f.count("apply "); n != 0 {
					t.Errorf("%s: %d dry-runs for a skipped object", mode, n)
				}
				if rep.Drifted() {
					t.Errorf("%s: a skipped object counts as drift", mode)
				}
			}
		})
	}
}

// web is a Deployment applied with server-side apply by kustomize-controller
// at creation, then scaled with `kubectl scale` (manager "kubectl" on the
// scale subresource, an entry without a time) and labelled with
// `kubectl label` — managedFields as kube-apiserver v1.37 writes them.
func web(mods ...func(*unstructured.Unstructured)) *unstructured.Unstructured {
	return object("apps/v1", "Deployment", "shop", "web", append([]func(*unstructured.Unstructured){
		created("2026-11-20T10:00:00Z"),
		withLabels("app", "web", "owner", "alice"),
		withField("spec.replicas", int64(5)),
		withField("spec.selector", map[string]any{"matchLabels": map[string]any{"app": "web"}}),
		withField("spec.revisionHistoryLimit", int64(10)),
		withManagedFields(
			entry("kustomize-controller", "Apply", "", "2026-11-20T10:00:00Z", `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:selector":{}}}`),
			entry("kubectl", "Update", "scale", "", `{"f:spec":{"f:replicas":{}}}`),
			entry("kubectl-label", "Update", "", "2026-11-21T09:30:00Z", `{"f:metadata":{"f:labels":{"f:owner":{}}}}`),
		),
		withField("status.replicas", int64(5)),
	}, mods...)...)
}

func webInGit() *unstructured.Unstructured {
	return object("apps/v1", "Deployment", "shop", "web",
		withLabels("app", "web"),
		withField("spec.replicas", int64(2)),
		withField("spec.selector", map[string]any{"matchLabels": map[string]any{"app": "web"}}),
	)
}

func TestModifiedObject(t *testing.T) {
	t.Parallel()
	scaled := objdiff.Owner{Manager: "kubectl", Operation: "Update", Subresource: "scale", Class: objdiff.ClassHuman}
	labelled := objdiff.Owner{Manager: "kubectl-label", Operation: "Update", Time: ptr(mustTime("2026-11-21T09:30:00Z")), Class: objdiff.ClassHuman}
	wantChanges := []objdiff.Change{
		{Path: objpath.Path{"metadata", "labels", "owner"}, Type: objdiff.Extra, Live: "alice", Owners: []objdiff.Owner{labelled}, Note: "added by another manager"},
		{Path: objpath.Path{"spec", "replicas"}, Type: objdiff.Modified, Live: int64(5), Desired: int64(2), Owners: []objdiff.Owner{scaled}},
	}
	wantLive := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "shop", "labels": map[string]any{"app": "web", "owner": "alice"}},
		"spec":     map[string]any{"replicas": int64(5), "selector": map[string]any{"matchLabels": map[string]any{"app": "web"}}, "revisionHistoryLimit": int64(10)},
	}
	wantAfter := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "shop", "labels": map[string]any{"app": "web"}},
		"spec":     map[string]any{"replicas": int64(2), "selector": map[string]any{"matchLabels": map[string]any{"app": "web"}}, "revisionHistoryLimit": int64(10)},
	}
	for _, mode := range []Mode{ModeLocal, ModeServer} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{live: []*unstructured.Unstructured{web()}}
			rep := run(t, f, Options{Mode: mode}, git(webInGit()))
			o := find(t, rep, "Deployment", "shop", "web")
			if o.Status != StatusModified || o.FieldManager != "kustomize-controller" {
				t.Errorf("status %s, field manager %q; want modified, kustomize-controller", o.Status, o.FieldManager)
			}
			if diff := cmp.Diff(wantChanges, o.Changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantLive, o.Live); diff != "" {
				t.Errorf("Live (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantAfter, o.After); diff != "" {
				t.Errorf("After (-want +got):\n%s", diff)
			}
			var wantApply []cluster.ApplyOptions
			if mode == ModeServer {
				wantApply = []cluster.ApplyOptions{{FieldManager: "kustomize-controller", Force: true, DryRun: true, OmitManagedFields: true}}
			}
			if diff := cmp.Diff(wantApply, f.applyOpts); diff != "" {
				t.Errorf("apply options (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestFieldManager(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		live, desired *unstructured.Unstructured
		opts          Options
		want          string
	}{
		{"detected Apply manager", web(), webInGit(), Options{}, "kustomize-controller"},
		{"given", web(), webInGit(), Options{FieldManager: "argocd-controller"}, "argocd-controller"},
		{"client-side apply", configMap("shop", "c", withManagedFields(entry("kubectl-client-side-apply", "Update", "", "", `{"f:data":{}}`))), configMap("shop", "c"), Options{}, "kubectl-client-side-apply"},
		{"Argo CD tracking id", configMap("shop", "c", argoTracked("shop")), configMap("shop", "c"), Options{}, "argocd-controller"},
		{"Flux labels", nil, configMap("shop", "c", fluxLabels("flux-system", "apps")), Options{}, "kustomize-controller"},
		{"Flux helm-controller labels", nil, configMap("shop", "c", withLabels(HelmFluxNameLabel, "web")), Options{}, "helm-controller"},
		{"default", nil, configMap("shop", "c"), Options{}, DefaultFieldManager},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{}
			if tt.live != nil {
				f.live = append(f.live, tt.live)
			}
			opts := tt.opts
			opts.Mode = ModeServer
			rep := run(t, f, opts, git(tt.desired))
			if got := rep.Objects[0].FieldManager; got != tt.want {
				t.Errorf("field manager %q, want %q", got, tt.want)
			}
			if len(f.applyOpts) != 1 || f.applyOpts[0].FieldManager != tt.want {
				t.Errorf("dry-run with %+v, want field manager %q", f.applyOpts, tt.want)
			}
		})
	}
}

func TestServerDryRunErrors(t *testing.T) {
	t.Parallel()
	immutable := apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", field.ErrorList{
		field.Invalid(field.NewPath("spec", "selector"), "app=web2", "field is immutable"),
	})
	tests := []struct {
		name    string
		live    []*unstructured.Unstructured
		applyFn func(desired, live *unstructured.Unstructured) (*unstructured.Unstructured, error)
		want    row
		changes []string
	}{
		{
			name: "namespace missing",
			applyFn: func(*unstructured.Unstructured, *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "shop")
			},
			want: row{ID: "Deployment shop/web", Status: StatusMissing, Reason: `namespace "shop" does not exist`},
		},
		{
			name: "missing, and creating it is forbidden",
			applyFn: func(*unstructured.Unstructured, *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				return nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("RBAC: no create"))
			},
			want: row{ID: "Deployment shop/web", Status: StatusMissing, Reason: "not dry-run: creating it is forbidden for this user"},
		},
		{
			name: "forbidden for an existing object: an error",
			live: []*unstructured.Unstructured{web()},
			applyFn: func(*unstructured.Unstructured, *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				return nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("RBAC: no patch"))
			},
			want: row{ID: "Deployment shop/web", Status: StatusError, Reason: "server-side apply dry-run: " + apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("RBAC: no patch")).Error()},
		},
		{
			name: "immutable field: compared locally",
			live: []*unstructured.Unstructured{web()},
			applyFn: func(*unstructured.Unstructured, *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				return nil, immutable
			},
			want: row{ID: "Deployment shop/web", Status: StatusModified,
				Reason: "the server refuses to apply Git's state (" + immutable.Error() + "); fields compared locally"},
			changes: []string{"metadata.labels.owner", "spec.replicas"},
		},
		{
			name: "other errors",
			live: []*unstructured.Unstructured{web()},
			applyFn: func(*unstructured.Unstructured, *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				return nil, apierrors.NewBadRequest("bad")
			},
			want: row{ID: "Deployment shop/web", Status: StatusError, Reason: "server-side apply dry-run: bad"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{live: tt.live, apply: tt.applyFn}
			rep := run(t, f, Options{Mode: ModeServer}, git(webInGit()))
			if diff := cmp.Diff([]row{tt.want}, rows(rep)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			var paths []string
			for _, c := range rep.Objects[0].Changes {
				paths = append(paths, c.Path.String())
			}
			if diff := cmp.Diff(tt.changes, paths); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIgnoreRules(t *testing.T) {
	t.Parallel()
	rules := ignore.NewSet(
		&ignore.Rule{Name: "replicas", Targets: []ignore.Target{{}}, JSONPointers: []string{"/spec/replicas"}, OwnedBy: []string{"kube-controller-manager"}},
		&ignore.Rule{Name: "labels by kubectl-label", Targets: []ignore.Target{{}}, ManagedFieldsManagers: []string{"kubectl-label"}},
	)
	t.Run("owned by another manager: kept", func(t *testing.T) {
		t.Parallel()
		rep := run(t, &fakeCluster{live: []*unstructured.Unstructured{web()}}, Options{Mode: ModeLocal, Ignore: rules}, git(webInGit()))
		o := find(t, rep, "Deployment", "shop", "web")
		if len(o.Changes) != 1 || o.Changes[0].Path.String() != "spec.replicas" {
			t.Errorf("changes %v, want only spec.replicas", o.Changes)
		}
	})
	t.Run("owned by the rule's manager: ignored", func(t *testing.T) {
		t.Parallel()
		hpa := web(withManagedFields(
			entry("kustomize-controller", "Apply", "", "2026-11-20T10:00:00Z", `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:selector":{}}}`),
			entry("kube-controller-manager", "Update", "scale", "", `{"f:spec":{"f:replicas":{}}}`),
		), withLabels("owner", "alice"))
		rep := run(t, &fakeCluster{live: []*unstructured.Unstructured{hpa}}, Options{Mode: ModeLocal, Ignore: rules}, git(webInGit()))
		o := find(t, rep, "Deployment", "shop", "web")
		// The owner label is now unowned (no kubectl-label entry): neither
		// Git's nor another manager's, so not reported.
		if o.Status != StatusUnchanged || len(o.Changes) != 0 {
			t.Errorf("status %s, changes %v; want unchanged", o.Status, o.Changes)
		}
	})
}

func TestSecretsMasked(t *testing.T) {
	t.Parallel()
	const oldPass, newPass = "old-hunter2", "new-hunter2"
	secret := func(mods ...func(*unstructured.Unstructured)) *unstructured.Unstructured {
		return object("v1", "Secret", "shop", "db", mods...)
	}
	liveSecret := secret(
		withData("password", b64(oldPass), "user", b64("app-user")),
		withAnnotations(
			"kubectl.kubernetes.io/last-applied-configuration", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"shop"},"stringData":{"password":"`+oldPass+`"}}`,
			"note", "rotated from "+oldPass,
		),
		withManagedFields(entry("kubectl-client-side-apply", "Update", "", "2026-11-20T10:00:00Z", `{"f:data":{".":{},"f:password":{},"f:user":{}}}`)),
	)
	gitSecret := secret(withStringData("password", newPass, "user", "app-user"), withAnnotations("note", "rotated from "+oldPass))
	// A ConfigMap quoting the value elsewhere.
	cm := configMap("shop", "leaky", withData("dsn", "postgres://app-user:"+newPass+"@db"))
	forbidden := []string{oldPass, newPass, b64(oldPass), b64(newPass)}

	for _, mode := range []Mode{ModeLocal, ModeServer} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{live: []*unstructured.Unstructured{liveSecret, configMap("shop", "leaky")}}
			rep := run(t, f, Options{Mode: mode}, git(gitSecret, cm))
			if dump := fmt.Sprintf("%#v", rep); containsAny(dump, forbidden) {
				t.Errorf("a secret value is in the report:\n%s", dump)
			}
			o := find(t, rep, "Secret", "shop", "db")
			wantChanges := []objdiff.Change{{Path: objpath.Path{"data", "password"}, Type: objdiff.Modified, Live: "*** (before)", Desired: "*** (after)"}}
			if diff := cmp.Diff(wantChanges, o.Changes, cmpopts.IgnoreFields(objdiff.Change{}, "Owners")); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]any{"password": "*** (before)", "user": "***"}, o.Live["data"]); diff != "" {
				t.Errorf("live data (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]any{"password": "*** (after)", "user": "***"}, o.After["data"]); diff != "" {
				t.Errorf("after data (-want +got):\n%s", diff)
			}
			if got := o.Live["metadata"].(map[string]any)["annotations"].(map[string]any)["note"]; got != "rotated from ***" {
				t.Errorf("note annotation %q, want the value swept", got)
			}
		})
	}
	t.Run("reasons and warnings", func(t *testing.T) {
		t.Parallel()
		f := &fakeCluster{
			live: []*unstructured.Unstructured{liveSecret},
			apply: func(*unstructured.Unstructured, *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				return nil, apierrors.NewBadRequest(`data[password]: invalid value "` + newPass + `"`)
			},
		}
		rep := run(t, f, Options{Mode: ModeServer}, git(gitSecret))
		want := []row{{ID: "Secret shop/db", Status: StatusError, Reason: `server-side apply dry-run: data[password]: invalid value "***"`}}
		if diff := cmp.Diff(want, rows(rep)); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	})
	t.Run("extraneous Secret", func(t *testing.T) {
		t.Parallel()
		flux := fluxLabels("flux-system", "apps")
		f := &fakeCluster{live: []*unstructured.Unstructured{configMap("shop", "cm", flux), object("v1", "Secret", "shop", "stray", flux, withData("token", b64("stray-token")))}}
		rep := run(t, f, local, git(configMap("shop", "cm", flux), object("v1", "Secret", "shop", "db", flux)))
		o := find(t, rep, "Secret", "shop", "stray")
		if diff := cmp.Diff(map[string]any{"token": "***"}, o.Live["data"]); diff != "" {
			t.Errorf("extraneous Secret data (-want +got):\n%s", diff)
		}
	})
	t.Run("secret values outside Secrets (Flux post-build variables)", func(t *testing.T) {
		t.Parallel()
		const canary = "canary-s3cr3t-7f3a"
		for _, mode := range []Mode{ModeLocal, ModeServer} {
			f := &fakeCluster{live: []*unstructured.Unstructured{configMap("shop", "app", withData("dsn", "postgres://app:hand-edited@db"))}}
			rep := run(t, f, Options{Mode: mode, SecretValues: []string{canary}}, git(configMap("shop", "app", withData("dsn", "postgres://app:"+canary+"@db"))))
			if dump := fmt.Sprintf("%#v", rep); strings.Contains(dump, canary) {
				t.Errorf("%s: the value is in the report:\n%s", mode, dump)
			}
			if o := find(t, rep, "ConfigMap", "shop", "app"); len(o.Changes) != 1 || o.Changes[0].Desired != "postgres://app:***@db" {
				t.Errorf("%s: changes %+v, want the value masked", mode, o.Changes)
			}
			if got := rep.SweepSecrets("refused " + canary); got != "refused ***" {
				t.Errorf("%s: swept %q", mode, got)
			}
		}
	})
	t.Run("--show-secrets", func(t *testing.T) {
		t.Parallel()
		f := &fakeCluster{live: []*unstructured.Unstructured{liveSecret}}
		rep := run(t, f, Options{Mode: ModeLocal, ShowSecrets: true}, git(gitSecret))
		o := find(t, rep, "Secret", "shop", "db")
		if len(o.Changes) != 1 || o.Changes[0].Desired != b64(newPass) || o.Changes[0].Live != b64(oldPass) {
			t.Errorf("changes %+v, want the values", o.Changes)
		}
	})
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestDeterministicOrder(t *testing.T) {
	t.Parallel()
	flux := fluxLabels("flux-system", "apps")
	live := []*unstructured.Unstructured{
		configMap("b", "z", flux), configMap("a", "z", flux), configMap("a", "stray", flux),
		object("apps/v1", "Deployment", "a", "web", flux),
		object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader", flux),
		object("v1", "Namespace", "", "a", flux),
	}
	desired := git(
		object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader", flux),
		object("apps/v1", "Deployment", "a", "web", flux),
		configMap("b", "z", flux),
		object("v1", "Namespace", "", "a", flux),
		configMap("a", "z", flux),
		object("v1", "Secret", "a", "s", flux),
	)
	want := []string{
		"ConfigMap a/stray", "ConfigMap a/z", "ConfigMap b/z", "Namespace a", "Secret a/s",
		"Deployment a/web", "ClusterRole reader",
	}
	for i := range 10 {
		rep := run(t, &fakeCluster{live: live}, Options{Mode: ModeLocal, Concurrency: 4}, desired)
		var got []string
		for _, r := range rows(rep) {
			got = append(got, r.ID)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("run %d: order (-want +got):\n%s", i, diff)
		}
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls [][2]int
	opts := Options{Mode: ModeLocal, Concurrency: 3, Progress: func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, [2]int{done, total})
	}}
	var desired []*unstructured.Unstructured
	for i := range 7 {
		desired = append(desired, configMap("shop", fmt.Sprintf("cm-%d", i)))
	}
	desired = append(desired, object("example.com/v1", "Widget", "shop", "w")) // errors are counted too
	run(t, &fakeCluster{}, opts, git(desired...))
	var want [][2]int
	for i := 1; i <= 8; i++ {
		want = append(want, [2]int{i, 8})
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestWarningsDeterministic(t *testing.T) {
	t.Parallel()
	forbidden := func(r string) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: r}, "", errors.New("no"))
	}
	f := &fakeCluster{readErr: map[string]error{"secrets": forbidden("secrets"), "configmaps": forbidden("configmaps")}}
	desired := git(configMap("a", "x"), object("v1", "Secret", "a", "x"), configMap("b", "x"), object("v1", "Secret", "b", "x"))
	first := run(t, f, Options{Mode: ModeLocal, Concurrency: 1}, desired).Warnings
	for i := range 20 {
		got := run(t, f, Options{Mode: ModeLocal, Concurrency: 1}, desired).Warnings
		if diff := cmp.Diff(first, got); diff != "" {
			t.Fatalf("run %d: warnings differ from the first run's (-first +got):\n%s", i, diff)
		}
	}
}

// Git may declare objects of one kind in several versions (autoscaling/v1
// and autoscaling/v2 HorizontalPodAutoscalers mid-migration): they are the
// same resources.
func TestKindInSeveralVersions(t *testing.T) {
	t.Parallel()
	flux := fluxLabels("flux-system", "apps")
	hpa := func(version, name string) *unstructured.Unstructured {
		return object("autoscaling/"+version, "HorizontalPodAutoscaler", "shop", name, flux)
	}
	t.Run("declared objects are not extraneous", func(t *testing.T) {
		t.Parallel()
		f := &fakeCluster{live: []*unstructured.Unstructured{hpa("v2", "web"), hpa("v2", "api")}}
		rep := run(t, f, local, git(hpa("v2", "web"), hpa("v1", "api")))
		want := []row{
			{ID: "HorizontalPodAutoscaler shop/api", Status: StatusUnchanged},
			{ID: "HorizontalPodAutoscaler shop/web", Status: StatusUnchanged},
		}
		if diff := cmp.Diff(want, rows(rep)); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	})
	t.Run("declared twice", func(t *testing.T) {
		t.Parallel()
		f := &fakeCluster{live: []*unstructured.Unstructured{hpa("v2", "web")}}
		rep := run(t, f, local, git(hpa("v2", "web"), hpa("v1", "web")))
		want := []row{
			{ID: "HorizontalPodAutoscaler shop/web", Status: StatusUnchanged},
			{ID: "HorizontalPodAutoscaler shop/web", Status: StatusError, Reason: "declared twice in Git (also at file.yaml:1)"},
		}
		if diff := cmp.Diff(want, rows(rep)); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	})
}

// Two finalizers added with `kubectl patch` (managedFields as kube-apiserver
// v1.37 writes them: v:"..." entries) are both removed in After.
func TestAfterWithoutSeveralForeignListItems(t *testing.T) {
	t.Parallel()
	live := configMap("shop", "cfg", created("2026-11-20T10:00:00Z"), withData("a", "b"),
		withField("metadata.finalizers", []any{"example.com/git", "example.com/a", "example.com/b"}),
		withManagedFields(
			entry("kustomize-controller", "Apply", "", "2026-11-20T10:00:00Z", `{"f:data":{"f:a":{}},"f:metadata":{"f:finalizers":{"v:\"example.com/git\"":{}}}}`),
			entry("kubectl-patch", "Update", "", "2026-11-21T11:00:00Z", `{"f:metadata":{"f:finalizers":{"v:\"example.com/a\"":{},"v:\"example.com/b\"":{}}}}`),
		))
	desired := configMap("shop", "cfg", withData("a", "b"), withField("metadata.finalizers", []any{"example.com/git"}))
	for _, mode := range []Mode{ModeLocal, ModeServer} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{
				live: []*unstructured.Unstructured{live},
				// Server-side apply keeps the finalizers kubectl-patch owns.
				apply: func(_, live *unstructured.Unstructured) (*unstructured.Unstructured, error) { return live, nil },
			}
			rep := run(t, f, Options{Mode: mode}, git(desired))
			o := find(t, rep, "ConfigMap", "shop", "cfg")
			var paths []string
			for _, c := range o.Changes {
				paths = append(paths, c.Path.String())
			}
			if diff := cmp.Diff([]string{"metadata.finalizers[1]", "metadata.finalizers[2]"}, paths); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			got, _ := objpath.Get(o.After, objpath.Path{"metadata", "finalizers"})
			if diff := cmp.Diff([]any{"example.com/git"}, got); diff != "" {
				t.Errorf("After finalizers (-want +got):\n%s", diff)
			}
		})
	}
}

// envDeployment is a Deployment whose container has the given env vars,
// applied by kustomize-controller at creation; extra managedFields entries
// are appended.
func envDeployment(env []any, entries ...metav1.ManagedFieldsEntry) *unstructured.Unstructured {
	applied := entry("kustomize-controller", "Apply", "", "2026-11-20T10:00:00Z",
		`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:env":{"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}}}}}}}}}`)
	return object("apps/v1", "Deployment", "shop", "web",
		created("2026-11-20T10:00:00Z"),
		withField("spec.template.spec.containers", []any{map[string]any{"name": "web", "image": "nginx", "env": env}}),
		withManagedFields(append([]metav1.ManagedFieldsEntry{applied}, entries...)...),
	)
}

func envVar(name, value string) any { return map[string]any{"name": name, "value": value} }

// `kubectl set env DEBUG=1` adds an item to a keyed list: one change for
// the item, and After without it.
func TestForeignListItem(t *testing.T) {
	t.Parallel()
	live := envDeployment([]any{envVar("MODE", "prod"), envVar("DEBUG", "1")},
		entry("kubectl-set", "Update", "", "2026-11-22T16:45:00Z",
			`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:env":{"k:{\"name\":\"DEBUG\"}":{".":{},"f:name":{},"f:value":{}}}}}}}}}`))
	desired := object("apps/v1", "Deployment", "shop", "web",
		withField("spec.template.spec.containers", []any{map[string]any{"name": "web", "image": "nginx", "env": []any{envVar("MODE", "prod")}}}))
	env := objpath.Path{"spec", "template", "spec", "containers", 0, "env"}
	for _, mode := range []Mode{ModeLocal, ModeServer} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{
				live:  []*unstructured.Unstructured{live},
				apply: func(_, live *unstructured.Unstructured) (*unstructured.Unstructured, error) { return live, nil },
			}
			rep := run(t, f, Options{Mode: mode}, git(desired))
			o := find(t, rep, "Deployment", "shop", "web")
			want := []objdiff.Change{{
				Path: env.Index(1), Type: objdiff.Extra, Live: envVar("DEBUG", "1"), Note: "added by another manager",
				Owners: []objdiff.Owner{{Manager: "kubectl-set", Operation: "Update", Time: ptr(mustTime("2026-11-22T16:45:00Z")), Class: objdiff.ClassHuman}},
			}}
			if diff := cmp.Diff(want, o.Changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			got, _ := objpath.Get(o.After, env)
			if diff := cmp.Diff([]any{envVar("MODE", "prod")}, got); diff != "" {
				t.Errorf("After env (-want +got):\n%s", diff)
			}
		})
	}
}

// Git adds two env vars: After (local mode) holds both.
func TestSeveralMissingListItems(t *testing.T) {
	t.Parallel()
	live := envDeployment([]any{envVar("MODE", "prod")})
	desired := object("apps/v1", "Deployment", "shop", "web",
		withField("spec.template.spec.containers", []any{map[string]any{"name": "web", "image": "nginx", "env": []any{envVar("MODE", "prod"), envVar("A", "1"), envVar("B", "2")}}}))
	rep := run(t, &fakeCluster{live: []*unstructured.Unstructured{live}}, local, git(desired))
	o := find(t, rep, "Deployment", "shop", "web")
	env := objpath.Path{"spec", "template", "spec", "containers", 0, "env"}
	got, _ := objpath.Get(o.After, env)
	if diff := cmp.Diff([]any{envVar("MODE", "prod"), envVar("A", "1"), envVar("B", "2")}, got); diff != "" {
		t.Errorf("After env (-want +got):\n%s", diff)
	}
}

// TestHelmValuesMaskedInReasons: a secret Helm value the server echoes in a
// dry-run error is swept from the reason, as Secret data is; the values
// themselves are masked field by field in the changes and objects.
func TestHelmValuesMaskedInReasons(t *testing.T) {
	t.Parallel()
	const gitPass, livePass, oldPass = "canary-helm-git-5e1", "canary-helm-live-5e1", "canary-helm-old-5e1"
	release := func(pass string) *unstructured.Unstructured {
		return object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "monitoring", "grafana", func(u *unstructured.Unstructured) {
			u.Object["spec"] = map[string]any{"values": map[string]any{"grafana": map[string]any{"adminPassword": pass, "adminUser": "admin"}}}
		})
	}
	t.Run("dry-run error", func(t *testing.T) {
		t.Parallel()
		// Live was applied client-side with an older password, still in
		// its last-applied annotation.
		live := release(livePass)
		applied, err := json.Marshal(release(oldPass).Object)
		if err != nil {
			t.Fatal(err)
		}
		live.SetAnnotations(map[string]string{redact.LastApplied: string(applied)})
		f := &fakeCluster{
			live: []*unstructured.Unstructured{live},
			apply: func(*unstructured.Unstructured, *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				return nil, apierrors.NewBadRequest(`spec.values.grafana.adminPassword: invalid value "` + gitPass + `" (was "` + livePass + `", "` + oldPass + `")`)
			},
		}
		rep := run(t, f, Options{Mode: ModeServer}, git(release(gitPass)))
		want := []row{{ID: "HelmRelease monitoring/grafana", Status: StatusError,
			Reason: `server-side apply dry-run: spec.values.grafana.adminPassword: invalid value "***" (was "***", "***")`}}
		if diff := cmp.Diff(want, rows(rep)); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	})
	t.Run("changes and objects", func(t *testing.T) {
		t.Parallel()
		f := &fakeCluster{live: []*unstructured.Unstructured{release(livePass)}}
		rep := run(t, f, Options{Mode: ModeLocal}, git(release(gitPass)))
		o := find(t, rep, "HelmRelease", "monitoring", "grafana")
		wantChanges := []objdiff.Change{{Path: objpath.Path{"spec", "values", "grafana", "adminPassword"}, Type: objdiff.Modified, Live: "*** (before)", Desired: "*** (after)"}}
		if diff := cmp.Diff(wantChanges, o.Changes, cmpopts.IgnoreFields(objdiff.Change{}, "Owners")); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		for side, obj := range map[string]map[string]any{"live": o.Live, "after": o.After} {
			v, _ := objpath.Get(obj, objpath.Path{"spec", "values", "grafana"})
			if pw := v.(map[string]any)["adminPassword"]; pw != "*** ("+map[string]string{"live": "before", "after": "after"}[side]+")" {
				t.Errorf("%s adminPassword = %v", side, pw)
			}
		}
	})
}

// Git lists MODE before DEBUG, live has DEBUG, another manager's TRACE,
// then MODE: the order is reported as a change of the list, the foreign
// item still as its own change, and After (local mode) has Git's order in
// the places Git's items held, without TRACE.
func TestReorderedListLocalAfter(t *testing.T) {
	t.Parallel()
	live := envDeployment([]any{envVar("DEBUG", "1"), envVar("TRACE", "1"), envVar("MODE", "prod")},
		entry("kubectl-set", "Update", "", "2026-11-22T16:45:00Z",
			`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:env":{"k:{\"name\":\"TRACE\"}":{".":{},"f:name":{},"f:value":{}}}}}}}}}`))
	desired := object("apps/v1", "Deployment", "shop", "web",
		withField("spec.template.spec.containers", []any{map[string]any{"name": "web", "image": "nginx", "env": []any{envVar("MODE", "prod"), envVar("DEBUG", "1")}}}))
	env := objpath.Path{"spec", "template", "spec", "containers", 0, "env"}
	rep := run(t, &fakeCluster{live: []*unstructured.Unstructured{live}}, local, git(desired))
	o := find(t, rep, "Deployment", "shop", "web")
	var got []string
	for _, c := range o.Changes {
		got = append(got, fmt.Sprintf("%s %s %v %v", c.Type, c.Path, c.Live, c.Desired))
	}
	want := []string{
		"reordered spec.template.spec.containers[0].env [DEBUG MODE] [MODE DEBUG]",
		"extra spec.template.spec.containers[0].env[1] map[name:TRACE value:1] <nil>",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	after, _ := objpath.Get(o.After, env)
	if diff := cmp.Diff([]any{envVar("MODE", "prod"), envVar("DEBUG", "1")}, after); diff != "" {
		t.Errorf("After env (-want +got):\n%s", diff)
	}
}

// Server mode: live A, B, then C added by kubectl set env; Git lists B, A.
// The dry-run returns B, C, A (what the real server does). The order is
// described with Git's items, as in local mode, and After drops C — found
// by name in the dry-run's order, not at its live index (which is A's
// there).
func TestReorderedListServerAfter(t *testing.T) {
	t.Parallel()
	live := envDeployment([]any{envVar("A", "1"), envVar("B", "2"), envVar("C", "3")},
		entry("kubectl-set", "Update", "", "2026-11-22T16:45:00Z",
			`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:env":{"k:{\"name\":\"C\"}":{".":{},"f:name":{},"f:value":{}}}}}}}}}`))
	desired := object("apps/v1", "Deployment", "shop", "web",
		withField("spec.template.spec.containers", []any{map[string]any{"name": "web", "image": "nginx", "env": []any{envVar("B", "2"), envVar("A", "1")}}}))
	env := objpath.Path{"spec", "template", "spec", "containers", 0, "env"}
	f := &fakeCluster{
		live: []*unstructured.Unstructured{live},
		apply: func(_, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
			out := live.DeepCopy()
			if err := unstructured.SetNestedSlice(out.Object, []any{map[string]any{"name": "web", "image": "nginx",
				"env": []any{envVar("B", "2"), envVar("C", "3"), envVar("A", "1")}}}, "spec", "template", "spec", "containers"); err != nil {
				t.Fatal(err)
			}
			return out, nil
		},
	}
	rep := run(t, f, Options{Mode: ModeServer}, git(desired))
	o := find(t, rep, "Deployment", "shop", "web")
	var got []string
	for _, c := range o.Changes {
		got = append(got, fmt.Sprintf("%s %s %v %v", c.Type, c.Path, c.Live, c.Desired))
	}
	want := []string{
		"reordered spec.template.spec.containers[0].env [A B] [B A]",
		"extra spec.template.spec.containers[0].env[2] map[name:C value:3] <nil>",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	after, _ := objpath.Get(o.After, env)
	if diff := cmp.Diff([]any{envVar("B", "2"), envVar("A", "1")}, after); diff != "" {
		t.Errorf("After env (-want +got):\n%s", diff)
	}
}

// prepare does not deep-copy the desired objects (at 20,000 objects the
// copies were a quarter of the heap, docs/benchmarks.md run J), and leaves
// the caller's objects as they were: only the copy gets the namespace.
func TestPrepareCopiesOnlyMetadata(t *testing.T) {
	data := map[string]any{}
	for i := range 1000 {
		data[fmt.Sprintf("key-%04d", i)] = "v"
	}
	var desired []Desired
	for i := range 50 {
		cm := configMap("", fmt.Sprintf("cm-%d", i))
		cm.Object["data"] = data
		desired = append(desired, Desired{Object: cm, Source: "cm.yaml"})
	}
	e := &Engine{Reader: &fakeCluster{}}
	opts := Options{Namespace: "shop"}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	items, _, err := e.prepare(t.Context(), desired, opts, &Report{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if perObject := (after.TotalAlloc - before.TotalAlloc) / uint64(len(desired)); perObject > 8<<10 {
		t.Errorf("prepare allocates %d bytes per object of 1,000 data keys: it copies more than metadata", perObject)
	}
	if got := items[0].desired.GetNamespace(); got != "shop" {
		t.Errorf("namespace %q, want shop", got)
	}
	if got := desired[0].Object.GetNamespace(); got != "" {
		t.Errorf("the caller's object got namespace %q", got)
	}
}
