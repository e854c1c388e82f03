package ignore

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestMatch(t *testing.T) {
	web := object("apps/v1", "Deployment", "prod", "web", withLabels("app", "web", "tier", "fe"), withAnnotations("team", "a"))
	tests := []struct {
		name  string
		rules string // one rule
		obj   *unstructured.Unstructured
		want  bool
	}{
		// Argo CD grammar.
		{"argo exact", argo(`group: apps, kind: Deployment`), web, true},
		{"argo other kind", argo(`group: apps, kind: StatefulSet`), web, false},
		{"argo other group", argo(`group: extensions, kind: Deployment`), web, false},
		{"argo absent group is core, not any", argo(`kind: Deployment`), web, false},
		{"argo core group", argo(`group: "", kind: Service`), object("v1", "Service", "prod", "web"), true},
		{"argo absent group matches core", argo(`kind: Service`), object("v1", "Service", "prod", "web"), true},
		{"argo core group is not apps", argo(`group: "", kind: Deployment`), web, false},
		{"argo any group", argo(`group: "*", kind: Deployment`), object("extensions/v1beta1", "Deployment", "prod", "web"), true},
		{"argo any kind", argo(`group: apps, kind: "*"`), object("apps/v1", "StatefulSet", "prod", "db"), true},
		{"argo any kind, other group", argo(`group: apps, kind: "*"`), object("batch/v1", "Job", "prod", "db"), false},
		{"argo any group and kind", argo(`group: "*", kind: "*"`), object("v1", "Namespace", "", "prod"), true},
		{"argo glob group", argo(`group: "*.k8s.io", kind: "*"`), object("rbac.authorization.k8s.io/v1", "Role", "prod", "r"), true},
		{"argo glob group is anchored", argo(`group: "*.k8s.io", kind: "*"`), object("example.k8s.io.evil/v1", "Role", "prod", "r"), false},
		{"argo glob kind", argo(`group: apps, kind: "Deploy?ent"`), web, true},
		{"argo dots are literal", argo(`group: "a.ps", kind: Deployment`), object("apps/v1", "Deployment", "", "x"), false},
		{"argo exact name", argo(`group: apps, kind: Deployment, name: web`), web, true},
		{"argo name is exact, not a prefix", argo(`group: apps, kind: Deployment, name: we`), web, false},
		{"argo name is not a regex", argo(`group: apps, kind: Deployment, name: "w.b"`), web, false},
		{"argo exact namespace", argo(`group: apps, kind: Deployment, namespace: prod`), web, true},
		{"argo other namespace", argo(`group: apps, kind: Deployment, namespace: staging`), web, false},
		{"argo namespace on a cluster-scoped object", argo(`kind: Namespace, namespace: prod`), object("v1", "Namespace", "", "prod"), false},

		// Flux grammar.
		{"flux no target", flux(``), object("v1", "Namespace", "", "prod"), true},
		{"flux empty target", flux(`{}`), web, true},
		{"flux kind", flux(`{kind: Deployment}`), web, true},
		{"flux kind is anchored", flux(`{kind: Deploy}`), web, false},
		{"flux kind regex", flux(`{kind: "Deployment|StatefulSet"}`), object("apps/v1", "StatefulSet", "prod", "db"), true},
		{"flux group regex", flux(`{group: "app.*"}`), web, true},
		{"flux empty group is any", flux(`{group: ""}`), web, true},
		{"flux core group by regex", flux(`{group: "^$"}`), object("v1", "ConfigMap", "prod", "c"), true},
		{"flux core group by regex, not apps", flux(`{group: "^$"}`), web, false},
		{"flux version", flux(`{version: v1}`), web, true},
		{"flux version is anchored", flux(`{version: v1}`), object("apps/v1beta1", "Deployment", "prod", "web"), false},
		{"flux name regex", flux(`{name: "web-.*"}`), object("apps/v1", "Deployment", "prod", "web-2"), true},
		{"flux name is anchored at the start", flux(`{name: "web"}`), object("apps/v1", "Deployment", "prod", "my-web"), false},
		{"flux name is anchored at the end", flux(`{name: "web"}`), object("apps/v1", "Deployment", "prod", "web-2"), false},
		// ^(?:prod|staging)$, not ^prod|staging$ (which would match "prod-eu").
		{"flux alternation anchored as a whole", flux(`{namespace: "prod|staging"}`), object("apps/v1", "Deployment", "prod-eu", "web"), false},
		{"flux alternation, second branch", flux(`{namespace: "prod|staging"}`), object("apps/v1", "Deployment", "staging", "web"), true},
		{"flux namespace on a cluster-scoped object", flux(`{namespace: ".*"}`), object("v1", "Namespace", "", "prod"), true},
		{"flux namespace on a cluster-scoped object, nonempty", flux(`{namespace: ".+"}`), object("v1", "Namespace", "", "prod"), false},
		{"flux label selector", flux(`{labelSelector: "app=web"}`), web, true},
		{"flux label selector, other value", flux(`{labelSelector: "app=api"}`), web, false},
		{"flux label selector, set-based", flux(`{labelSelector: "app in (web, api), !canary"}`), web, true},
		{"flux label selector, excluded", flux(`{labelSelector: "tier notin (fe)"}`), web, false},
		{"flux label selector, no labels", flux(`{labelSelector: "app"}`), object("v1", "ConfigMap", "prod", "c"), false},
		{"flux annotation selector", flux(`{annotationSelector: "team=a"}`), web, true},
		{"flux annotation selector, other value", flux(`{annotationSelector: "team=b"}`), web, false},
		{"flux annotation selector, existence", flux(`{annotationSelector: "team"}`), web, true},
		{"flux everything", flux(`{group: apps, version: v1, kind: Deployment, name: "w.*", namespace: "prod|staging", labelSelector: "app=web", annotationSelector: "team=a"}`), web, true},
		{"flux everything but one", flux(`{group: apps, version: v1, kind: Deployment, name: "w.*", namespace: "prod|staging", labelSelector: "app=web", annotationSelector: "team=b"}`), web, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, tt.rules)
			if len(s.Rules()) != 1 {
				t.Fatalf("rules %q gave %d rules, want 1", tt.rules, len(s.Rules()))
			}
			got := len(s.Match(tt.obj)) == 1
			if got != tt.want {
				t.Errorf("rule %s (%s) matches %s %s/%s: %v, want %v", tt.rules, s.Rules()[0].Targets[0].String(),
					tt.obj.GroupVersionKind(), tt.obj.GetNamespace(), tt.obj.GetName(), got, tt.want)
			}
		})
	}
}

