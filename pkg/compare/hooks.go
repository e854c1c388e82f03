package compare

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Hook annotations Argo CD reads.
const (
	ArgoHook     = "argocd.argoproj.io/hook"
	HelmHook     = "helm.sh/hook"
	argoHookSkip = "Skip"
)

// ArgoHookOf says how Argo CD treats obj: hook when it is a resource hook
// (an argocd.argoproj.io/hook annotation other than "Skip" alone, or,
// without one, a helm.sh/hook annotation other than "crd-install": Argo CD
// runs Helm hooks as its own); skip when it is annotated
// argocd.argoproj.io/hook: Skip, which Argo CD never applies. Argo CD
// leaves both out of its comparison: a hook is created by a sync, often
// under a generated name, and deleted by its delete policy.
func ArgoHookOf(obj *unstructured.Unstructured) (hook, skip bool) {
	ann := obj.GetAnnotations()
	if v, ok := ann[ArgoHook]; ok {
		var types []string
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				types = append(types, t)
			}
		}
		if len(types) == 1 && types[0] == argoHookSkip {
			return false, true
		}
		return true, false
	}
	v, ok := ann[HelmHook]
	return ok && strings.TrimSpace(v) != "crd-install", false
}
