package compare

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
)

// The fields of managedFields entries used below.
const (
	fluxLabelFields = `{"f:metadata":{"f:labels":{"f:kustomize.toolkit.fluxcd.io/name":{},"f:kustomize.toolkit.fluxcd.io/namespace":{}}},"f:data":{"f:k":{}}}`
	nameLabelField  = `{"f:metadata":{"f:labels":{"f:kustomize.toolkit.fluxcd.io/name":{}}}}`
	namespaceFields = `{"f:metadata":{"f:labels":{"f:kustomize.toolkit.fluxcd.io/namespace":{}}},"f:data":{"f:k":{}}}`
	trackingFields  = `{"f:metadata":{"f:annotations":{"f:argocd.argoproj.io/tracking-id":{}}},"f:data":{"f:k":{}}}`
)

func TestOperatorMetadataIsNotDrift(t *testing.T) {
	t.Parallel()
	const ts = "2026-12-01T10:00:00Z"
	tests := []struct {
		name string
		live *unstructured.Unstructured
		// want are the drifted paths with their note and first manager.
		want []string
	}{
		{
			name: "Flux labels kustomize-controller applied",
			live: configMap("shop", "c", withData("k", "v"), fluxLabels("flux-system", "apps"),
				withManagedFields(entry("kustomize-controller", "Apply", "", ts, fluxLabelFields))),
		},
		{
			name: "Flux label a person wrote over",
			live: configMap("shop", "c", withData("k", "v"), fluxLabels("flux-system", "hotfix"),
				withManagedFields(entry("kustomize-controller", "Apply", "", ts, namespaceFields), entry("kubectl-edit", "Update", "", "2026-12-01T11:00:00Z", nameLabelField))),
			want: []string{`metadata.labels["kustomize.toolkit.fluxcd.io/name"]: the GitOps agent's tracking metadata, written over by another manager (kubectl-edit)`},
		},
		{
			name: "Argo CD tracking id argocd-controller wrote, client-side",
			live: configMap("shop", "c", withData("k", "v"), argoTracked("shop"),
				withManagedFields(entry("argocd-controller", "Update", "", ts, trackingFields))),
		},
		{
			name: "Argo CD tracking id of another object is not the operator's for this one",
			live: configMap("shop", "c", withData("k", "v"), withAnnotations(ArgoTrackingID, "shop:/ConfigMap:shop/other"),
				withManagedFields(entry("argocd-controller", "Apply", "", ts, trackingFields))),
			want: []string{`metadata.annotations["argocd.argoproj.io/tracking-id"]: not in Git any more (the GitOps agent applied it before) (argocd-controller)`},
		},
		{
			name: "helm-controller's labels",
			live: configMap("shop", "c", withData("k", "v"), withLabels(HelmFluxNameLabel, "web", HelmFluxNamespaceLabel, "shop"),
				withManagedFields(entry("helm-controller", "Update", "", ts, `{"f:metadata":{"f:labels":{"f:helm.toolkit.fluxcd.io/name":{},"f:helm.toolkit.fluxcd.io/namespace":{}}},"f:data":{"f:k":{}}}`))),
		},
		{
			name: "Argo CD label tracking, and its installation id",
			live: configMap("shop", "c", withData("k", "v"), withLabels(ArgoDefaultLabel, "guestbook"), withAnnotations(ArgoInstallationID, "prod"),
				withManagedFields(entry("argocd-controller", "Apply", "", ts, `{"f:metadata":{"f:labels":{"f:app.kubernetes.io/instance":{}},"f:annotations":{"f:argocd.argoproj.io/installation-id":{}}},"f:data":{"f:k":{}}}`))),
		},
		{
			name: "Argo CD annotation+label tracking, the label cut to 63 characters",
			live: configMap("shop", "c", withData("k", "v"), argoTracked(strings.Repeat("a", 70)), withLabels(ArgoInstanceLabel, strings.Repeat("a", 63)),
				withManagedFields(entry("argocd-controller", "Apply", "", ts, `{"f:metadata":{"f:labels":{"f:argocd.argoproj.io/instance":{}},"f:annotations":{"f:argocd.argoproj.io/tracking-id":{}}},"f:data":{"f:k":{}}}`))),
		},
		{
			name: "an instance label naming another application than the tracking id",
			live: configMap("shop", "c", withData("k", "v"), argoTracked("guestbook"), withLabels(ArgoDefaultLabel, "other"),
				withManagedFields(entry("argocd-controller", "Apply", "", ts, `{"f:metadata":{"f:labels":{"f:app.kubernetes.io/instance":{}},"f:annotations":{"f:argocd.argoproj.io/tracking-id":{}}},"f:data":{"f:k":{}}}`))),
			want: []string{`metadata.labels["app.kubernetes.io/instance"]: not in Git any more (the GitOps agent applied it before) (argocd-controller)`},
		},
		{
			name: "Flux labels that another agent's manager applied",
			live: configMap("shop", "c", withData("k", "v"), fluxLabels("flux-system", "apps"),
				withManagedFields(entry("argocd-controller", "Apply", "", ts, fluxLabelFields))),
			want: []string{
				`metadata.labels["kustomize.toolkit.fluxcd.io/name"]: not in Git any more (the GitOps agent applied it before) (argocd-controller)`,
				`metadata.labels["kustomize.toolkit.fluxcd.io/namespace"]: not in Git any more (the GitOps agent applied it before) (argocd-controller)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeCluster{live: []*unstructured.Unstructured{tt.live}}
			rep := run(t, f, Options{Mode: ModeLocal}, git(configMap("shop", "c", withData("k", "v"))))
			o := find(t, rep, "ConfigMap", "shop", "c")
			if diff := cmp.Diff(tt.want, changeLines(o.Changes)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if wantStatus := map[bool]Status{true: StatusModified, false: StatusUnchanged}[len(tt.want) > 0]; o.Status != wantStatus {
				t.Errorf("status %s, want %s", o.Status, wantStatus)
			}
		})
	}
}

// TestOperatorMetadataDryRun checks that the server-side dry-run applies
// the operator's tracking metadata, so that applying as its manager does
// not remove it.
func TestOperatorMetadataDryRun(t *testing.T) {
	t.Parallel()
	live := configMap("shop", "c", withData("k", "v"), fluxLabels("flux-system", "apps"),
		withManagedFields(entry("kustomize-controller", "Apply", "", "2026-12-01T10:00:00Z", fluxLabelFields)))
	var applied map[string]string
	f := &fakeCluster{live: []*unstructured.Unstructured{live}, apply: func(desired, _ *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		applied = desired.GetLabels()
		return desired, nil // server-side apply as the labels' manager: what it applies is all there is
	}}
	rep := run(t, f, Options{Mode: ModeServer}, git(configMap("shop", "c", withData("k", "v"))))
	want := map[string]string{FluxNameLabel: "apps", FluxNamespaceLabel: "flux-system"}
	if diff := cmp.Diff(want, applied); diff != "" {
		t.Errorf("labels dry-run applied (-want +got):\n%s", diff)
	}
	if o := find(t, rep, "ConfigMap", "shop", "c"); o.Status != StatusUnchanged {
		t.Errorf("status %s, want unchanged: %v", o.Status, changeLines(o.Changes))
	}
}

func TestClientSideApplyRemovedField(t *testing.T) {
	t.Parallel()
	const ts = "2026-12-01T10:00:00Z"
	lastApplied := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"shop"},"data":{"k":"v","old":"x"}}`
	owned := `{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}}},"f:data":{".":{},"f:k":{},"f:old":{}}}`
	tests := []struct {
		name string
		live *unstructured.Unstructured
		want []string
	}{
		{
			name: "Argo CD's client-side sync",
			live: configMap("shop", "c", withData("k", "v", "old", "x"), argoTracked("shop"), withAnnotations("kubectl.kubernetes.io/last-applied-configuration", lastApplied),
				withManagedFields(entry("argocd-controller", "Update", "", ts, owned))),
			want: []string{"data.old: " + objdiff.NoteLastApplied + " (argocd-controller)"},
		},
		{
			name: "kubectl apply",
			live: configMap("shop", "c", withData("k", "v", "old", "x"), withAnnotations("kubectl.kubernetes.io/last-applied-configuration", lastApplied),
				withManagedFields(entry("kubectl-client-side-apply", "Update", "", ts, owned))),
			want: []string{"data.old: " + objdiff.NoteLastApplied + " (kubectl-client-side-apply)"},
		},
		{
			// Only kubectl's server-side apply keeps the annotation up to
			// date: once Argo CD syncs server-side, it is stale.
			name: "a stale annotation under a server-side applier says nothing",
			live: configMap("shop", "c", withData("k", "v", "old", "x"), argoTracked("shop"), withAnnotations("kubectl.kubernetes.io/last-applied-configuration", lastApplied),
				withManagedFields(entry("argocd-controller", "Apply", "", ts, `{"f:data":{"f:k":{}}}`), entry("argocd-controller", "Update", "", ts, owned))),
		},
	}
	for _, tt := range tests {
		for _, mode := range []Mode{ModeLocal, ModeServer} {
			t.Run(tt.name+"/"+string(mode), func(t *testing.T) {
				t.Parallel()
				f := &fakeCluster{live: []*unstructured.Unstructured{tt.live}}
				rep := run(t, f, Options{Mode: mode}, git(configMap("shop", "c", withData("k", "v"))))
				o := find(t, rep, "ConfigMap", "shop", "c")
				if diff := cmp.Diff(tt.want, changeLines(o.Changes)); diff != "" {
					t.Errorf("changes (-want +got):\n%s", diff)
				}
				if len(tt.want) > 0 {
					if data, _ := o.After["data"].(map[string]any); data["old"] != nil {
						t.Errorf("after still has data.old: %v", o.After["data"])
					}
				}
			})
		}
	}
}

// changeLines renders changes as "path: note (first manager)".
func changeLines(cs []objdiff.Change) []string {
	var out []string
	for _, c := range cs {
		line := c.Path.String() + ": " + c.Note
		if c.Type != objdiff.Extra {
			line = c.Path.String() + ": " + string(c.Type)
		}
		if len(c.Owners) > 0 {
			line += " (" + c.Owners[0].Manager + ")"
		}
		out = append(out, line)
	}
	return out
}
