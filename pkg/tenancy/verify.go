package tenancy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
)

// Subject is an identity whose access verify reviews.
type Subject struct {
	// Kind is User, Group or ServiceAccount.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Namespace of a ServiceAccount.
	Namespace string `json:"namespace,omitempty"`
}

func (s Subject) String() string {
	switch s.Kind {
	case "ServiceAccount":
		return "system:serviceaccount:" + s.Namespace + ":" + s.Name
	case "Group":
		return "group:" + s.Name
	default:
		return s.Name
	}
}

// Scope says where a review sits in the matrix.
type Scope string

// Scopes.
const (
	// ScopeOwn: one of the tenant's namespaces.
	ScopeOwn Scope = "own"
	// ScopeForeign: another tenant's or the platform's namespace.
	ScopeForeign Scope = "foreign"
	// ScopeCluster: cluster-scoped resources, or namespaced ones across all
	// namespaces.
	ScopeCluster Scope = "cluster"
)

// Review is one question: may Subject do Verb on Resource in Namespace?
type Review struct {
	Subject   Subject `json:"subject"`
	Verb      string  `json:"verb"`
	Group     string  `json:"group,omitempty"`
	Resource  string  `json:"resource"`
	Namespace string  `json:"namespace,omitempty"`
	Scope     Scope   `json:"scope"`
	// Want is the answer an isolated tenant gives.
	Want bool `json:"want"`
}

// GroupResource is resource.group, as kubectl prints it.
func (r Review) GroupResource() string {
	return schema.GroupResource{Group: r.Group, Resource: r.Resource}.String()
}

// ReviewResult is a review with the API server's answer.
type ReviewResult struct {
	Review
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty"`
	Error   string `json:"error,omitempty"`
}

// OK reports whether the answer is the one wanted.
func (r ReviewResult) OK() bool { return r.Error == "" && r.Allowed == r.Want }

// Leak reports an access an isolated tenant must not have.
func (r ReviewResult) Leak() bool { return r.Error == "" && r.Allowed && !r.Want }

// Reviewer answers access reviews: the plugin implements it with
// SubjectAccessReview.
type Reviewer interface {
	Review(ctx context.Context, r Review) (allowed bool, reason string, err error)
}

// Getter reads one live object; a missing object is an error satisfying
// apierrors.IsNotFound, an unserved kind one wrapping cluster.ErrKindNotServed
// (a *cluster.NotServedError names the versions served, if any).
type Getter interface {
	Get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error)
}

