package compare

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestTrackingOption(t *testing.T) {
	t.Parallel()
	flux := fluxLabels("flux-system", "apps")
	inventory := []ObjectRef{
		{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "web"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "old"},                  // removed from Git, still live
		{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "gone"},                 // removed from Git and the cluster
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "other", Name: "api"}, // a kind and namespace Git no longer has
		{Group: "example.com", Version: "v1", Kind: "Widget", Namespace: "shop", Name: "w"}, // kind not served any more
		{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: "r"}, // cluster-scoped
		{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "stray"},                // also found by its labels: once
		{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "kept"},                 // IgnoreExtraneous
	}
	tests := []struct {
		name    string
		live    []*unstructured.Unstructured
		desired []*unstructured.Unstructured
		opts    Options
		want    []row
	}{
		{
			name: "Flux inventory finds extraneous objects of any kind and namespace",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", flux),
				configMap("shop", "old"), // labels removed by someone: kustomize-controller skips it
				configMap("shop", "stray", flux),
				configMap("shop", "kept", withAnnotations(ArgoCompareOptions, "IgnoreExtraneous")),
				object("apps/v1", "Deployment", "other", "api", flux),
				object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "r", flux),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", flux)},
			opts: Options{Tracking: Tracking{
				FluxKustomizations: []string{"flux-system/apps"}, Inventory: inventory, InventoryOwner: "Flux Kustomization flux-system/apps",
			}},
			want: []row{
				{ID: "ConfigMap shop/old", Status: StatusSkipped, Reason: "in the inventory of Flux Kustomization flux-system/apps, but its kustomize.toolkit.fluxcd.io/name and kustomize.toolkit.fluxcd.io/namespace labels do not name it (removed or changed), so its garbage collection skips it: not in Git, and Flux does not delete it"},
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "tracked by Flux Kustomization flux-system/apps, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
				{ID: "Deployment other/api", Status: StatusExtraneous, Reason: "in the inventory of Flux Kustomization flux-system/apps, not in Git"},
				{ID: "ClusterRole r", Status: StatusExtraneous, Reason: "in the inventory of Flux Kustomization flux-system/apps, not in Git"},
			},
		},
		{
			// kustomize-controller's prune returns before looking at any
			// object.
			name: "Flux Kustomization with spec.prune false",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", flux),
				configMap("shop", "stray", flux),
				object("apps/v1", "Deployment", "other", "api", flux),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", flux)},
			opts: Options{Tracking: Tracking{
				FluxKustomizations: []string{"flux-system/apps"}, FluxNoPrune: true, Inventory: inventory, InventoryOwner: "Flux Kustomization flux-system/apps",
			}},
			want: []row{
				{ID: "ConfigMap shop/stray", Status: StatusSkipped, Reason: "spec.prune is false on Flux Kustomization flux-system/apps: not in Git, and Flux does not delete it"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
				{ID: "Deployment other/api", Status: StatusSkipped, Reason: "spec.prune is false on Flux Kustomization flux-system/apps: not in Git, and Flux does not delete it"},
			},
		},
		{
			// kustomize-controller's prune deletes only the inventory's
			// stale entries: an object carrying the labels that the
			// inventory does not list is never deleted.
			name: "Flux Kustomization with an inventory: labels alone are not enough",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", flux),
				configMap("shop", "stray", flux),                                     // listed: extraneous
				configMap("shop", "unlisted", flux),                                  // not listed: skipped
				object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "r", flux), // listed
				object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "unlisted", flux),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", flux), object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "kept", flux)},
			opts: Options{Tracking: Tracking{
				FluxKustomizations: []string{"flux-system/apps"}, FluxInventory: true, Inventory: inventory, InventoryOwner: "Flux Kustomization flux-system/apps",
			}},
			want: []row{
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "tracked by Flux Kustomization flux-system/apps, not in Git"},
				{ID: "ConfigMap shop/unlisted", Status: StatusSkipped, Reason: "carries the labels of Flux Kustomization flux-system/apps but its inventory does not list it, so its garbage collection never deletes it: not in Git, and Flux does not delete it"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
				{ID: "ClusterRole kept", Status: StatusMissing},
				{ID: "ClusterRole r", Status: StatusExtraneous, Reason: "tracked by Flux Kustomization flux-system/apps, not in Git"},
				{ID: "ClusterRole unlisted", Status: StatusSkipped, Reason: "carries the labels of Flux Kustomization flux-system/apps but its inventory does not list it, so its garbage collection never deletes it: not in Git, and Flux does not delete it"},
			},
		},
		{
			// An empty status.inventory lists nothing: nothing is Flux's
			// to delete.
			name:    "Flux Kustomization with an empty inventory",
			live:    []*unstructured.Unstructured{configMap("shop", "web", flux), configMap("shop", "stray", flux)},
			desired: []*unstructured.Unstructured{configMap("shop", "web", flux)},
			opts:    Options{Tracking: Tracking{FluxKustomizations: []string{"flux-system/apps"}, FluxInventory: true}},
			want: []row{
				{ID: "ConfigMap shop/stray", Status: StatusSkipped, Reason: "carries the labels of Flux Kustomization flux-system/apps but its inventory does not list it, so its garbage collection never deletes it: not in Git, and Flux does not delete it"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
		},
		{
			// No status.inventory (never reconciled; -k/-f runs): the
			// labels decide, as before.
			name:    "Flux Kustomization without an inventory",
			live:    []*unstructured.Unstructured{configMap("shop", "web", flux), configMap("shop", "stray", flux)},
			desired: []*unstructured.Unstructured{configMap("shop", "web", flux)},
			opts:    Options{Tracking: Tracking{FluxKustomizations: []string{"flux-system/apps"}}},
			want: []row{
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "tracked by Flux Kustomization flux-system/apps, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
		},
		{
			// Helm's upgrade reads the live object's annotation, exactly.
			name: "Helm release keeps helm.sh/resource-policy: keep",
			live: []*unstructured.Unstructured{
				configMap("shop", "web"),
				configMap("shop", "old", withAnnotations(HelmResourcePolicy, "keep")),
				configMap("shop", "stray", withAnnotations(HelmResourcePolicy, "Keep")),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web")},
			opts: Options{Tracking: Tracking{
				HelmRelease: true, Inventory: inventory, InventoryOwner: "Helm release shop/web v2",
			}},
			want: []row{
				{ID: "ConfigMap shop/old", Status: StatusSkipped, Reason: "helm.sh/resource-policy: keep: no longer in the chart, and Helm does not delete it"},
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "in the inventory of Helm release shop/web v2, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
		},
		{
			// gitops-engine's isPruningDisabled: the object's own Prune
			// option, else the application's.
			name: "Argo CD application sync option Prune=false",
			live: []*unstructured.Unstructured{
				configMap("shop", "stray", argoTracked("shop")),
				configMap("shop", "pruned", argoTracked("shop"), withAnnotations(ArgoSyncOptions, "Prune=true")),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web")},
			opts:    Options{Tracking: Tracking{ArgoApps: []string{"shop"}, ArgoPrune: "false"}},
			want: []row{
				{ID: "ConfigMap shop/pruned", Status: StatusExtraneous, Reason: "tracked by Argo CD application shop, not in Git"},
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "tracked by Argo CD application shop, not in Git (the application's spec.syncPolicy.syncOptions: Prune=false: Argo CD shows it OutOfSync but its sync does not delete it)"},
				{ID: "ConfigMap shop/web", Status: StatusMissing},
			},
		},
		{
			// Every declared object is missing: nothing live teaches the
			// application's name, the option does.
			name: "Argo CD application named explicitly",
			live: []*unstructured.Unstructured{
				configMap("shop", "stray", argoTracked("shop")),
				configMap("shop", "foreign", argoTracked("billing")),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web")},
			opts:    Options{Tracking: Tracking{ArgoApps: []string{"shop"}}},
			want: []row{
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "tracked by Argo CD application shop, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusMissing},
			},
		},
		{
			name: "Argo CD label tracking",
			live: []*unstructured.Unstructured{
				configMap("shop", "web", withLabels("app.kubernetes.io/instance", "shop")),
				configMap("shop", "stray", withLabels("app.kubernetes.io/instance", "shop")),
				configMap("shop", "foreign", withLabels("app.kubernetes.io/instance", "billing")),
			},
			desired: []*unstructured.Unstructured{configMap("shop", "web", withLabels("app.kubernetes.io/instance", "shop"))},
			opts:    Options{Tracking: Tracking{ArgoApps: []string{"shop"}, ArgoInstanceLabel: "app.kubernetes.io/instance"}},
			want: []row{
				{ID: "ConfigMap shop/stray", Status: StatusExtraneous, Reason: "labelled as Argo CD application shop, not in Git"},
				{ID: "ConfigMap shop/web", Status: StatusUnchanged},
			},
		},
		{
			// Argo CD writes the destination namespace into the tracking id
			// of cluster-scoped objects.
			name: "Argo CD tracking id of a cluster-scoped object",
			live: []*unstructured.Unstructured{
				object("v1", "Namespace", "", "shop", withAnnotations(ArgoTrackingID, "shop:/Namespace:shop/shop")),
				object("v1", "Namespace", "", "stray", withAnnotations(ArgoTrackingID, "shop:/Namespace:shop/stray")),
				object("v1", "Namespace", "", "copy", withAnnotations(ArgoTrackingID, "shop:/Namespace:shop/shop")),
			},
			desired: []*unstructured.Unstructured{object("v1", "Namespace", "", "shop")},
			opts:    Options{Tracking: Tracking{ArgoApps: []string{"shop"}}},
			want: []row{
				{ID: "Namespace shop", Status: StatusUnchanged},
				{ID: "Namespace stray", Status: StatusExtraneous, Reason: "tracked by Argo CD application shop, not in Git"},
			},
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
		})
	}
}

func TestInventoryReadErrors(t *testing.T) {
	t.Parallel()
	inv := []ObjectRef{
		{Version: "v1", Kind: "Secret", Namespace: "shop", Name: "s"},
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "d"},
	}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "s", errors.New("no"))
	f := &fakeCluster{
		live:    []*unstructured.Unstructured{object("v1", "Secret", "shop", "s"), object("apps/v1", "Deployment", "shop", "d")},
		readErr: map[string]error{"secrets": forbidden, "deployments": apierrors.NewInternalError(errors.New("etcd hiccup"))},
	}
	rep := run(t, f, Options{Mode: ModeLocal, Tracking: Tracking{Inventory: inv, InventoryOwner: "Flux Kustomization a/b"}}, git(configMap("shop", "web")))
	want := []string{
		"forbidden to read Secret shop/s of the inventory of Flux Kustomization a/b: not checked for being extraneous",
		`reading apps/Deployment shop/d of the inventory of Flux Kustomization a/b: Internal error occurred: etcd hiccup`,
	}
	if diff := cmp.Diff(want, rep.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	// A fatal error (not an API status) aborts the run.
	f = &fakeCluster{readErr: map[string]error{"secrets": errors.New("connection refused")}}
	_, err := (&Engine{Reader: f, Applier: f}).Run(t.Context(), git(configMap("shop", "web")), Options{Mode: ModeLocal, Tracking: Tracking{Inventory: inv}})
	if err == nil {
		t.Error("a connection error reading the inventory does not abort the run")
	}
}
