package tenancy

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
)

// reservedNamespaceList may never belong to a tenant: Kubernetes', the
// GitOps operators' and the suite's own (an owner bound to admin there
// would read the operators' credentials).
var reservedNamespaceList = []string{
	"default", "kube-system", "kube-public", "kube-node-lease",
	FluxSystemNamespace, DefaultArgoCDNamespace, SuiteNamespace,
}

var reservedNamespaces = sets.New(reservedNamespaceList...)

// guardResources are the objects a tenant must not manage: they are its
// fences. Key: resource.group.
var guardResources = map[string]bool{
	"resourcequotas": true, "limitranges": true, "networkpolicies.networking.k8s.io": true,
	"roles.rbac.authorization.k8s.io": true, "rolebindings.rbac.authorization.k8s.io": true,
}

// Validate checks every tenant on its own and all of them together (unique
// names, no namespace owned by two tenants). It fills in defaults first. The
// error, if any, is an ErrorList naming each field.
func Validate(tenants []*Tenant) error {
	var errs ErrorList
	names := map[string]*Tenant{}
	owner := map[string]*Tenant{}
	for _, t := range tenants {
		t.Default()
		errs = append(errs, t.validate()...)
		if prev, ok := names[t.Name]; ok && t.Name != "" {
			errs = append(errs, t.fieldErr("name", "tenant %q is defined twice (also %s)", t.Name, prev.Source()))
		}
		names[t.Name] = t
		for i, ns := range t.Namespaces {
			if prev, ok := owner[ns]; ok && prev != t {
				errs = append(errs, t.fieldErr(fmt.Sprintf("namespaces[%d]", i),
					"namespace %q already belongs to tenant %q (%s)", ns, prev.Name, prev.Source()))
				continue
			}
			owner[ns] = t
		}
	}
	// An environment overlay is a directory of the tenants directory, next
	// to the tenants without environments: their names must not collide.
	anyEnvs := false
	for _, t := range tenants {
		anyEnvs = anyEnvs || len(t.Flux.Environments) > 0
	}
	for _, t := range tenants {
		for i, env := range t.Flux.Environments {
			if other, ok := names[env]; ok {
				errs = append(errs, t.fieldErr(fmt.Sprintf("flux.environments[%d]", i),
					"environment %q is also the name of tenant %q (%s): both would be the directory %s", env, other.Name, other.Source(), env))
			}
		}
		if t.Name == BaseDir && anyEnvs {
			errs = append(errs, t.fieldErr("name", "%q is the directory of the tenants' base files", t.Name))
		}
	}
	return errs.errOrNil()
}