// GuardResult is the check of one guard object.
type GuardResult struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Status is ok, missing, weakened or skipped (not checkable here; not a
	// finding).
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// Guard statuses.
const (
	GuardOK       = "ok"
	GuardMissing  = "missing"
	GuardWeakened = "weakened"
	GuardSkipped  = "skipped"
	GuardError    = "error"
)

// Failed reports a guard finding.
func (g GuardResult) Failed() bool {
	return g.Status == GuardMissing || g.Status == GuardWeakened || g.Status == GuardError
}

// Report is the result of verifying one tenant.
type Report struct {
	Tenant            string         `json:"tenant"`
	Namespaces        []string       `json:"namespaces"`
	ForeignNamespaces []string       `json:"foreignNamespaces"`
	Reviews           []ReviewResult `json:"reviews"`
	Guards            []GuardResult  `json:"guards"`
}

// Leaks are the reviews that allowed what must be denied.
func (r *Report) Leaks() []ReviewResult {
	var out []ReviewResult
	for _, rr := range r.Reviews {
		if rr.Leak() {
			out = append(out, rr)
		}
	}
	return out
}

// Failures are the reviews whose answer is not the wanted one (leaks and
// missing access) or that could not be made.
func (r *Report) Failures() []ReviewResult {
	var out []ReviewResult
	for _, rr := range r.Reviews {
		if !rr.OK() {
			out = append(out, rr)
		}
	}
	return out
}

// FailedGuards are the guard objects missing or weakened.
func (r *Report) FailedGuards() []GuardResult {
	var out []GuardResult
	for _, g := range r.Guards {
		if g.Failed() {
			out = append(out, g)
		}
	}
	return out
}

// Isolated reports whether every review and guard passed.
func (r *Report) Isolated() bool { return len(r.Failures()) == 0 && len(r.FailedGuards()) == 0 }

// VerifyOptions configure Verify.
type VerifyOptions struct {
	Reviewer Reviewer
	Getter   Getter
	// Others are the other tenants: their namespaces must be out of reach.
	Others []*Tenant
	// ForeignNamespaces are further namespaces out of reach, beyond the
	// other tenants' and PlatformNamespaces: the plugin passes every live
	// namespace, so that none the tenant does not own is left unchecked.
	ForeignNamespaces []string
	// Concurrency bounds the reviews in flight (default 16).
	Concurrency int
}

// Subjects are the identities of a tenant: its owners, the reconciler
// ServiceAccount of each namespace and, for Flux, the gotk reconciler user
// of each namespace.
func Subjects(t *Tenant) []Subject {
	var out []Subject
	for _, u := range t.Owners.Users {
		out = append(out, Subject{Kind: "User", Name: u})
	}
	for _, g := range t.Owners.Groups {
		out = append(out, Subject{Kind: "Group", Name: g})
	}
	for _, ns := range t.Namespaces {
		out = append(out, Subject{Kind: "ServiceAccount", Name: t.Reconciler(), Namespace: ns})
		if t.Operator.Flux() {
			out = append(out, Subject{Kind: "User", Name: FluxReconcilerUser(ns)})
		}
	}
	return out
}

type gr struct{ group, resource string }

var (
	podsR       = gr{"", "pods"}
	secretsR    = gr{"", "secrets"}
	configmapsR = gr{"", "configmaps"}
	deployR     = gr{"apps", "deployments"}
	quotaR      = gr{"", "resourcequotas"}
	limitsR     = gr{"", "limitranges"}
	netpolR     = gr{"networking.k8s.io", "networkpolicies"}
	rolesR      = gr{"rbac.authorization.k8s.io", "roles"}
	bindingsR   = gr{"rbac.authorization.k8s.io", "rolebindings"}
)

type check struct {
	verb string
	gr
}

// Plan lists the reviews of the verify matrix for tenant t: what its
// subjects must be able to do in its own namespaces, must not do there
// (loosen the guards; for the reconciler, RBAC too), and must not do in
// foreign namespaces or cluster-wide.
func Plan(t *Tenant, foreign []string) []Review {
	ownAllowed := []check{
		{"get", podsR}, {"list", podsR}, {"create", deployR}, {"update", deployR}, {"delete", deployR},
		{"create", configmapsR}, {"get", secretsR}, {"create", secretsR},
	}
	ownDeniedAll := []check{
		{"create", quotaR}, {"update", quotaR}, {"delete", quotaR},
		{"update", limitsR}, {"delete", limitsR},
	}
	ownDeniedReconciler := []check{
		{"delete", netpolR}, {"update", netpolR}, {"create", rolesR}, {"create", bindingsR},
	}
	foreignDenied := []check{
		{"get", podsR}, {"list", secretsR}, {"get", secretsR}, {"create", deployR}, {"delete", deployR},
		{"create", configmapsR}, {"create", bindingsR},
	}
	clusterDenied := []check{
		{"create", gr{"", "namespaces"}}, {"delete", gr{"", "namespaces"}}, {"update", gr{"", "namespaces"}},
		{"list", gr{"", "nodes"}}, {"update", gr{"", "nodes"}},
		{"create", gr{"rbac.authorization.k8s.io", "clusterroles"}},
		{"create", gr{"rbac.authorization.k8s.io", "clusterrolebindings"}},
		{"escalate", gr{"rbac.authorization.k8s.io", "clusterroles"}},
		{"escalate", gr{"rbac.authorization.k8s.io", "roles"}},
		{"bind", gr{"rbac.authorization.k8s.io", "clusterroles"}},
		{"create", gr{"apiextensions.k8s.io", "customresourcedefinitions"}},
		{"impersonate", gr{"", "users"}}, {"impersonate", gr{"", "groups"}}, {"impersonate", gr{"", "serviceaccounts"}},
		{"list", secretsR}, {"create", gr{"admissionregistration.k8s.io", "validatingwebhookconfigurations"}},
	}
	var out []Review
	add := func(s Subject, c check, ns string, scope Scope, want bool) {
		out = append(out, Review{Subject: s, Verb: c.verb, Group: c.group, Resource: c.resource, Namespace: ns, Scope: scope, Want: want})
	}
	for _, s := range Subjects(t) {
		reconciler := s.Kind == "ServiceAccount" || strings.HasPrefix(s.Name, "gotk:")
		own := t.Namespaces
		if reconciler {
			// A reconciler identity is bound in its own namespace only.
			own = []string{s.Namespace}
			if s.Kind == "User" {
				own = []string{strings.TrimSuffix(strings.TrimPrefix(s.Name, "gotk:"), ":reconciler")}
			}
		}
		for _, ns := range own {
			for _, c := range ownAllowed {
				add(s, c, ns, ScopeOwn, true)
			}
			for _, c := range ownDeniedAll {
				add(s, c, ns, ScopeOwn, false)
			}
			if reconciler {
				for _, c := range ownDeniedReconciler {
					add(s, c, ns, ScopeOwn, false)
				}
			}
		}
		if reconciler {
			// The tenant's other namespaces are foreign to a reconciler.
			for _, ns := range t.Namespaces {
				if ns != own[0] {
					for _, c := range foreignDenied {
						add(s, c, ns, ScopeForeign, false)
					}
				}
			}
		}
		for _, ns := range foreign {
			for _, c := range foreignDenied {
				add(s, c, ns, ScopeForeign, false)
			}
		}
		for _, c := range clusterDenied {
			add(s, c, "", ScopeCluster, false)
		}
	}
	return out
}

// SuiteNamespace is where the suite's own controller runs (deploy/).
const SuiteNamespace = "kubectl-gitops"

// PlatformNamespaces are the namespaces no tenant may reach, whether or not
// they exist yet: Kubernetes' own, the GitOps operators' (Flux, the default
// Argo CD namespace and t's) and the suite's, sorted.
func PlatformNamespaces(t *Tenant) []string {
	out := sets.New(reservedNamespaceList...)
	out.Insert(DefaultArgoCDNamespace, SuiteNamespace)
	if t.ArgoCD.Namespace != "" {
		out.Insert(t.ArgoCD.Namespace)
	}
	return sets.List(out)
}

// ForeignNamespaces are the namespaces verify checks t cannot reach: every
// namespace t does not own among the other tenants', PlatformNamespaces and
// extra (the live namespaces), sorted.
func ForeignNamespaces(t *Tenant, others []*Tenant, extra []string) []string {
	mine := sets.New(t.Namespaces...)
	out := sets.New(PlatformNamespaces(t)...)
	for _, o := range others {
		if o.Name == t.Name {
			continue
		}
		out.Insert(o.Namespaces...)
	}
	out.Insert(extra...)
	return sets.List(out.Difference(mine))
}

// Verify runs the matrix of reviews for t concurrently and checks its guard
// objects. It returns an error only when it could not run at all; review
// and read errors are part of the report.
func Verify(ctx context.Context, t *Tenant, opts VerifyOptions) (*Report, error) {
	if opts.Reviewer == nil || opts.Getter == nil {
		return nil, errors.New("verify: a Reviewer and a Getter are required")
	}
	conc := opts.Concurrency
	if conc < 1 {
		conc = 16
	}
	foreign := ForeignNamespaces(t, opts.Others, opts.ForeignNamespaces)
	plan := Plan(t, foreign)
	results := make([]ReviewResult, len(plan))
	// Review errors are part of the report, so no review fails the group.
	var g errgroup.Group
	g.SetLimit(conc)
	for i, r := range plan {
		g.Go(func() error {
			res := ReviewResult{Review: r}
			allowed, reason, err := opts.Reviewer.Review(ctx, r)
			if err != nil {
				res.Error = err.Error()
			}
			res.Allowed, res.Reason = allowed, reason
			results[i] = res
			return nil
		})
	}
	guards := checkGuards(ctx, t, opts.Getter)
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &Report{Tenant: t.Name, Namespaces: t.Namespaces, ForeignNamespaces: foreign, Reviews: results, Guards: guards}, nil
}

var (
	gvkNamespace     = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	gvkQuota         = schema.GroupVersionKind{Version: "v1", Kind: "ResourceQuota"}
	gvkLimitRange    = schema.GroupVersionKind{Version: "v1", Kind: "LimitRange"}
	gvkNetworkPolicy = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	gvkRoleBinding   = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"}
	gvkAppProject    = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "AppProject"}
	gvkKustomization = schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}
	gvkDeployment    = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
)

