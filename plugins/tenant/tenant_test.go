package tenant

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/metrics"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, controlplane.Options{ControllerManager: true, CRDs: true}))
}

type runResult struct {
	code           int
	stdout, stderr string
}

// runTenant runs the tenant command in-process; kubeconfig may be "".
func runTenant(t *testing.T, kubeconfig string, args ...string) runResult {
	t.Helper()
	r := clitest.Run(t, NewCmd, clitest.Options{Binary: "kubectl-gitops-tenant", Kubeconfig: kubeconfig}, args...)
	return runResult{r.Code, r.Stdout, r.Stderr}
}

func kubectl(t *testing.T, cp *controlplane.ControlPlane, args ...string) string {
	t.Helper()
	out, err := cp.Kubectl(t.Context(), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

const twoTenants = `apiVersion: kubectl-gitops.io/v1alpha1
kind: Tenants
tenants:
- name: acme
  namespaces: [acme-prod, acme-dev]
  owners: {groups: [acme-admins], users: [alice]}
  operator: both
  repos: [https://github.com/example/acme.git]
  ingressNamespace: ingress-nginx
- name: globex
  namespaces: [globex]
  owners: {groups: [globex-admins]}
  operator: argocd
  repos: [https://github.com/example/globex.git]
  podSecurity: baseline
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The acceptance: two tenants generated and applied verify as
// isolated; a cluster-wide `edit` binding for one tenant's group is named as
// a leak; a removed NetworkPolicy is reported.
func TestAcceptance(t *testing.T) {
	cp := controlplane.ForTest(t)
	work := t.TempDir()
	dir := filepath.Join(work, "tenants")
	spec := writeFile(t, work, "tenants.yaml", twoTenants)
	kubectl(t, cp, "create", "namespace", "argocd")

	if r := runTenant(t, "", "render", "-f", spec, "--dir", dir); r.code != 0 {
		t.Fatalf("render: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runTenant(t, cp.Kubeconfig, "apply", "acme", "globex", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Namespaces first.
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for i, l := range lines[:3] {
		if !strings.HasPrefix(l, "Namespace ") {
			t.Errorf("apply line %d is %q, want a Namespace first", i, l)
		}
	}
	for _, want := range []string{"AppProject.argoproj.io argocd/acme serverside-applied", "Kustomization.kustomize.toolkit.fluxcd.io acme-dev/acme serverside-applied",
		"GitRepository.source.toolkit.fluxcd.io acme-prod/acme serverside-applied", "NetworkPolicy.networking.k8s.io globex/default-deny serverside-applied"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, r.stdout)
		}
	}

	for _, name := range []string{"acme", "globex"} {
		r := runTenant(t, cp.Kubeconfig, "verify", name, "--dir", dir)
		if r.code != 0 {
			t.Fatalf("verify %s: exit %d, want 0\n%s%s", name, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, "isolated") {
			t.Errorf("verify %s output:\n%s", name, r.stdout)
		}
	}

	// JSON: every review answered as wanted, with the foreign namespaces
	// including the other tenant's.
	r = runTenant(t, cp.Kubeconfig, "verify", "acme", "--dir", dir, "-o", "json")
	var rep struct {
		Isolated          bool     `json:"isolated"`
		ForeignNamespaces []string `json:"foreignNamespaces"`
		Reviews           []struct {
			Subject   tenancy.Subject `json:"subject"`
			Want      bool            `json:"want"`
			Allowed   bool            `json:"allowed"`
			Scope     string          `json:"scope"`
			Namespace string          `json:"namespace"`
		} `json:"reviews"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify -o json: %v\n%s", err, r.stdout)
	}
	if r.code != 0 || !rep.Isolated {
		t.Fatalf("verify -o json: exit %d isolated %v\n%s", r.code, rep.Isolated, r.stderr)
	}
	if !strings.Contains(strings.Join(rep.ForeignNamespaces, ","), "globex") {
		t.Errorf("foreign namespaces %v lack globex", rep.ForeignNamespaces)
	}
	var allowed, denied int
	subjects := map[string]bool{}
	for _, rv := range rep.Reviews {
		subjects[rv.Subject.String()] = true
		if rv.Allowed != rv.Want {
			t.Errorf("review %+v: allowed %v", rv, rv.Allowed)
		}
		if rv.Allowed {
			allowed++
		} else {
			denied++
		}
	}
	if allowed == 0 || denied == 0 {
		t.Errorf("matrix has %d allowed and %d denied reviews; want both", allowed, denied)
	}
	for _, s := range []string{"group:acme-admins", "alice", "system:serviceaccount:acme-prod:gitops-reconciler", "gotk:acme-dev:reconciler"} {
		if !subjects[s] {
			t.Errorf("no review for subject %s (have %v)", s, subjects)
		}
	}

	// A cluster-wide edit binding for acme's group leaks into globex.
	kubectl(t, cp, "create", "clusterrolebinding", "acme-edit-everywhere", "--clusterrole=edit", "--group=acme-admins")
	r = runTenant(t, cp.Kubeconfig, "verify", "acme", "--dir", dir)
	if r.code != 1 {
		t.Fatalf("verify after the leak: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"LEAK group:acme-admins can create deployments.apps in namespace globex",
		"LEAK group:acme-admins can get secrets in namespace kube-system",
		"LEAK group:acme-admins can list secrets in the cluster (all namespaces)",
		"LEAK group:acme-admins can impersonate serviceaccounts in the cluster (all namespaces)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "tenant acme is NOT isolated") {
		t.Errorf("stderr: %q", r.stderr)
	}
	if strings.Contains(r.stdout, "LEAK alice") || strings.Contains(r.stdout, "LEAK system:serviceaccount") {
		t.Errorf("leak attributed to a subject the binding does not cover:\n%s", r.stdout)
	}
	// The other tenant is still isolated: the leak is acme's.
	if r := runTenant(t, cp.Kubeconfig, "verify", "globex", "--dir", dir); r.code != 0 {
		t.Errorf("verify globex: exit %d\n%s", r.code, r.stdout)
	}
	kubectl(t, cp, "delete", "clusterrolebinding", "acme-edit-everywhere")
	if r := runTenant(t, cp.Kubeconfig, "verify", "acme", "--dir", dir); r.code != 0 {
		t.Fatalf("verify after removing the binding: exit %d\n%s", r.code, r.stdout)
	}

	// A removed default-deny NetworkPolicy is reported.
	kubectl(t, cp, "delete", "networkpolicy", "default-deny", "-n", "globex")
	r = runTenant(t, cp.Kubeconfig, "verify", "globex", "--dir", dir, "-o", "json")
	if r.code != 1 {
		t.Fatalf("verify without the NetworkPolicy: exit %d, want 1\n%s", r.code, r.stdout)
	}
	var guards struct {
		Guards []tenancy.GuardResult `json:"guards"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &guards); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range guards.Guards {
		if g.Kind == "NetworkPolicy" && g.Namespace == "globex" && g.Name == "default-deny" {
			found = true
			if g.Status != tenancy.GuardMissing {
				t.Errorf("default-deny status %q, want missing", g.Status)
			}
		} else if g.Failed() {
			t.Errorf("unexpected failed guard %+v", g)
		}
	}
	if !found {
		t.Errorf("no guard result for the deleted NetworkPolicy: %+v", guards.Guards)
	}

	// A weakened guard: the PSA label lowered by hand.
	kubectl(t, cp, "label", "namespace", "acme-dev", "--overwrite", "pod-security.kubernetes.io/enforce=privileged")
	r = runTenant(t, cp.Kubeconfig, "verify", "acme", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, `GUARD Namespace /acme-dev weakened: label pod-security.kubernetes.io/enforce is "privileged", want "restricted"`) {
		t.Errorf("verify with a lowered PSA label: exit %d\n%s", r.code, r.stdout)
	}
}

// The owners really are confined: the generated RoleBindings, applied to a
// real RBAC-enforcing API server, let an owner create in its namespace and
// refuse it in the other tenant's, with its own client certificate.
func TestOwnerIsConfinedOnTheRealServer(t *testing.T) {
	cp := controlplane.ForTest(t)
	dir := filepath.Join(t.TempDir(), "tenants")
	if r := runTenant(t, "", "create", "initech", "-n", "initech", "--admin-group", "initech-admins", "--dir", dir); r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	if r := runTenant(t, "", "create", "hooli", "-n", "hooli", "--admin-user", "gavin", "--dir", dir); r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	if r := runTenant(t, cp.Kubeconfig, "apply", "initech", "hooli", "--dir", dir); r.code != 0 {
		t.Fatalf("apply: %d %s%s", r.code, r.stdout, r.stderr)
	}
	cfg, err := cp.UserConfig("peter", "initech-admins")
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	cm := func(ns string) error {
		_, err := cs.CoreV1().ConfigMaps(ns).Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "probe"}}, metav1.CreateOptions{})
		return err
	}
	if err := cm("initech"); err != nil {
		t.Errorf("owner cannot create a ConfigMap in its namespace: %v", err)
	}
	if err := cm("hooli"); err == nil {
		t.Error("owner created a ConfigMap in the other tenant's namespace")
	}
	_, err = cs.CoreV1().ResourceQuotas("initech").Patch(t.Context(), tenancy.QuotaName, types.MergePatchType,
		[]byte(`{"spec":{"hard":{"pods":"5000"}}}`), metav1.PatchOptions{})
	if err == nil {
		t.Error("owner raised its own ResourceQuota")
	}
	for _, name := range []string{"initech", "hooli"} {
		if r := runTenant(t, cp.Kubeconfig, "verify", name, "--dir", dir); r.code != 0 {
			t.Errorf("verify %s: exit %d\n%s", name, r.code, r.stdout)
		}
	}
}

// Every generated Argo CD and Flux object is accepted by the real CRDs:
// server-side apply dry run with strict field validation, so an unknown or
// misspelt field fails instead of being pruned.
func TestGeneratedCustomResourcesAcceptedByCRDs(t *testing.T) {
	cp := controlplane.ForTest(t)
	tn := &tenancy.Tenant{
		Name: "crd-check", Namespaces: []string{"crd-check-a", "crd-check-b"},
		Owners:   tenancy.Owners{Groups: []string{"g"}},
		Operator: tenancy.OperatorBoth, Repos: []string{"https://github.com/example/crd-check.git"},
		ArgoCD: tenancy.ArgoCDSettings{Namespace: "argocd-crd-check"},
	}
	if err := tenancy.Validate([]*tenancy.Tenant{tn}); err != nil {
		t.Fatal(err)
	}
	groups, err := tenancy.Generate(tn)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range append(tn.Namespaces, tn.ArgoCD.Namespace) {
		kubectl(t, cp, "create", "namespace", ns)
	}
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cp.RESTConfig())
	kinds := map[string]int{}
	for _, o := range tenancy.Objects(groups) {
		m, err := client.Mapping(t.Context(), o.GroupVersionKind())
		if err != nil {
			t.Fatalf("%s: %v", o.GetKind(), err)
		}
		data, err := json.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if o.GetNamespace() != "" {
			ri = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		_, err = ri.Patch(t.Context(), o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
			FieldManager: FieldManager, DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict",
		})
		if err != nil {
			t.Errorf("%s %s/%s rejected: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		kinds[o.GetKind()]++
	}
	for _, k := range []string{"AppProject", "GitRepository", "Kustomization", "Namespace", "RoleBinding", "Role", "NetworkPolicy", "ResourceQuota", "LimitRange", "ServiceAccount"} {
		if kinds[k] == 0 {
			t.Errorf("no %s generated", k)
		}
	}

	// The same objects through `tenant apply --dry-run`.
	dir := filepath.Join(t.TempDir(), "tenants")
	files, err := tenancy.Render(tn)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := runTenant(t, cp.Kubeconfig, "apply", "crd-check", "--dir", dir, "--dry-run")
	if r.code != 0 {
		t.Fatalf("apply --dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stdout, "serverside-applied (server dry run)"); n != len(tenancy.Objects(groups)) {
		t.Errorf("%d objects dry-run applied, want %d:\n%s", n, len(tenancy.Objects(groups)), r.stdout)
	}
	if out := kubectl(t, cp, "get", "appprojects.argoproj.io", "-A", "-o", "name"); strings.Contains(out, "crd-check") {
		t.Errorf("dry run persisted an AppProject: %s", out)
	}
}

// Every namespace the tenant does not own is foreign to each of its
// subjects: the operators' and the suite's namespaces, a live namespace no
// tenant claims, and another tenant's. An admin binding of any subject in
// any of them is a leak named by subject, verb, resource and namespace.
func TestVerifyFindsAdminBindingsInEveryForeignNamespace(t *testing.T) {
	cp := controlplane.ForTest(t)
	dir := filepath.Join(t.TempDir(), "tenants")
	for _, args := range [][]string{
		{"create", "umbrella", "-n", "umbrella", "--admin-group", "umbrella-admins", "--admin-user", "wesker",
			"--operator", "flux", "--repo", "https://github.com/example/umbrella.git", "--dir", dir},
		{"create", "tyrell", "-n", "tyrell", "--admin-group", "tyrell-admins", "--dir", dir},
	} {
		if r := runTenant(t, "", args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	if r := runTenant(t, cp.Kubeconfig, "apply", "umbrella", "tyrell", "--dir", dir); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The operators', the suite's, and a namespace no tenant claims.
	for _, ns := range []string{"argocd", "flux-system", "kubectl-gitops", "payments"} {
		if err := cp.Kubectl(t.Context(), "get", "namespace", ns).Run(); err != nil {
			kubectl(t, cp, "create", "namespace", ns)
		}
	}
	if r := runTenant(t, cp.Kubeconfig, "verify", "umbrella", "--dir", dir); r.code != 0 {
		t.Fatalf("verify before any binding: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}

	tests := []struct {
		name      string
		namespace string
		subject   string // kubectl create rolebinding flag
		who       string // as verify names it
	}{
		{"owner group in argocd", "argocd", "--group=umbrella-admins", "group:umbrella-admins"},
		{"owner group in flux-system", "flux-system", "--group=umbrella-admins", "group:umbrella-admins"},
		{"owner group in the suite's namespace", "kubectl-gitops", "--group=umbrella-admins", "group:umbrella-admins"},
		{"owner group in an unclaimed namespace", "payments", "--group=umbrella-admins", "group:umbrella-admins"},
		{"owner user in another tenant's namespace", "tyrell", "--user=wesker", "wesker"},
		{"reconciler in another tenant's namespace", "tyrell", "--serviceaccount=umbrella:gitops-reconciler", "system:serviceaccount:umbrella:gitops-reconciler"},
		{"reconciler in argocd", "argocd", "--serviceaccount=umbrella:gitops-reconciler", "system:serviceaccount:umbrella:gitops-reconciler"},
		{"flux reconciler user in flux-system", "flux-system", "--user=gotk:umbrella:reconciler", "gotk:umbrella:reconciler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kubectl(t, cp, "create", "rolebinding", "leak", "--clusterrole=admin", tc.subject, "-n", tc.namespace)
			defer kubectl(t, cp, "delete", "rolebinding", "leak", "-n", tc.namespace)
			r := runTenant(t, cp.Kubeconfig, "verify", "umbrella", "--dir", dir)
			if r.code != 1 {
				t.Fatalf("verify: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, want := range []string{
				"LEAK " + tc.who + " can get secrets in namespace " + tc.namespace + " (RBAC: allowed by RoleBinding \"leak/" + tc.namespace + "\"",
				"LEAK " + tc.who + " can create deployments.apps in namespace " + tc.namespace + " ",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("verify output lacks %q:\n%s", want, r.stdout)
				}
			}
			if n := strings.Count(r.stdout, "  LEAK "); n != 7 {
				t.Errorf("%d leaks, want the 7 foreign reviews of %s in %s:\n%s", n, tc.who, tc.namespace, r.stdout)
			}
			if !strings.Contains(r.stderr, "tenant umbrella is NOT isolated") {
				t.Errorf("stderr: %q", r.stderr)
			}
		})
	}
	if r := runTenant(t, cp.Kubeconfig, "verify", "umbrella", "--dir", dir); r.code != 0 {
		t.Errorf("verify after removing the bindings: exit %d, want 0\n%s", r.code, r.stdout)
	}
}

// limiterWaits counts the requests that waited on a client-side rate
// limiter (client-go observes each one), by path.
type limiterWaits struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *limiterWaits) Observe(_ context.Context, _ string, u url.URL, _ time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n[u.Path]++
}

func (l *limiterWaits) reviews() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for p, c := range l.n {
		if strings.HasSuffix(p, "/subjectaccessreviews") {
			n += c
		}
	}
	clear(l.n)
	return n
}

// verify's reviews are paced by the server's priority and fairness, never
// by a client-side limiter (one of 100/s made a tenant take 5 s at any
// load): not one review passes through a rate limiter.
func TestVerifyReviewsAreNotThrottledByTheClient(t *testing.T) {
	cp := controlplane.ForTest(t)
	waits := &limiterWaits{n: map[string]int{}}
	metrics.Register(metrics.RegisterOpts{RateLimiterLatency: waits})

	// The probe works: a client with client-go's default limiter is seen.
	cfg := cp.RESTConfig()
	cfg.QPS, cfg.Burst = 5, 10
	cs := kubernetes.NewForConfigOrDie(cfg)
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: "probe", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "default"}}}
	if _, err := cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := waits.reviews(); n != 1 {
		t.Fatalf("a rate-limited review was observed %d times, want 1: the probe does not work", n)
	}

	dir := filepath.Join(t.TempDir(), "tenants")
	if r := runTenant(t, "", "create", "wonka", "-n", "wonka", "-n", "wonka-dev", "--admin-group", "wonka-admins", "--dir", dir); r.code != 0 {
		t.Fatalf("create: exit %d\n%s", r.code, r.stderr)
	}
	if r := runTenant(t, cp.Kubeconfig, "apply", "wonka", "--dir", dir); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runTenant(t, cp.Kubeconfig, "verify", "wonka", "--dir", dir, "-o", "json")
	if r.code != 0 {
		t.Fatalf("verify: exit %d\n%s", r.code, r.stderr)
	}
	var rep struct{ Reviews []json.RawMessage }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Reviews) < 100 {
		t.Fatalf("verify made %d reviews (%v), want a full matrix", len(rep.Reviews), err)
	}
	if n := waits.reviews(); n != 0 {
		t.Errorf("%d of verify's %d reviews went through a client-side rate limiter, want none", n, len(rep.Reviews))
	}
}

// TestCreateRefusesAnotherTenantsNamespace: create refuses a namespace whose
// live Namespace carries another tenant's label (Flux's or this tool's),
// and one that a tenant directory written by another tool (Flux's layout)
// gives to another tenant; it writes nothing. The tenant's own label and an
// unlabelled namespace are fine.
func TestCreateRefusesAnotherTenantsNamespace(t *testing.T) {
	cp := controlplane.ForTest(t)
	dir := filepath.Join(t.TempDir(), "tenants")
	kubectl(t, cp, "create", "namespace", "flux-owned")
	kubectl(t, cp, "label", "namespace", "flux-owned", tenancy.LabelFluxTenant+"=dev-team")
	kubectl(t, cp, "create", "namespace", "ours-owned")
	kubectl(t, cp, "label", "namespace", "ours-owned", tenancy.LabelTenant+"=globex")
	kubectl(t, cp, "create", "namespace", "own-label")
	kubectl(t, cp, "label", "namespace", "own-label", tenancy.LabelFluxTenant+"=acme")
	kubectl(t, cp, "create", "namespace", "unlabelled")

	for _, tt := range []struct{ ns, want string }{
		{"flux-owned", `--namespace: namespace "flux-owned" already belongs to tenant "dev-team" (cluster Namespace flux-owned)`},
		{"ours-owned", `--namespace: namespace "ours-owned" already belongs to tenant "globex" (cluster Namespace ours-owned)`},
	} {
		r := runTenant(t, cp.Kubeconfig, "create", "acme", "-n", "acme", "-n", tt.ns, "--admin-group", "g", "--dir", dir)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("create -n %s: exit %d, want 2 and %q\n%s%s", tt.ns, r.code, tt.want, r.stdout, r.stderr)
		}
		if fileExists(dir) {
			t.Fatalf("create -n %s wrote %s", tt.ns, dir)
		}
	}

	// A tenant directory in Flux's layout, no tenant.yaml.
	flux := filepath.Join(dir, "dev-team")
	if err := os.MkdirAll(flux, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, flux, "rbac.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels:\n    toolkit.fluxcd.io/tenant: dev-team\n")
	before := snapshot(t, dir)
	r := runTenant(t, cp.Kubeconfig, "create", "acme", "-n", "apps", "--admin-group", "g", "--dir", dir)
	want := `--namespace: namespace "apps" already belongs to tenant "dev-team" (` + filepath.Join(dir, "dev-team", "rbac.yaml") + `)`
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("create -n apps: exit %d, want 2 and %q\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a refused create changed files:\n%s", diff)
	}

	r = runTenant(t, cp.Kubeconfig, "create", "acme", "-n", "own-label", "-n", "unlabelled", "-n", "not-yet", "--admin-group", "g", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("create on free namespaces: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !fileExists(filepath.Join(dir, "acme", tenancy.FileSpec)) {
		t.Error("create wrote no tenant.yaml")
	}
}

// TestListShowsForeignTenants: list shows tenants it did not write, from
// the tenant labels of live Namespaces, Flux Kustomizations and Argo CD
// AppProjects, and from a foreign tenant directory, after its own.
func TestListShowsForeignTenants(t *testing.T) {
	cp := controlplane.ForTest(t)
	work := t.TempDir()
	dir := filepath.Join(work, "tenants")
	if r := runTenant(t, cp.Kubeconfig, "create", "acme", "-n", "acme", "--admin-group", "g", "--dir", dir); r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	// A tenant written by `flux create tenant`, on the cluster only.
	kubectl(t, cp, "create", "namespace", "orbit-apps")
	kubectl(t, cp, "label", "namespace", "orbit-apps", tenancy.LabelFluxTenant+"=orbit")
	manifests := writeFile(t, work, "foreign.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: argocd}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: orbit
  namespace: orbit-apps
  labels: {toolkit.fluxcd.io/tenant: orbit}
spec:
  interval: 5m
  path: ./
  prune: true
  sourceRef: {kind: GitRepository, name: orbit}
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: payments
  namespace: argocd
  labels: {kubectl-gitops.io/tenant: payments}
spec:
  destinations:
  - {server: https://kubernetes.default.svc, namespace: payments}
  - {server: https://kubernetes.default.svc, namespace: "payments-*"}
  sourceRepos: ["*"]
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: unlabelled
  namespace: argocd
spec:
  destinations: [{server: https://kubernetes.default.svc, namespace: other}]
`)
	kubectl(t, cp, "apply", "-f", manifests)
	// A tenant directory in Flux's layout.
	if err := os.MkdirAll(filepath.Join(dir, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "web"), "rbac.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n  labels: {toolkit.fluxcd.io/tenant: web}\n")

	r := runTenant(t, cp.Kubeconfig, "list", "--dir", dir, "-o", "json")
	if r.code != 0 {
		t.Fatalf("list: %d %s", r.code, r.stderr)
	}
	var got []tenantSummary
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	// The control plane is shared: keep the tenants of this test.
	mine := map[string]bool{"acme": true, "orbit": true, "payments": true, "web": true}
	kept := got[:0]
	for _, s := range got {
		if mine[s.Name] {
			kept = append(kept, s)
		}
	}
	got = kept
	want := []tenantSummary{
		{Name: "acme", Namespaces: []string{"acme"}, Operator: "none", Owners: []string{"group:g"}, Dir: filepath.Join(dir, "acme"), Managed: true},
		{Name: "orbit", Namespaces: []string{"orbit-apps"}, Operator: "flux", Sources: []string{"cluster Kustomization orbit-apps/orbit", "cluster Namespace orbit-apps"}},
		{Name: "payments", Namespaces: []string{"payments"}, Operator: "argocd", Sources: []string{"cluster AppProject argocd/payments"}},
		{Name: "web", Namespaces: []string{"web"}, Sources: []string{filepath.Join(dir, "web", "rbac.yaml")}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list -o json (-want +got):\n%s", diff)
	}
	r = runTenant(t, cp.Kubeconfig, "list", "--dir", dir)
	for _, line := range []string{"acme ", "orbit ", "payments ", "web "} {
		if !strings.Contains(r.stdout, "\n"+line) {
			t.Errorf("table lacks %q:\n%s", line, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "SOURCE") || !strings.Contains(r.stdout, "tenant.yaml") {
		t.Errorf("table has no SOURCE column:\n%s", r.stdout)
	}
}
