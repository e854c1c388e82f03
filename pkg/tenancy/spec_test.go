package tenancy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const header = "apiVersion: kubectl-gitops.io/v1alpha1\nkind: Tenants\ntenants:\n"

func TestParseErrorsNameFileLineAndField(t *testing.T) {
	tests := []struct {
		name string
		body string // after the header: line 4 is the first tenant line
		want []string
	}{
		{"invalid tenant name", "- name: Team_A\n  namespaces: [a]\n  owners: {groups: [g]}\n",
			[]string{`t.yaml:4:3: tenants[0].name: invalid name "Team_A": a lowercase RFC 1123 label`}},
		{"invalid namespace", "- name: a\n  namespaces: [ok, -bad]\n  owners: {groups: [g]}\n",
			[]string{`t.yaml:5:20: tenants[0].namespaces[1]: invalid name "-bad"`}},
		{"overlapping namespaces", "- name: a\n  namespaces: [shared]\n  owners: {groups: [g]}\n- name: b\n  namespaces:\n  - own\n  - shared\n  owners: {groups: [g]}\n",
			[]string{`t.yaml:10:5: tenants[1].namespaces[1]: namespace "shared" already belongs to tenant "a" (t.yaml tenants[0])`}},
		{"unknown operator", "- name: a\n  namespaces: [a]\n  owners: {groups: [g]}\n  operator: argo\n",
			[]string{`t.yaml:7:3: tenants[0].operator: unknown operator "argo": must be one of none, argocd, flux, both`}},
		{"quota syntax", "- name: a\n  namespaces: [a]\n  owners: {groups: [g]}\n  quota:\n    pods: \"50\"\n    requests.cpu: 8 cores\n",
			[]string{`t.yaml:9:5: tenants[0].quota.requests.cpu: invalid quantity "8 cores"`}},
		{"limit syntax", "- name: a\n  namespaces: [a]\n  owners: {groups: [g]}\n  limits:\n    max: {memory: 2GB}\n",
			[]string{`t.yaml:8:11: tenants[0].limits.max.memory: invalid quantity "2GB"`}},
		{"unknown field", "- name: a\n  namespaces: [a]\n  owners: {groups: [g]}\n  namespace: b\n",
			[]string{`t.yaml:7:3: tenants[0].namespace: unknown field (want name, namespaces,`}},
		{"wrong type", "- name: a\n  namespaces: a\n  owners: {groups: [g]}\n",
			[]string{`t.yaml:5:15: tenants[0].namespaces: must be a list of strings, not a single value (write [a])`}},
		{"duplicate tenant", "- name: a\n  namespaces: [a]\n  owners: {groups: [g]}\n- name: a\n  namespaces: [b]\n  owners: {groups: [g]}\n",
			[]string{`t.yaml:7:3: tenants[1].name: tenant "a" is defined twice (also t.yaml tenants[0])`}},
		{"missing owners", "- name: a\n  namespaces: [a]\n",
			[]string{`t.yaml:4:3: tenants[0].owners: at least one owner user or group is required`}},
		{"repository pattern", "- name: a\n  namespaces: [a]\n  owners: {groups: [g]}\n  operator: argocd\n  repos: ['*']\n",
			[]string{`t.yaml:8:11: tenants[0].repos[0]: "*" is a pattern`}},
		{"flux needs a git url", "- name: a\n  namespaces: [a]\n  owners: {groups: [g]}\n  operator: flux\n  repos: [git@github.com:x/y.git]\n",
			[]string{`t.yaml:8:11: tenants[0].repos[0]: "git@github.com:x/y.git" is not a Git URL Flux accepts`}},
		{"several errors, in line order", "- name: a\n  namespaces: [kube-system]\n  owners: {groups: [system:masters]}\n  podSecurity: privileged\n",
			[]string{
				`t.yaml:5:16: tenants[0].namespaces[0]: namespace "kube-system" is reserved for the platform`,
				`t.yaml:6:21: tenants[0].owners.groups[0]: "system:masters" is a system group`,
				`t.yaml:7:3: tenants[0].podSecurity: unknown Pod Security level "privileged"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(header+tt.body))
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, lines[i], w)
				}
			}
		})
	}
}

func TestParseDocumentErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"empty", "", "t.yaml: tenants: the file is empty"},
		{"wrong kind", "apiVersion: kubectl-gitops.io/v1alpha1\nkind: Tenant\ntenants: []\n", `t.yaml:2:7: kind: must be Tenants, not "Tenant"`},
		{"no tenants", "apiVersion: kubectl-gitops.io/v1alpha1\nkind: Tenants\n", "t.yaml:1:1: tenants: missing"},
		{"two documents", header + "- name: a\n---\nfoo: bar\n", "t.yaml:5:1: (document): only one YAML document is allowed"},
		{"syntax", "tenants: [\n", "t.yaml:1: (document): invalid YAML: did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.doc))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v, want %s…", err, tt.want)
			}
		})
	}
}

func TestFlagTenantErrorsUseSpecFields(t *testing.T) {
	tn := &Tenant{Name: "a", Namespaces: []string{"a"}, Owners: Owners{Users: []string{"u"}}, Quota: map[string]string{"cpu": "x"}}
	err := Validate([]*Tenant{tn})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("got %v", err)
	}
	if got := list[0].Error(); !strings.HasPrefix(got, `quota.cpu: invalid quantity "x"`) {
		t.Errorf("got %q", got)
	}
}

func TestEditResources(t *testing.T) {
	got, err := EditResources(nil, []string{"b", "a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - a\n  - b\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	again, err := EditResources(got, []string{"a"}, nil)
	if err != nil || string(again) != string(got) {
		t.Errorf("adding an existing entry changed the file: %v\n%s", err, again)
	}
	removed, err := EditResources(got, nil, []string{"a"})
	if err != nil || !strings.HasSuffix(string(removed), "resources:\n  - b\n") {
		t.Errorf("remove: %v\n%s", err, removed)
	}
	if _, err := EditResources([]byte("resources: x\n"), []string{"a"}, nil); err == nil {
		t.Error("a resources scalar was accepted")
	}
}

func TestPlanCoversTheMatrix(t *testing.T) {
	tn := &Tenant{Name: "a", Namespaces: []string{"a1", "a2"}, Owners: Owners{Groups: []string{"g"}}, Operator: OperatorBoth, Repos: []string{"https://x/y.git"},
		ArgoCD: ArgoCDSettings{Namespace: "gitops"}}
	if err := Validate([]*Tenant{tn}); err != nil {
		t.Fatal(err)
	}
	// Every namespace but a1 and a2: the other tenant's, the platform's
	// (also the tenant's own Argo CD namespace) and the live ones.
	foreign := ForeignNamespaces(tn, []*Tenant{{Name: "b", Namespaces: []string{"b1", "a1"}}}, []string{"a2", "payments", "kube-system"})
	want := []string{"argocd", "b1", "default", "flux-system", "gitops", "kube-node-lease", "kube-public", "kube-system", "kubectl-gitops", "payments"}
	if diff := cmp.Diff(want, foreign); diff != "" {
		t.Errorf("foreign namespaces (-want +got):\n%s", diff)
	}
	plan := Plan(tn, foreign)
	has := func(subject, verb, res, ns string, want bool) {
		t.Helper()
		for _, r := range plan {
			if r.Subject.String() == subject && r.Verb == verb && r.GroupResource() == res && r.Namespace == ns {
				if r.Want != want {
					t.Errorf("%s %s %s in %q: want %v, planned %v", subject, verb, res, ns, want, r.Want)
				}
				return
			}
		}
		t.Errorf("no review of %s %s %s in %q", subject, verb, res, ns)
	}
	has("group:g", "create", "deployments.apps", "a2", true)
	has("group:g", "update", "resourcequotas", "a1", false)
	has("group:g", "get", "secrets", "b1", false)
	has("group:g", "bind", "clusterroles.rbac.authorization.k8s.io", "", false)
	has("group:g", "impersonate", "users", "", false)
	has("group:g", "create", "customresourcedefinitions.apiextensions.k8s.io", "", false)
	has("system:serviceaccount:a1:gitops-reconciler", "create", "deployments.apps", "a1", true)
	has("system:serviceaccount:a1:gitops-reconciler", "create", "deployments.apps", "a2", false)
	has("system:serviceaccount:a1:gitops-reconciler", "delete", "networkpolicies.networking.k8s.io", "a1", false)
	has("gotk:a2:reconciler", "create", "rolebindings.rbac.authorization.k8s.io", "a2", false)
	has("gotk:a2:reconciler", "get", "pods", "kube-system", false)
	for _, ns := range []string{"argocd", "flux-system", "kubectl-gitops", "payments"} {
		has("group:g", "get", "secrets", ns, false)
		has("system:serviceaccount:a1:gitops-reconciler", "create", "rolebindings.rbac.authorization.k8s.io", ns, false)
	}
}

type fakeGetter map[string]*unstructured.Unstructured

func (f fakeGetter) Get(_ context.Context, gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
	if o, ok := f[gvk.Kind+"/"+ns+"/"+name]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: gvk.Kind}, name)
}

func TestFluxLockdownCheck(t *testing.T) {
	deploy := func(args ...any) fakeGetter {
		return fakeGetter{"Deployment/flux-system/kustomize-controller": {Object: map[string]any{
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "manager", "args": args},
			}}}},
		}}}
	}
	tests := []struct {
		name       string
		get        fakeGetter
		status     string
		msgContain string
	}{
		{"not installed", fakeGetter{}, GuardSkipped, "not installed"},
		{"locked down", deploy("--watch-all-namespaces", "--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=default"), GuardOK, ""},
		{"separate values", deploy("--no-cross-namespace-refs", "--no-remote-bases", "--default-service-account", "default"), GuardOK, ""},
		{"cross-namespace refs allowed", deploy("--no-cross-namespace-refs=false", "--no-remote-bases=true", "--default-service-account=default"), GuardWeakened, "--no-cross-namespace-refs=true is not set"},
		{"remote bases allowed", deploy("--no-cross-namespace-refs=true", "--no-remote-bases=false", "--default-service-account=default"), GuardWeakened, "--no-remote-bases=true is not set"},
		{"no default service account", deploy("--no-cross-namespace-refs=true", "--no-remote-bases=true"), GuardWeakened, "--default-service-account is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkFluxLockdown(context.Background(), tt.get)
			if got.Status != tt.status || !strings.Contains(got.Message, tt.msgContain) {
				t.Errorf("got %+v, want status %s with %q", got, tt.status, tt.msgContain)
			}
		})
	}
}

// A live AppProject's extra source repository is named in the finding
// without its user information: cluster data may hold a token.
func TestAppProjectFindingRedactsRepoCredentials(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	tn := &Tenant{Name: "a", Namespaces: []string{"a1"}, Owners: Owners{Groups: []string{"g"}}, Operator: OperatorArgoCD, Repos: []string{"https://x/y.git"}}
	if err := Validate([]*Tenant{tn}); err != nil {
		t.Fatal(err)
	}
	o := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{
		"sourceRepos": []any{"https://x/y.git", "https://bob:" + canary + "@git.example.com/other.git"},
	}}}
	got := strings.Join(checkAppProject(o, tn), "; ")
	if !strings.Contains(got, `spec.sourceRepos allows "https://git.example.com/other.git"`) || strings.Contains(got, canary) {
		t.Errorf("findings %q: want the extra repository named without its credentials", got)
	}
}
