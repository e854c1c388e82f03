package tenancy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Labels and names of the generated objects.
const (
	// LabelTenant is set on every generated object; on Namespaces it is what
	// the same-tenant NetworkPolicy selects.
	LabelTenant = "kubectl-gitops.io/tenant"
	// LabelManagedBy marks generated objects.
	// LabelFluxTenant is Flux's tenant label (`flux create tenant`, the
	// flux2-multi-tenancy layout); Namespaces carry it too, so tenants
	// written by either tool are recognised by both.
	LabelFluxTenant  = "toolkit.fluxcd.io/tenant"
	LabelManagedBy   = "app.kubernetes.io/managed-by"
	ManagedByValue   = "kubectl-gitops"
	ReconcilerName   = "gitops-reconciler"
	OwnersBinding    = "tenant-owners"
	OwnerClusterRole = "admin"
	QuotaName        = "tenant-quota"
	LimitRangeName   = "tenant-limits"
	PolicyDenyAll    = "default-deny"
	PolicySameTenant = "allow-same-tenant"
	PolicyDNS        = "allow-dns"
	PolicyIngress    = "allow-ingress-namespace"
	ArgoCDRole       = "owner"
)

// Pod Security Admission label keys.
const (
	PSAEnforce = "pod-security.kubernetes.io/enforce"
	PSAAudit   = "pod-security.kubernetes.io/audit"
	PSAWarn    = "pod-security.kubernetes.io/warn"
)

// FluxReconcilerUser is the user Flux's controllers impersonate in namespace
// ns when a Kustomization or HelmRelease names no ServiceAccount (the
// identity `flux create tenant` binds).
func FluxReconcilerUser(ns string) string { return "gotk:" + ns + ":reconciler" }

// File names inside a tenant's directory, in the order of the
// kustomization's resources.
const (
	FileNamespaces      = "namespaces.yaml"
	FileRBAC            = "rbac.yaml"
	FileQuota           = "quota.yaml"
	FileNetworkPolicies = "networkpolicies.yaml"
	FileArgoCD          = "argocd.yaml"
	FileFlux            = "flux.yaml"
	FileKustomization   = "kustomization.yaml"
	FileSpec            = "tenant.yaml"
)

// Group is a file's worth of generated objects.
type Group struct {
	File    string
	Objects []*unstructured.Unstructured
}

// Generate builds the objects of a valid, defaulted tenant, grouped by the
// file they are rendered into.
func Generate(t *Tenant) ([]Group, error) {
	g := &generator{t: t}
	groups := []Group{
		{FileNamespaces, g.namespaces()},
		{FileRBAC, g.rbac()},
		{FileQuota, g.quota()},
		{FileNetworkPolicies, g.networkPolicies()},
	}
	if t.Operator.ArgoCD() {
		groups = append(groups, Group{FileArgoCD, []*unstructured.Unstructured{g.appProject()}})
	}
	if t.Operator.Flux() {
		groups = append(groups, Group{FileFlux, g.flux()})
	}
	if g.err != nil {
		return nil, g.err
	}
	return groups, nil
}

// Objects flattens groups.
func Objects(groups []Group) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, g := range groups {
		out = append(out, g.Objects...)
	}
	return out
}

type generator struct {
	t   *Tenant
	err error
}

func (g *generator) labels() map[string]string {
	return map[string]string{LabelTenant: g.t.Name, LabelManagedBy: ManagedByValue}
}

func (g *generator) meta(name, ns string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: g.labels()}
}

// typed converts a typed object to unstructured, without the empty status
// and creationTimestamp the converter adds.
func (g *generator) typed(obj runtime.Object) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		g.err = fmt.Errorf("converting %T: %w", obj, err)
		return &unstructured.Unstructured{Object: map[string]any{}}
	}
	delete(m, "status")
	if spec, ok := m["spec"].(map[string]any); ok && len(spec) == 0 {
		delete(m, "spec")
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return &unstructured.Unstructured{Object: m}
}

// untyped builds an object of a kind this module has no Go type for, going
// through JSON so that every value has an unstructured type.
func (g *generator) untyped(apiVersion, kind string, meta metav1.ObjectMeta, spec map[string]any) *unstructured.Unstructured {
	data, err := json.Marshal(map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": meta, "spec": spec})
	var m map[string]any
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if err != nil {
		g.err = fmt.Errorf("building %s %s: %w", kind, meta.Name, err)
		return &unstructured.Unstructured{Object: map[string]any{}}
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return &unstructured.Unstructured{Object: m}
}

func (g *generator) namespaces() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, ns := range g.t.Namespaces {
		m := g.meta(ns, "")
		m.Labels[LabelFluxTenant] = g.t.Name
		m.Labels[PSAEnforce] = g.t.PodSecurity
		m.Labels[PSAAudit] = g.t.PodSecurity
		m.Labels[PSAWarn] = g.t.PodSecurity
		out = append(out, g.typed(&corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: m}))
	}
	return out
}

