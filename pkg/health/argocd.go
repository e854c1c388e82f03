package health

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// evalArgo judges an Argo CD Application: deployed when it is Synced at a
// revision containing the wanted one, healthy when its health (as Argo CD
// aggregates it over the app's resources) is Healthy and no sync operation
// is running.
func evalArgo(ctx context.Context, u *unstructured.Unstructured, e Expect) (verdict, error) {
	var v verdict
	obj := u.Object
	health := orUnknown(str(obj, "status", "health", "status"))
	sync := orUnknown(str(obj, "status", "sync", "status"))
	rev := str(obj, "status", "sync", "revision")
	if rev == "" {
		if revs, _, _ := unstructured.NestedStringSlice(obj, "status", "sync", "revisions"); len(revs) > 0 {
			rev = revs[0]
		}
	}
	v.live = rev

	if e.Revision != "" {
		if rev == "" {
			v.reason = fmt.Sprintf("no synced revision yet (sync %s, health %s)", sync, health)
			return v, nil
		}
		ok, err := containsRevision(ctx, e, rev)
		if err != nil {
			return v, err
		}
		if !ok {
			v.reason = fmt.Sprintf("revision %s does not contain %s (sync %s, health %s)", short(rev), short(e.Revision), sync, health)
			return v, nil
		}
	}
	if sync != "Synced" {
		v.reason = "sync " + sync + at(rev) + argoError(obj)
		return v, nil
	}
	v.deployed = true
	if health != "Healthy" {
		v.reason = "health " + health + at(rev)
		if msg := str(obj, "status", "health", "message"); msg != "" {
			v.reason += ": " + oneLine(msg)
		}
		return v, nil
	}
	if phase := str(obj, "status", "operationState", "phase"); phase == "Running" || phase == "Terminating" {
		v.reason = "sync operation " + phase + at(rev)
		return v, nil
	}
	v.healthy = true
	v.reason = "Synced and Healthy" + at(rev)
	for _, f := range [][]string{{"health", "lastTransitionTime"}, {"operationState", "finishedAt"}, {"reconciledAt"}} {
		if t := timestamp(obj, append([]string{"status"}, f...)...); !t.IsZero() {
			v.since = t
			break
		}
	}
	return v, nil
}

// argoError returns ": <message>" of the Application's first error
// condition (ComparisonError, SyncError, ...), or "".
func argoError(obj map[string]any) string {
	conds, _, _ := unstructured.NestedSlice(obj, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if typ := str(m, "type"); strings.HasSuffix(typ, "Error") {
			return ": " + typ + ": " + oneLine(str(m, "message"))
		}
	}
	return ""
}

func at(rev string) string {
	if rev == "" {
		return ""
	}
	return " at " + short(rev)
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

// oneLine keeps a controller message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