// FluxSystemNamespace and FluxKustomizeController locate the controller
// whose lockdown flags verify checks.
const (
	FluxSystemNamespace     = "flux-system"
	FluxKustomizeController = "kustomize-controller"
)

func checkGuards(ctx context.Context, t *Tenant, get Getter) []GuardResult {
	var out []GuardResult
	fetch := func(gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, *GuardResult) {
		obj, err := get.Get(ctx, gvk, ns, name)
		res := &GuardResult{Kind: gvk.Kind, Namespace: ns, Name: name}
		switch {
		case err == nil:
			return obj, nil
		case apierrors.IsNotFound(err):
			res.Status, res.Message = GuardMissing, "not found"
		case cluster.VersionNotServed(err):
			res.Status, res.Message = GuardMissing, err.Error()
		case errors.Is(err, cluster.ErrKindNotServed):
			res.Status, res.Message = GuardMissing, "kind not served by the API server (CRD not installed)"
		default:
			res.Status, res.Message = GuardError, err.Error()
		}
		return nil, res
	}
	// verdict records obj's check: problems weaken it.
	verdict := func(gvk schema.GroupVersionKind, ns, name string, check func(*unstructured.Unstructured) []string) {
		obj, failed := fetch(gvk, ns, name)
		if failed != nil {
			out = append(out, *failed)
			return
		}
		res := GuardResult{Kind: gvk.Kind, Namespace: ns, Name: name, Status: GuardOK}
		if problems := check(obj); len(problems) > 0 {
			res.Status, res.Message = GuardWeakened, strings.Join(problems, "; ")
		}
		out = append(out, res)
	}
	for _, ns := range t.Namespaces {
		verdict(gvkNamespace, "", ns, func(o *unstructured.Unstructured) []string {
			var p []string
			l := o.GetLabels()
			for _, k := range []string{PSAEnforce, PSAAudit, PSAWarn} {
				if l[k] != t.PodSecurity {
					p = append(p, fmt.Sprintf("label %s is %q, want %q", k, l[k], t.PodSecurity))
				}
			}
			if l[LabelTenant] != t.Name {
				p = append(p, fmt.Sprintf("label %s is %q, want %q", LabelTenant, l[LabelTenant], t.Name))
			}
			return p
		})
		verdict(gvkNetworkPolicy, ns, PolicyDenyAll, checkDenyAll)
		verdict(gvkNetworkPolicy, ns, PolicySameTenant, func(*unstructured.Unstructured) []string { return nil })
		verdict(gvkNetworkPolicy, ns, PolicyDNS, func(*unstructured.Unstructured) []string { return nil })
		if t.IngressNamespace != "" {
			verdict(gvkNetworkPolicy, ns, PolicyIngress, func(*unstructured.Unstructured) []string { return nil })
		}
		verdict(gvkQuota, ns, QuotaName, func(o *unstructured.Unstructured) []string { return checkQuota(o, t.Quota) })
		verdict(gvkLimitRange, ns, LimitRangeName, func(*unstructured.Unstructured) []string { return nil })
		verdict(gvkRoleBinding, ns, OwnersBinding, func(o *unstructured.Unstructured) []string {
			ref, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
			kind, _, _ := unstructured.NestedString(o.Object, "roleRef", "kind")
			if kind != "ClusterRole" || ref != OwnerClusterRole {
				return []string{fmt.Sprintf("roleRef is %s %s, want ClusterRole %s", kind, ref, OwnerClusterRole)}
			}
			return nil
		})
		if t.Operator.Flux() {
			verdict(gvkKustomization, ns, t.Name, func(o *unstructured.Unstructured) []string {
				var p []string
				if sa, _, _ := unstructured.NestedString(o.Object, "spec", "serviceAccountName"); sa != t.Reconciler() {
					p = append(p, fmt.Sprintf("spec.serviceAccountName is %q, want %q", sa, t.Reconciler()))
				}
				if tn, _, _ := unstructured.NestedString(o.Object, "spec", "targetNamespace"); tn != ns {
					p = append(p, fmt.Sprintf("spec.targetNamespace is %q, want %q", tn, ns))
				}
				return p
			})
		}
	}
	if t.Operator.ArgoCD() {
		verdict(gvkAppProject, t.ArgoCD.Namespace, t.Name, func(o *unstructured.Unstructured) []string { return checkAppProject(o, t) })
	}
	if t.Operator.Flux() {
		out = append(out, checkFluxLockdown(ctx, get))
	}
	return out
}

