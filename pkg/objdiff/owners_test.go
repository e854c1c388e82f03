package objdiff

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

func mustOwnership(t *testing.T, obj map[string]any, agents ...string) *Ownership {
	t.Helper()
	own, err := NewOwnership(obj, agents...)
	if err != nil {
		t.Fatalf("NewOwnership: %v", err)
	}
	return own
}

// managers renders owners as "manager(operation[,subresource])", in order.
func managers(owners []Owner) []string {
	var out []string
	for _, o := range owners {
		s := o.Manager + "(" + o.Operation
		if o.Subresource != "" {
			s += "," + o.Subresource
		}
		out = append(out, s+")")
	}
	return out
}

func TestNewOwnershipEntries(t *testing.T) {
	t.Parallel()
	own := mustOwnership(t, load(t, "deployment-scaled-labelled.json"))
	want := []Owner{
		{Manager: "kustomize-controller", Operation: "Apply", Time: at(t, "2026-11-20T10:00:00Z"), Class: ClassAgent},
		{Manager: "kubectl", Operation: "Update", Subresource: "scale", Class: ClassHuman},
		{Manager: "kubectl-label", Operation: "Update", Time: at(t, "2026-11-21T09:30:00Z"), Class: ClassHuman},
		{Manager: "kubectl-set", Operation: "Update", Time: at(t, "2026-11-22T16:45:00Z"), Class: ClassHuman},
	}
	if diff := cmp.Diff(want, own.Entries()); diff != "" {
		t.Errorf("Entries (-want +got):\n%s", diff)
	}
	wantManagers := map[string]int{
		// labels.app, selector (atomic), template labels.app; in the
		// container: args (atomic), env[MODE].name/value, image, name,
		// ports[8080].containerPort, limits.cpu/memory.
		"kustomize-controller": 11,
		"kubectl":              1,
		"kubectl-label":        1,
		"kubectl-set":          4,
	}
	if diff := cmp.Diff(wantManagers, own.Managers()); diff != "" {
		t.Errorf("Managers (-want +got):\n%s", diff)
	}
}

func TestNewOwnershipAgents(t *testing.T) {
	t.Parallel()
	obj := withManagedFields(m("metadata", m("name", "x")),
		managedFields(t, "my-deployer", "Apply", "", "2026-11-20T10:00:00Z", `{"f:metadata":{"f:labels":{"f:a":{}}}}`),
		managedFields(t, "kubectl-edit", "Update", "", "2026-11-20T10:00:00Z", `{"f:metadata":{"f:labels":{"f:b":{}}}}`),
	)
	got := mustOwnership(t, obj, "my-deployer").Entries()
	if got[0].Class != ClassAgent || got[1].Class != ClassHuman {
		t.Errorf("classes %s, %s; want %s for the given agent, %s", got[0].Class, got[1].Class, ClassAgent, ClassHuman)
	}
	if got := mustOwnership(t, obj).Entries()[0].Class; got != ClassUnknown {
		t.Errorf("my-deployer without agents: %s, want %s", got, ClassUnknown)
	}
}