// ReconcilerRules are the rules of the reconciler's Role: the workload kinds
// of a namespace, never the guards (quota, limits, network policy) nor RBAC.
func ReconcilerRules(t *Tenant) []rbacv1.PolicyRule {
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	byGroup := map[string][]string{
		"":                  {"configmaps", "persistentvolumeclaims", "pods", "secrets", "serviceaccounts", "services"},
		"apps":              {"daemonsets", "deployments", "replicasets", "statefulsets"},
		"autoscaling":       {"horizontalpodautoscalers"},
		"batch":             {"cronjobs", "jobs"},
		"networking.k8s.io": {"ingresses"},
		"policy":            {"poddisruptionbudgets"},
	}
	if t.Operator.Flux() {
		byGroup["source.toolkit.fluxcd.io"] = []string{"buckets", "gitrepositories", "helmcharts", "helmrepositories", "ocirepositories"}
		byGroup["kustomize.toolkit.fluxcd.io"] = []string{"kustomizations"}
		byGroup["helm.toolkit.fluxcd.io"] = []string{"helmreleases"}
	}
	if t.Operator.ArgoCD() {
		byGroup["argoproj.io"] = []string{"applications"}
	}
	for _, r := range t.ExtraResources {
		res, group, _ := strings.Cut(r, ".")
		byGroup[group] = append(byGroup[group], res)
	}
	rules := make([]rbacv1.PolicyRule, 0, len(byGroup)+1)
	for _, group := range slices.Sorted(maps.Keys(byGroup)) {
		res := dedupe(byGroup[group])
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{group}, Resources: res, Verbs: all})
	}
	rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}})
	return rules
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func (g *generator) rbac() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, ns := range g.t.Namespaces {
		var owners []rbacv1.Subject
		for _, grp := range g.t.Owners.Groups {
			owners = append(owners, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: grp})
		}
		for _, u := range g.t.Owners.Users {
			owners = append(owners, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: u})
		}
		out = append(out, g.typed(&rbacv1.RoleBinding{
			TypeMeta: typeMeta("rbac.authorization.k8s.io/v1", "RoleBinding"), ObjectMeta: g.meta(OwnersBinding, ns),
			Subjects: owners,
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: OwnerClusterRole},
		}))
		out = append(out, g.typed(&corev1.ServiceAccount{
			TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: g.meta(g.t.Reconciler(), ns),
		}))
		out = append(out, g.typed(&rbacv1.Role{
			TypeMeta: typeMeta("rbac.authorization.k8s.io/v1", "Role"), ObjectMeta: g.meta(g.t.Reconciler(), ns),
			Rules: ReconcilerRules(g.t),
		}))
		subjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: g.t.Reconciler(), Namespace: ns}}
		if g.t.Operator.Flux() {
			subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: FluxReconcilerUser(ns)})
		}
		out = append(out, g.typed(&rbacv1.RoleBinding{
			TypeMeta: typeMeta("rbac.authorization.k8s.io/v1", "RoleBinding"), ObjectMeta: g.meta(g.t.Reconciler(), ns),
			Subjects: subjects,
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: g.t.Reconciler()},
		}))
	}
	return out
}

func resourceList(m map[string]string) corev1.ResourceList {
	if len(m) == 0 {
		return nil
	}
	out := corev1.ResourceList{}
	for k, v := range m {
		out[corev1.ResourceName(k)] = resource.MustParse(v) // validated
	}
	return out
}

func (g *generator) quota() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, ns := range g.t.Namespaces {
		out = append(out, g.typed(&corev1.ResourceQuota{
			TypeMeta: typeMeta("v1", "ResourceQuota"), ObjectMeta: g.meta(QuotaName, ns),
			Spec: corev1.ResourceQuotaSpec{Hard: resourceList(g.t.Quota)},
		}))
		l := g.t.Limits
		out = append(out, g.typed(&corev1.LimitRange{
			TypeMeta: typeMeta("v1", "LimitRange"), ObjectMeta: g.meta(LimitRangeName, ns),
			Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
				Type:           corev1.LimitTypeContainer,
				Default:        resourceList(l.Default),
				DefaultRequest: resourceList(l.DefaultRequest),
				Max:            resourceList(l.Max),
				Min:            resourceList(l.Min),
			}}},
		}))
	}
	return out
}