func checkDenyAll(o *unstructured.Unstructured) []string {
	var p []string
	sel, _, _ := unstructured.NestedMap(o.Object, "spec", "podSelector")
	if len(sel) > 0 {
		p = append(p, "spec.podSelector is not empty: it does not select every pod")
	}
	types, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "policyTypes")
	ts := sets.New(types...)
	for _, want := range []string{"Ingress", "Egress"} {
		if !ts.Has(want) {
			p = append(p, "spec.policyTypes lacks "+want)
		}
	}
	if in, _, _ := unstructured.NestedSlice(o.Object, "spec", "ingress"); len(in) > 0 {
		p = append(p, "spec.ingress allows traffic")
	}
	if eg, _, _ := unstructured.NestedSlice(o.Object, "spec", "egress"); len(eg) > 0 {
		p = append(p, "spec.egress allows traffic")
	}
	return p
}

func checkQuota(o *unstructured.Unstructured, want map[string]string) []string {
	hard, _, _ := unstructured.NestedStringMap(o.Object, "spec", "hard")
	var p []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		w := resource.MustParse(want[k])
		got, ok := hard[k]
		if !ok {
			p = append(p, fmt.Sprintf("spec.hard.%s is missing, want %s", k, want[k]))
			continue
		}
		q, err := resource.ParseQuantity(got)
		if err != nil || q.Cmp(w) > 0 {
			p = append(p, fmt.Sprintf("spec.hard.%s is %s, want at most %s", k, got, want[k]))
		}
	}
	return p
}