// argo returns a rule file of one ignoreDifferences entry with the given
// flow-style fields.
func argo(fields string) string {
	return "ignoreDifferences: [{" + fields + ", jsonPointers: [/x]}]\n"
}

// flux returns a rule file of one ignore entry with the given target.
func flux(target string) string {
	if target == "" {
		return "ignore: [{paths: [/x]}]\n"
	}
	return "ignore: [{paths: [/x], target: " + target + "}]\n"
}

func TestMatchOrderAndMerge(t *testing.T) {
	file := mustParse(t, "ignoreDifferences:\n- {kind: '*', group: '*', jsonPointers: [/a]}\n- {kind: Secret, jsonPointers: [/b]}\n")
	set := Builtin().Merge(file)
	svc := object("v1", "Service", "prod", "web")
	want := []string{"last-applied", "service-cluster-ip", "flux-reconcile-requested", "rules.yaml:2"}
	if diff := cmp.Diff(want, names(set.Match(svc))); diff != "" {
		t.Errorf("Match mismatch (-want +got):\n%s", diff)
	}
	if got := len(set.Rules()); got != len(Builtin().Rules())+2 {
		t.Errorf("merged set has %d rules", got)
	}

	var none *Set
	if got := none.Match(svc); got != nil {
		t.Errorf("nil set matched %v", names(got))
	}
	if got := names(none.Merge(file).Rules()); len(got) != 2 {
		t.Errorf("nil.Merge(file) = %v", got)
	}
	if got := names(file.Merge(nil).Rules()); len(got) != 2 {
		t.Errorf("file.Merge(nil) = %v", got)
	}
	if got := set.Match(nil); got != nil {
		t.Errorf("Match(nil) = %v", names(got))
	}

	// Rules returns a copy: changing it does not change the set.
	rules := set.Rules()
	rules[0] = nil
	if set.Rules()[0] == nil {
		t.Error("Rules exposes the set's slice")
	}
}