func (g *generator) networkPolicies() []*unstructured.Unstructured {
	both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	tenantPeer := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelTenant: g.t.Name}}}}
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns := intstr.FromInt32(53)
	var out []*unstructured.Unstructured
	for _, ns := range g.t.Namespaces {
		np := func(name string, spec networkingv1.NetworkPolicySpec) *unstructured.Unstructured {
			return g.typed(&networkingv1.NetworkPolicy{
				TypeMeta: typeMeta("networking.k8s.io/v1", "NetworkPolicy"), ObjectMeta: g.meta(name, ns), Spec: spec,
			})
		}
		out = append(out, np(PolicyDenyAll, networkingv1.NetworkPolicySpec{PolicyTypes: both}))
		out = append(out, np(PolicySameTenant, networkingv1.NetworkPolicySpec{
			PolicyTypes: both,
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: tenantPeer}},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{To: tenantPeer}},
		}))
		out = append(out, np(PolicyDNS, networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "kube-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
			}},
		}))
		if g.t.IngressNamespace != "" {
			out = append(out, np(PolicyIngress, networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: g.t.IngressNamespace}},
				}}}},
			}))
		}
	}
	return out
}

// GuardedKinds are blacklisted in the AppProject so that a tenant cannot
// loosen its own fences through Argo CD.
var GuardedKinds = []metav1.GroupKind{
	{Group: "", Kind: "LimitRange"},
	{Group: "", Kind: "ResourceQuota"},
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"},
}

func (g *generator) appProject() *unstructured.Unstructured {
	t := g.t
	var dests, sas []map[string]any
	for _, ns := range t.Namespaces {
		dests = append(dests, map[string]any{"server": t.ArgoCD.Server, "namespace": ns})
		sas = append(sas, map[string]any{"server": t.ArgoCD.Server, "namespace": ns, "defaultServiceAccount": t.Reconciler()})
	}
	blacklist := make([]map[string]any, 0, len(GuardedKinds))
	for _, gk := range GuardedKinds {
		blacklist = append(blacklist, map[string]any{"group": gk.Group, "kind": gk.Kind})
	}
	spec := map[string]any{
		"description":                fmt.Sprintf("Tenant %s (generated by kubectl gitops tenant)", t.Name),
		"sourceRepos":                t.Repos,
		"sourceNamespaces":           t.Namespaces,
		"destinations":               dests,
		"destinationServiceAccounts": sas,
		"clusterResourceWhitelist":   []any{},
		"namespaceResourceBlacklist": blacklist,
	}
	if len(t.Owners.Groups) > 0 {
		sub := "proj:" + t.Name + ":" + ArgoCDRole
		obj := t.Name + "/*"
		spec["roles"] = []map[string]any{{
			"name":        ArgoCDRole,
			"description": "Owners of tenant " + t.Name,
			"groups":      t.Owners.Groups,
			"policies": []string{
				"p, " + sub + ", applications, *, " + obj + ", allow",
				"p, " + sub + ", logs, get, " + obj + ", allow",
				"p, " + sub + ", projects, get, " + t.Name + ", allow",
			},
		}}
	}
	return g.untyped("argoproj.io/v1alpha1", "AppProject", g.meta(t.Name, t.ArgoCD.Namespace), spec)
}

func (g *generator) flux() []*unstructured.Unstructured {
	t := g.t
	var out []*unstructured.Unstructured
	for _, ns := range t.Namespaces {
		out = append(out, g.untyped("source.toolkit.fluxcd.io/v1", "GitRepository", g.meta(t.Name, ns), map[string]any{
			"interval": t.Flux.Interval,
			"url":      t.Repos[0],
			"ref":      map[string]any{"branch": t.Flux.Branch},
		}))
		out = append(out, g.untyped("kustomize.toolkit.fluxcd.io/v1", "Kustomization", g.meta(t.Name, ns), map[string]any{
			"interval":           t.Flux.Interval,
			"path":               t.FluxPath(ns),
			"prune":              true,
			"sourceRef":          map[string]any{"kind": "GitRepository", "name": t.Name},
			"serviceAccountName": t.Reconciler(),
			"targetNamespace":    ns,
		}))
	}
	return out
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}