// validate checks one tenant, with defaults filled in.
func (t *Tenant) validate() ErrorList {
	var errs ErrorList
	add := func(field, format string, args ...any) {
		errs = append(errs, t.fieldErr(field, format, args...))
	}
	label := func(field, v string) {
		if v == "" {
			add(field, "must not be empty")
			return
		}
		for _, m := range validation.IsDNS1123Label(v) {
			add(field, "invalid name %q: %s", v, m)
		}
	}

	label("name", t.Name)

	if len(t.Namespaces) == 0 {
		add("namespaces", "at least one namespace is required")
	}
	seen := map[string]bool{}
	for i, ns := range t.Namespaces {
		f := fmt.Sprintf("namespaces[%d]", i)
		label(f, ns)
		switch {
		case reservedNamespaces.Has(ns):
			add(f, "namespace %q is reserved for the platform", ns)
		case seen[ns]:
			add(f, "namespace %q is listed twice", ns)
		case ns == t.ArgoCD.Namespace && t.Operator.ArgoCD():
			add(f, "namespace %q is Argo CD's own namespace", ns)
		}
		seen[ns] = true
	}

	if len(t.Owners.Users) == 0 && len(t.Owners.Groups) == 0 {
		add("owners", "at least one owner user or group is required")
	}
	for i, u := range t.Owners.Users {
		if strings.TrimSpace(u) == "" {
			add(fmt.Sprintf("owners.users[%d]", i), "must not be empty")
		} else if strings.HasPrefix(u, "system:") {
			add(fmt.Sprintf("owners.users[%d]", i), "%q is a system identity, not a tenant owner", u)
		}
	}
	for i, g := range t.Owners.Groups {
		if strings.TrimSpace(g) == "" {
			add(fmt.Sprintf("owners.groups[%d]", i), "must not be empty")
		} else if strings.HasPrefix(g, "system:") {
			add(fmt.Sprintf("owners.groups[%d]", i), "%q is a system group, not a tenant owner", g)
		}
	}

	if !validOperator(t.Operator) {
		add("operator", "unknown operator %q: must be one of %s", t.Operator, operatorList())
	}
	if t.Operator != OperatorNone && validOperator(t.Operator) && len(t.Repos) == 0 {
		add("repos", "operator %s needs at least one source repository", t.Operator)
	}
	for i, r := range t.Repos {
		f := fmt.Sprintf("repos[%d]", i)
		switch {
		case strings.TrimSpace(r) == "":
			add(f, "must not be empty")
		case gitrepo.CheckNoCredentials(r) != nil:
			// Written into the AppProject and GitRepository files: the
			// credentials belong in the operator's repository Secret.
			add(f, "%v", gitrepo.CheckNoCredentials(r))
		case strings.ContainsAny(r, "*?!"):
			add(f, "%q is a pattern: a tenant's repositories must be listed exactly", gitrepo.RedactURL(r))
		case i == 0 && t.Operator.Flux() && !validGitURL(r):
			add(f, "%q is not a Git URL Flux accepts (http, https or ssh)", gitrepo.RedactURL(r))
		}
	}

	quantities := func(field string, m map[string]string) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			f := field + "." + k
			if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
				add(f, "invalid resource name %q: %s", k, msgs[0])
				continue
			}
			if _, err := resource.ParseQuantity(m[k]); err != nil {
				add(f, "invalid quantity %q: %v", m[k], err)
			}
		}
	}
	quantities("quota", t.Quota)
	if t.Limits != nil {
		quantities("limits.default", t.Limits.Default)
		quantities("limits.defaultRequest", t.Limits.DefaultRequest)
		quantities("limits.max", t.Limits.Max)
		quantities("limits.min", t.Limits.Min)
	}

	if t.PodSecurity != PodSecurityRestricted && t.PodSecurity != PodSecurityBaseline {
		add("podSecurity", "unknown Pod Security level %q: must be restricted or baseline", t.PodSecurity)
	}
	if t.IngressNamespace != "" {
		label("ingressNamespace", t.IngressNamespace)
		if seen[t.IngressNamespace] {
			add("ingressNamespace", "%q is one of the tenant's own namespaces", t.IngressNamespace)
		}
	}
	for i, r := range t.ExtraResources {
		f := fmt.Sprintf("extraResources[%d]", i)
		res, group, _ := strings.Cut(r, ".")
		if msgs := validation.IsDNS1123Label(res); len(msgs) > 0 {
			add(f, "invalid resource %q: want resource.group, e.g. servicemonitors.monitoring.coreos.com", r)
			continue
		}
		if group != "" {
			if msgs := validation.IsDNS1123Subdomain(group); len(msgs) > 0 {
				add(f, "invalid API group in %q: %s", r, msgs[0])
				continue
			}
		}
		if guardResources[r] {
			add(f, "%q guards the tenant and cannot be given to its reconciler", r)
		}
	}
	if sa := t.ReconcilerServiceAccount; sa != "" {
		for _, m := range validation.IsDNS1123Subdomain(sa) {
			add("reconcilerServiceAccount", "invalid name %q: %s", sa, m)
		}
	}
	if t.Operator.ArgoCD() {
		label("argocd.namespace", t.ArgoCD.Namespace)
		if err := gitrepo.CheckNoCredentials(t.ArgoCD.Server); err != nil {
			add("argocd.server", "%v", err)
		} else if u, err := url.Parse(t.ArgoCD.Server); err != nil || u.Scheme != "https" || u.Host == "" {
			add("argocd.server", "%q is not an https URL", gitrepo.RedactURL(t.ArgoCD.Server))
		}
	}
	if t.Operator.Flux() {
		if d, err := time.ParseDuration(t.Flux.Interval); err != nil || d <= 0 {
			add("flux.interval", "invalid duration %q", t.Flux.Interval)
		}
		if strings.TrimSpace(t.Flux.Branch) == "" {
			add("flux.branch", "must not be empty")
		}
		if strings.Contains(t.Flux.Path, "..") {
			add("flux.path", "%q must not leave the repository", t.Flux.Path)
		}
	}
	envs := map[string]bool{}
	for i, env := range t.Flux.Environments {
		f := fmt.Sprintf("flux.environments[%d]", i)
		switch {
		case !t.Operator.Flux():
			add(f, "environments patch the Flux Kustomization's path: need operator flux or both")
		case len(validation.IsDNS1123Label(env)) > 0:
			add(f, "invalid environment %q: %s", env, validation.IsDNS1123Label(env)[0])
		case env == BaseDir:
			add(f, "%q is the directory of the tenants' base files, not an environment", env)
		case envs[env]:
			add(f, "environment %q is listed twice", env)
		}
		envs[env] = true
	}
	return errs
}

func validOperator(o Operator) bool {
	for _, v := range Operators {
		if o == v {
			return true
		}
	}
	return false
}

func operatorList() string {
	s := make([]string, len(Operators))
	for i, o := range Operators {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}

func validGitURL(s string) bool {
	if strings.HasPrefix(s, "git@") { // scp-like syntax is not accepted by Flux
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" || u.Scheme == "ssh"
}
