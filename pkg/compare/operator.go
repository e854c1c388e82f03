package compare

import (
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// Tracking metadata the GitOps operators write on the objects they apply,
// besides ArgoTrackingID and the Flux labels.
const (
	HelmFluxNamespaceLabel = "helm.toolkit.fluxcd.io/namespace"
	ArgoInstallationID     = "argocd.argoproj.io/installation-id"
	ArgoInstanceLabel      = "argocd.argoproj.io/instance"
	ArgoDefaultLabel       = "app.kubernetes.io/instance"
)

var (
	fluxManagers = []string{"kustomize-controller"}
	helmManagers = []string{"helm-controller"}
	// Argo CD applies with "argocd-controller", client-side (an Update
	// entry) by default, server-side with ServerSideApply=true; older
	// versions wrote "argocd-application-controller".
	argoManagers = []string{"argocd-controller", "argocd-application-controller"}
)

// operatorKey is one label or annotation an operator writes, with the field
// managers it writes it as.
type operatorKey struct {
	annotation bool
	key        string
	managers   []string
	// valid, when set, says whether live's value is one the operator would
	// write on this object.
	valid func(live *unstructured.Unstructured, value string) bool
}

var operatorKeys = []operatorKey{
	{key: FluxNameLabel, managers: fluxManagers},
	{key: FluxNamespaceLabel, managers: fluxManagers},
	{key: HelmFluxNameLabel, managers: helmManagers},
	{key: HelmFluxNamespaceLabel, managers: helmManagers},
	{annotation: true, key: ArgoTrackingID, managers: argoManagers, valid: func(live *unstructured.Unstructured, _ string) bool {
		_, ok := argoApp(live) // only the id of this very object
		return ok
	}},
	{annotation: true, key: ArgoInstallationID, managers: argoManagers},
	{key: ArgoInstanceLabel, managers: argoManagers, valid: argoLabelTracking},
	{key: ArgoDefaultLabel, managers: argoManagers, valid: argoLabelTracking},
}

// argoLabelTracking accepts an instance label written by Argo CD's label
// tracking: alone, or naming the application of the object's tracking id
// ("annotation+label").
func argoLabelTracking(live *unstructured.Unstructured, value string) bool {
	if _, has := live.GetAnnotations()[ArgoTrackingID]; !has {
		return true
	}
	app, ok := argoApp(live)
	// Argo CD cuts a name longer than a label value may be to 63 characters.
	return ok && (app == value || len(app) > 63 && value != "" && strings.HasPrefix(app, value))
}

func (k operatorKey) path() objpath.Path {
	if k.annotation {
		return objpath.Path{"metadata", "annotations", k.key}
	}
	return objpath.Path{"metadata", "labels", k.key}
}

// operatorMetadata returns the tracking metadata the GitOps operator wrote
// on live and Git does not declare: the labels and annotations of
// operatorKeys that live carries and that one of the operator's field
// managers (or extra, the manager given by the user) still owns. A manager
// keeps a field only while nobody has written another value over it, so a
// value a person changed (kubectl edit, label --overwrite) is not the
// operator's any more and stays drift.
func operatorMetadata(desired, live *unstructured.Unstructured, own *objdiff.Ownership, extra string) (labels, annotations map[string]string) {
	liveLabels, liveAnnotations := live.GetLabels(), live.GetAnnotations()
	for _, k := range operatorKeys {
		liveMap, set, desiredMap := liveLabels, &labels, desired.GetLabels()
		if k.annotation {
			liveMap, set, desiredMap = liveAnnotations, &annotations, desired.GetAnnotations()
		}
		v, ok := liveMap[k.key]
		if !ok {
			continue
		}
		if _, declared := desiredMap[k.key]; declared {
			continue // Git decides
		}
		if k.valid != nil && !k.valid(live, v) {
			continue
		}
		if !operatorOwns(own.Owners(k.path()), k.managers, extra) {
			continue
		}
		if *set == nil {
			*set = map[string]string{}
		}
		(*set)[k.key] = v
	}
	return labels, annotations
}

// WithOperatorMetadata returns desired with the operator's tracking
// metadata the comparison found on the live object (OperatorLabels,
// OperatorAnnotations): the object the dry-run applied, and the one to
// apply for the object to stay as the report shows. desired itself when
// there is none, else a copy.
func (o *ObjectReport) WithOperatorMetadata(desired *unstructured.Unstructured) *unstructured.Unstructured {
	if len(o.OperatorLabels) == 0 && len(o.OperatorAnnotations) == 0 {
		return desired
	}
	out := desired.DeepCopy()
	if len(o.OperatorLabels) > 0 {
		out.SetLabels(union(out.GetLabels(), o.OperatorLabels))
	}
	if len(o.OperatorAnnotations) > 0 {
		out.SetAnnotations(union(out.GetAnnotations(), o.OperatorAnnotations))
	}
	return out
}

func union(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func operatorOwns(owners []objdiff.Owner, managers []string, extra string) bool {
	for _, o := range owners {
		if o.Subresource != "" {
			continue
		}
		if extra != "" && o.Manager == extra {
			return true
		}
		for _, m := range managers {
			if o.Manager == m {
				return true
			}
		}
	}
	return false
}

// noteOperatorKeys explains the extra changes of operator tracking metadata
// that people or unknown tools own: someone wrote another value over the
// operator's.
func noteOperatorKeys(changes []objdiff.Change) {
	for i := range changes {
		c := &changes[i]
		if c.Type != objdiff.Extra || c.Note != "added by another manager" {
			continue
		}
		for _, k := range operatorKeys {
			if c.Path.Equal(k.path()) {
				c.Note = "the GitOps agent's tracking metadata, written over by another manager"
			}
		}
	}
}

// lastApplied returns the configuration client-side apply stored on live
// (kubectl.kubernetes.io/last-applied-configuration), normalised as desired
// objects are, when the object's applier applies client-side: manager owns
// no field of it through server-side apply. Server-side appliers other than
// kubectl do not keep the annotation up to date (and Flux removes it), so
// it says nothing about them. nil when there is none or it is unreadable.
func lastApplied(live *unstructured.Unstructured, own *objdiff.Ownership, manager string) map[string]any {
	raw, ok := live.GetAnnotations()[redact.LastApplied]
	if !ok || raw == "" {
		return nil
	}
	for _, o := range own.Entries() {
		if o.Manager == manager && o.Operation == "Apply" && o.Subresource == "" {
			return nil
		}
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		return nil
	}
	return normalizeDesired(obj)
}