func TestNewOwnershipSkipsAndErrors(t *testing.T) {
	t.Parallel()
	obj := func(entries ...map[string]any) map[string]any {
		return withManagedFields(m("metadata", m("name", "x"), "spec", m("hosts", l(m("ip", "10.0.0.1"), m("ip", "10.0.0.2")))), entries...)
	}
	t.Run("no managedFields", func(t *testing.T) {
		t.Parallel()
		if got := mustOwnership(t, m("metadata", m("name", "x"))).Entries(); len(got) != 0 {
			t.Errorf("Entries = %v, want none", got)
		}
	})
	t.Run("other fieldsType skipped", func(t *testing.T) {
		t.Parallel()
		e := managedFields(t, "old", "Update", "", "", `{"f:spec":{}}`)
		e["fieldsType"] = "FieldsV2"
		got := mustOwnership(t, obj(e, managedFields(t, "kubectl-edit", "Update", "", "", `{"f:spec":{"f:x":{}}}`))).Entries()
		if diff := cmp.Diff([]string{"kubectl-edit(Update)"}, managers(got)); diff != "" {
			t.Errorf("Entries (-want +got):\n%s", diff)
		}
	})
	t.Run("bad time ignored", func(t *testing.T) {
		t.Parallel()
		got := mustOwnership(t, obj(managedFields(t, "kubectl-edit", "Update", "", "yesterday", `{"f:spec":{}}`))).Entries()
		if len(got) != 1 || got[0].Time != nil {
			t.Errorf("Entries = %+v, want one without a time", got)
		}
	})
	t.Run("positional i:N", func(t *testing.T) {
		t.Parallel()
		own := mustOwnership(t, obj(managedFields(t, "kubectl-edit", "Update", "", "", `{"f:spec":{"f:hosts":{"i:1":{"f:ip":{}},"i:7":{"f:ip":{}}}}}`)))
		if got := managers(own.Owners(p("spec", "hosts", 1, "ip"))); len(got) != 1 {
			t.Errorf("owners of hosts[1].ip = %v, want kubectl-edit", got)
		}
		if got := own.Owners(p("spec", "hosts", 0, "ip")); len(got) != 0 {
			t.Errorf("owners of hosts[0].ip = %v, want none", got)
		}
	})
	t.Run("owned items no longer present skipped", func(t *testing.T) {
		t.Parallel()
		own := mustOwnership(t, obj(managedFields(t, "kubectl-edit", "Update", "", "",
			`{"f:spec":{"f:hosts":{"k:{\"ip\":\"10.9.9.9\"}":{".":{},"f:ip":{}},"v:\"gone\"":{}}}}`)))
		if got := own.Managers()["kubectl-edit"]; got != 0 {
			t.Errorf("kubectl-edit owns %d fields, want 0", got)
		}
	})
	errs := []struct {
		name, fields, want string
	}{
		{"bad key", `{"f:spec":{"f:hosts":{"k:{ip}":{}}}}`, `managedFields[0] (kubectl-edit): bad key "k:{ip}"`},
		{"bad value", `{"f:metadata":{"f:finalizers":{"v:nope":{}}}}`, `bad value "v:nope"`},
		{"bad index", `{"f:spec":{"f:hosts":{"i:x":{}}}}`, `bad index "i:x"`},
		{"unknown element", `{"f:spec":{"x:y":{}}}`, `unknown field element "x:y"`},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewOwnership(obj(managedFields(t, "kubectl-edit", "Update", "", "", tt.fields)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestOwners(t *testing.T) {
	t.Parallel()
	deploy := mustOwnership(t, load(t, "deployment-scaled-labelled.json"))
	svc := mustOwnership(t, load(t, "service-labelled.json"))
	cm := mustOwnership(t, load(t, "configmap-finalizers.json"))
	container := p("spec", "template", "spec", "containers", 0)
	tests := []struct {
		name string
		own  *Ownership
		path objpath.Path
		want []string
	}{
		// kubectl scale took spec.replicas over: the applier's entry no
		// longer lists it.
		{"scale subresource", deploy, p("spec", "replicas"), []string{"kubectl(Update,scale)"}},
		{"label leaf", deploy, p("metadata", "labels", "owner"), []string{"kubectl-label(Update)"}},
		{"applied label leaf", deploy, p("metadata", "labels", "app"), []string{"kustomize-controller(Apply)"}},
		// Most recent first.
		{"map with leaves of two managers", deploy, p("metadata", "labels"), []string{"kubectl-label(Update)", "kustomize-controller(Apply)"}},
		{"atomic map owned as a whole", deploy, p("spec", "selector", "matchLabels", "app"), []string{"kustomize-controller(Apply)"}},
		{"atomic list item", deploy, container.Key("args").Index(1), []string{"kustomize-controller(Apply)"}},
		{"keyed item created by kubectl set env", deploy, container.Key("env").Index(2), []string{"kubectl-set(Update)"}},
		{"keyed item field", deploy, container.Key("env").Index(1).Key("value"), []string{"kubectl-set(Update)"}},
		{"keyed item of the applier", deploy, container.Key("env").Index(0), []string{"kustomize-controller(Apply)"}},
		{"list with items of two managers", deploy, container.Key("env"), []string{"kubectl-set(Update)", "kustomize-controller(Apply)"}},
		// An entry without a time (the scale subresource) sorts last.
		{"whole object", deploy, p(), []string{"kubectl-set(Update)", "kubectl-label(Update)", "kustomize-controller(Apply)", "kubectl(Update,scale)"}},
		{"default owned by nobody", deploy, container.Key("imagePullPolicy"), nil},
		{"port keyed by port and protocol", svc, p("spec", "ports", 0, "targetPort"), []string{"kustomize-controller(Apply)"}},
		{"labels map created by kubectl label", svc, p("metadata", "labels"), []string{"kubectl-label(Update)"}},
		{"set-like list item", cm, p("metadata", "finalizers", 2), []string{"kubectl-patch(Update)"}},
		{"set-like list item of the applier", cm, p("metadata", "finalizers", 0), []string{"kustomize-controller(Apply)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, managers(tt.own.Owners(tt.path))); diff != "" {
				t.Errorf("Owners(%s) (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestOwnedLeaves(t *testing.T) {
	t.Parallel()
	own := mustOwnership(t, load(t, "configmap-finalizers.json"))
	got := own.OwnedLeaves(func(o Owner) bool { return o.Class == ClassHuman })
	var paths []string
	for k, f := range got {
		if k != f.Path.String() {
			t.Errorf("key %q for path %s", k, f.Path)
		}
		paths = append(paths, k+" "+strings.Join(managers(f.Owners), ","))
	}
	sort.Strings(paths)
	want := []string{"metadata.finalizers[1] kubectl-patch(Update)", "metadata.finalizers[2] kubectl-patch(Update)"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("OwnedLeaves (-want +got):\n%s", diff)
	}
}

func TestForeign(t *testing.T) {
	t.Parallel()
	humans := func(o Owner) bool { return o.Class == ClassHuman }
	agentApply := func(o Owner) bool { return o.Class == ClassAgent && o.Operation == "Apply" }
	deploy := load(t, "deployment-scaled-labelled.json")
	deployGit := load(t, "deployment-git.json")
	env := p("spec", "template", "spec", "containers", 0, "env")
	labelled := Owner{Manager: "kubectl-label", Operation: "Update", Time: at(t, "2026-11-21T09:30:00Z"), Class: ClassHuman}
	setEnv := Owner{Manager: "kubectl-set", Operation: "Update", Time: at(t, "2026-11-22T16:45:00Z"), Class: ClassHuman}
	patched := Owner{Manager: "kubectl-patch", Operation: "Update", Time: at(t, "2026-11-21T11:00:00Z"), Class: ClassHuman}
	applied := Owner{Manager: "kustomize-controller", Operation: "Apply", Time: at(t, "2026-11-20T10:00:00Z"), Class: ClassAgent}
	const byOther = "added by another manager"
	const byAgent = "not in Git any more (the GitOps agent applied it before)"

	withoutMode := load(t, "deployment-git.json")
	c0 := withoutMode["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	delete(c0, "env")
	delete(c0, "args")

	tests := []struct {
		name          string
		desired, live map[string]any
		include       func(Owner) bool
		want          []Change
	}{
		{
			// Replicas are set by Git: drift, but not a foreign field.
			// Items kubectl set env created are reported whole.
			name: "fields people added", desired: deployGit, live: deploy, include: humans,
			want: []Change{
				{Path: p("metadata", "labels", "owner"), Type: Extra, Live: "alice", Owners: []Owner{labelled}, Note: byOther},
				{Path: env.Index(1), Type: Extra, Live: m("name", "DEBUG", "value", "1"), Owners: []Owner{setEnv}, Note: byOther},
				{Path: env.Index(2), Type: Extra, Live: m("name", "TRACE", "value", "1"), Owners: []Owner{setEnv}, Note: byOther},
			},
		},
		{
			name: "fields Git no longer sets that the agent applied", desired: withoutMode, live: deploy, include: agentApply,
			want: []Change{
				{Path: p("spec", "template", "spec", "containers", 0, "args"), Type: Extra, Live: l("--port", "8080"), Owners: []Owner{applied}, Note: byAgent},
				{Path: env.Index(0), Type: Extra, Live: m("name", "MODE", "value", "prod"), Owners: []Owner{applied}, Note: byAgent},
			},
		},
		{
			name: "in sync with the agent", desired: deployGit, live: deploy, include: agentApply,
		},
		{
			name: "labels map created by kubectl label, Git sets no labels", desired: load(t, "service-git.json"), live: load(t, "service-labelled.json"), include: humans,
			want: []Change{{Path: p("metadata", "labels", "owner"), Type: Extra, Live: "alice", Owners: []Owner{labelled}, Note: byOther}},
		},
		{
			name: "finalizers added by kubectl patch", desired: load(t, "configmap-git.json"), live: load(t, "configmap-finalizers.json"), include: humans,
			want: []Change{
				{Path: p("metadata", "finalizers", 1), Type: Extra, Live: "example.com/a", Owners: []Owner{patched}, Note: byOther},
				{Path: p("metadata", "finalizers", 2), Type: Extra, Live: "example.com/b", Owners: []Owner{patched}, Note: byOther},
			},
		},
		{
			name:    "a field under a reported field is not repeated",
			desired: m("metadata", m("name", "x")),
			live: withManagedFields(m("metadata", m("name", "x", "annotations", m("a", "1", "b", "2"))),
				managedFields(t, "kubectl-annotate", "Update", "", "2026-11-21T11:00:00Z", `{"f:metadata":{"f:annotations":{"f:b":{}}}}`),
				managedFields(t, "kubectl-edit", "Update", "", "2026-11-20T11:00:00Z", `{"f:metadata":{"f:annotations":{}}}`),
			),
			include: humans,
			want: []Change{{
				Path: p("metadata", "annotations"), Type: Extra, Live: m("a", "1", "b", "2"), Note: byOther,
				Owners: []Owner{{Manager: "kubectl-edit", Operation: "Update", Time: at(t, "2026-11-20T11:00:00Z"), Class: ClassHuman}},
			}},
		},
		{
			name:    "several owners of one field, most recent first",
			desired: m("metadata", m("name", "x")),
			live: withManagedFields(m("metadata", m("name", "x", "labels", m("team", "a"))),
				managedFields(t, "kubectl-label", "Update", "", "2026-11-20T11:00:00Z", `{"f:metadata":{"f:labels":{"f:team":{}}}}`),
				managedFields(t, "k9s", "Update", "", "2026-11-21T11:00:00Z", `{"f:metadata":{"f:labels":{"f:team":{}}}}`),
			),
			include: humans,
			want: []Change{{
				Path: p("metadata", "labels", "team"), Type: Extra, Live: "a", Note: byOther,
				Owners: []Owner{
					{Manager: "k9s", Operation: "Update", Time: at(t, "2026-11-21T11:00:00Z"), Class: ClassHuman},
					{Manager: "kubectl-label", Operation: "Update", Time: at(t, "2026-11-20T11:00:00Z"), Class: ClassHuman},
				},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			own := mustOwnership(t, tt.live)
			got := Foreign(tt.desired, tt.live, own, tt.include)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Foreign (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplier(t *testing.T) {
	t.Parallel()
	const two = `{"f:data":{"f:a":{},"f:b":{}}}`
	const one = `{"f:data":{"f:c":{}}}`
	obj := func(entries ...map[string]any) map[string]any {
		return withManagedFields(m("metadata", m("name", "x"), "data", m("a", "1", "b", "2", "c", "3")), entries...)
	}
	tests := []struct {
		name string
		obj  map[string]any
		want string
	}{
		{"server-side apply, then scaled and labelled", load(t, "deployment-scaled-labelled.json"), "kustomize-controller"},
		{"Apply manager owning the most fields", obj(
			managedFields(t, "argocd-controller", "Apply", "", "", one),
			managedFields(t, "kustomize-controller", "Apply", "", "", two),
		), "kustomize-controller"},
		{"tie broken by name", obj(
			managedFields(t, "zeta", "Apply", "", "", one),
			managedFields(t, "alpha", "Apply", "", "", `{"f:data":{"f:a":{}}}`),
		), "alpha"},
		{"Apply on a subresource is not the applier", obj(
			managedFields(t, "status-writer", "Apply", "status", "", two),
			managedFields(t, "kubectl-client-side-apply", "Update", "", "", one),
		), "kubectl-client-side-apply"},
		{"client-side apply only", obj(managedFields(t, "kubectl-client-side-apply", "Update", "", "", two)), "kubectl-client-side-apply"},
		{"Apply preferred over client-side apply", obj(
			managedFields(t, "kubectl-client-side-apply", "Update", "", "", two),
			managedFields(t, "kubectl", "Apply", "", "", one),
		), "kubectl"},
		{"Updates only", obj(managedFields(t, "kubectl-create", "Update", "", "", two)), ""},
		{"no managedFields", m("metadata", m("name", "x")), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustOwnership(t, tt.obj).Applier(); got != tt.want {
				t.Errorf("Applier() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		manager string
		agents  []string
		want    Class
	}{
		{"argocd-controller", nil, ClassAgent},
		{"argocd-application-controller", nil, ClassAgent},
		{"kustomize-controller", nil, ClassAgent},
		{"helm-controller", nil, ClassAgent},
		{"kubectl-gitops", nil, ClassAgent},
		{"my-deployer", []string{"other", "my-deployer"}, ClassAgent},
		{"kubectl", []string{"kubectl"}, ClassAgent}, // given agents win
		{"kube-controller-manager", nil, ClassController},
		{"kubelet", nil, ClassController},
		{"cert-manager-cainjector", nil, ClassController},
		{"vpa-updater", nil, ClassController},
		{"my-operator", nil, ClassController},
		{"rollouts-controller", nil, ClassController},
		{"foo-controller-manager", nil, ClassController},
		{"kubectl", nil, ClassHuman},
		{"kubectl-edit", nil, ClassHuman},
		{"kubectl-client-side-apply", nil, ClassHuman},
		{"kubectl_complete", nil, ClassHuman},
		{"k9s", nil, ClassHuman},
		{"helm", nil, ClassHuman},
		{"Mozilla", nil, ClassHuman},
		{"Go-http-client", nil, ClassUnknown},
		{"terraform-provider-kubernetes", nil, ClassUnknown},
		{"", nil, ClassUnknown},
	}
	for _, tt := range tests {
		if got := Classify(tt.manager, tt.agents...); got != tt.want {
			t.Errorf("Classify(%q, %q) = %s, want %s", tt.manager, tt.agents, got, tt.want)
		}
	}
}

func TestOwnerString(t *testing.T) {
	t.Parallel()
	cet := time.FixedZone("CET", 3600)
	local := time.Date(2026, 11, 25, 11, 2, 11, 0, cet)
	tests := []struct {
		owner Owner
		want  string
	}{
		{Owner{Manager: "kubectl", Operation: "Update", Subresource: "scale", Time: &local}, "kubectl (Update, scale subresource) at 2026-11-25T10:02:11Z"},
		{Owner{Manager: "kustomize-controller", Operation: "Apply", Time: at(t, "2026-11-20T10:00:00Z")}, "kustomize-controller (Apply) at 2026-11-20T10:00:00Z"},
		{Owner{Manager: "kubectl", Operation: "Update", Subresource: "scale"}, "kubectl (Update, scale subresource)"},
	}
	for _, tt := range tests {
		if got := tt.owner.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestClassifyAgents(t *testing.T) {
	obj := map[string]any{"metadata": map[string]any{"managedFields": []any{
		map[string]any{"manager": "kubectl-client-side-apply", "operation": "Update", "fieldsType": "FieldsV1",
			"fieldsV1": map[string]any{"f:data": map[string]any{"f:a": map[string]any{}}}},
	}}, "data": map[string]any{"a": "1"}}
	own, err := NewOwnership(obj)
	if err != nil {
		t.Fatal(err)
	}
	if got := own.Entries()[0].Class; got != ClassHuman {
		t.Fatalf("before: class %q, want %q", got, ClassHuman)
	}
	own.ClassifyAgents("kubectl-client-side-apply")
	if got := own.Entries()[0].Class; got != ClassAgent {
		t.Errorf("after: class %q, want %q", got, ClassAgent)
	}
	if got := own.Owners(objpath.Path{"data", "a"}); len(got) != 1 || got[0].Class != ClassAgent {
		t.Errorf("Owners after ClassifyAgents: %+v", got)
	}
}

// TestItemOwners: the owners of a reordered list are the managers of the
// items whose order differs, not of another manager's item placed among
// them, however recent (TestListOrderDriftWithForeignItem depended on
// kubectl set env landing in the same second as the apply).
func TestItemOwners(t *testing.T) {
	t.Parallel()
	entry := func(manager, op, ts string, names ...string) map[string]any {
		fields := map[string]any{}
		for _, n := range names {
			fields[`k:{"name":"`+n+`"}`] = map[string]any{".": map[string]any{}, "f:name": map[string]any{}, "f:value": map[string]any{}}
		}
		return map[string]any{"manager": manager, "operation": op, "time": ts, "apiVersion": "v1", "fieldsType": "FieldsV1",
			"fieldsV1": map[string]any{"f:spec": map[string]any{"f:env": fields}}}
	}
	obj := map[string]any{
		"metadata": map[string]any{"managedFields": []any{
			entry("argocd-controller", "Apply", "2026-12-07T10:00:00Z", "A", "B"),
			entry("kubectl-set", "Update", "2026-12-07T10:00:05Z", "C"),
		}},
		"spec": map[string]any{"env": []any{
			map[string]any{"name": "A", "value": "1"},
			map[string]any{"name": "C", "value": "3"},
			map[string]any{"name": "B", "value": "2"},
		}},
	}
	own := mustOwnership(t, obj)
	p := objpath.Path{"spec", "env"}
	if got := managers(own.Owners(p)); !slices.Equal(got, []string{"kubectl-set(Update)", "argocd-controller(Apply)"}) {
		t.Fatalf("Owners of the list = %v (the fixture is not what the test means)", got)
	}
	for _, tc := range []struct {
		keys []any
		want []string
	}{
		{[]any{"A", "B"}, []string{"argocd-controller(Apply)"}},
		{[]any{"B", "C"}, []string{"kubectl-set(Update)", "argocd-controller(Apply)"}},
		{[]any{"Z"}, nil},
	} {
		if got := managers(own.ItemOwners(obj, p, "name", tc.keys)); !slices.Equal(got, tc.want) {
			t.Errorf("ItemOwners(%v) = %v, want %v", tc.keys, got, tc.want)
		}
	}
}