func checkAppProject(o *unstructured.Unstructured, t *Tenant) []string {
	var p []string
	if wl, _, _ := unstructured.NestedSlice(o.Object, "spec", "clusterResourceWhitelist"); len(wl) > 0 {
		p = append(p, fmt.Sprintf("spec.clusterResourceWhitelist allows %d cluster-scoped kind(s)", len(wl)))
	}
	black := sets.New[string]()
	bl, _, _ := unstructured.NestedSlice(o.Object, "spec", "namespaceResourceBlacklist")
	for _, e := range bl {
		m, _ := e.(map[string]any)
		g, _ := m["group"].(string)
		k, _ := m["kind"].(string)
		black.Insert(g + "/" + k)
	}
	for _, gk := range GuardedKinds {
		if !black.Has(gk.Group + "/" + gk.Kind) {
			p = append(p, fmt.Sprintf("spec.namespaceResourceBlacklist lacks %s", gk.String()))
		}
	}
	if wl, _, _ := unstructured.NestedSlice(o.Object, "spec", "namespaceResourceWhitelist"); len(wl) > 0 {
		p = append(p, "spec.namespaceResourceWhitelist is set (it overrides the blacklist's intent)")
	}
	mine := sets.New(t.Namespaces...)
	dests, _, _ := unstructured.NestedSlice(o.Object, "spec", "destinations")
	for _, d := range dests {
		m, _ := d.(map[string]any)
		ns, _ := m["namespace"].(string)
		if !mine.Has(ns) {
			p = append(p, fmt.Sprintf("spec.destinations allows namespace %q", ns))
		}
	}
	repos, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "sourceRepos")
	allowed := sets.New(t.Repos...)
	for _, r := range repos {
		if !allowed.Has(r) {
			p = append(p, fmt.Sprintf("spec.sourceRepos allows %q", gitrepo.RedactURL(r)))
		}
	}
	srcNS, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "sourceNamespaces")
	for _, ns := range srcNS {
		if !mine.Has(ns) {
			p = append(p, fmt.Sprintf("spec.sourceNamespaces allows %q", ns))
		}
	}
	sort.Strings(p)
	return p
}

// checkFluxLockdown checks the multi-tenancy lockdown flags of Flux's
// kustomize-controller: without them a tenant's Kustomization can use other
// namespaces' sources, pull remote kustomize bases from anywhere (outside
// the sources the cluster admits and verifies), or run as the controller
// itself.
func checkFluxLockdown(ctx context.Context, get Getter) GuardResult {
	res := GuardResult{Kind: "Deployment", Namespace: FluxSystemNamespace, Name: FluxKustomizeController}
	o, err := get.Get(ctx, gvkDeployment, FluxSystemNamespace, FluxKustomizeController)
	if apierrors.IsNotFound(err) {
		res.Status, res.Message = GuardSkipped, "Flux is not installed in flux-system: lockdown flags not checked"
		return res
	}
	if err != nil {
		res.Status, res.Message = GuardError, err.Error()
		return res
	}
	containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
	var args []string
	for _, c := range containers {
		m, _ := c.(map[string]any)
		if m["name"] != "manager" && len(containers) > 1 {
			continue
		}
		for _, a := range []string{"args", "command"} {
			list, _ := m[a].([]any)
			for _, x := range list {
				if s, ok := x.(string); ok {
					args = append(args, s)
				}
			}
		}
	}
	var p []string
	if !hasFlag(args, "--no-cross-namespace-refs", "true") {
		p = append(p, "--no-cross-namespace-refs=true is not set")
	}
	if !hasFlag(args, "--no-remote-bases", "true") {
		p = append(p, "--no-remote-bases=true is not set")
	}
	if !hasFlag(args, "--default-service-account", "") {
		p = append(p, "--default-service-account is not set")
	}
	res.Status = GuardOK
	if len(p) > 0 {
		res.Status, res.Message = GuardWeakened, strings.Join(p, "; ")
	}
	return res
}

// hasFlag reports whether args set flag (to value, or to anything non-empty
// when value is "").
func hasFlag(args []string, flag, value string) bool {
	for i, a := range args {
		v, ok := strings.CutPrefix(a, flag+"=")
		if !ok && a == flag {
			if value == "true" && (i+1 >= len(args) || strings.HasPrefix(args[i+1], "-")) {
				return true
			}
			if i+1 < len(args) {
				v, ok = args[i+1], true
			}
		}
		if ok && (value == "" && v != "" || v == value) {
			return true
		}
	}
	return false
}
