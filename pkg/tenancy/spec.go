package tenancy

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlpos"
)

// Operator names the GitOps operator a tenant is generated for.
type Operator string

// Operators.
const (
	OperatorNone   Operator = "none"
	OperatorArgoCD Operator = "argocd"
	OperatorFlux   Operator = "flux"
	OperatorBoth   Operator = "both"
)

// Operators lists the valid operators in the order help text shows them.
var Operators = []Operator{OperatorNone, OperatorArgoCD, OperatorFlux, OperatorBoth}

// ArgoCD reports whether the tenant gets an Argo CD AppProject.
func (o Operator) ArgoCD() bool { return o == OperatorArgoCD || o == OperatorBoth }

// Flux reports whether the tenant gets Flux objects.
func (o Operator) Flux() bool { return o == OperatorFlux || o == OperatorBoth }

// Pod Security levels a tenant may be given. "privileged" is deliberately
// not offered: a tenant is hardened.
const (
	PodSecurityRestricted = "restricted"
	PodSecurityBaseline   = "baseline"
)

// Defaults applied by (*Tenant).Default.
const (
	DefaultArgoCDNamespace = "argocd"
	DefaultArgoCDServer    = "https://kubernetes.default.svc"
	DefaultFluxBranch      = "main"
	DefaultFluxInterval    = "5m"
)

// DefaultQuota is the per-namespace ResourceQuota of a tenant that sets no
// quota. A tenant's quota replaces it as a whole.
func DefaultQuota() map[string]string {
	return map[string]string{
		"requests.cpu":           "4",
		"requests.memory":        "8Gi",
		"limits.cpu":             "8",
		"limits.memory":          "16Gi",
		"pods":                   "50",
		"services.loadbalancers": "0",
		"services.nodeports":     "0",
	}
}

// DefaultLimits is the per-namespace LimitRange of a tenant that sets no
// limits.
func DefaultLimits() Limits {
	return Limits{
		Default:        map[string]string{"cpu": "500m", "memory": "512Mi"},
		DefaultRequest: map[string]string{"cpu": "100m", "memory": "128Mi"},
	}
}

// Tenant is the spec of one tenant. The YAML field names are those of a
// tenants.yaml entry (see docs/tenancy.md).
type Tenant struct {
	// Name is the tenant's name, a DNS-1123 label.
	Name string `json:"name"`
	// Namespaces the tenant owns (at least one), each a DNS-1123 label.
	Namespaces []string `json:"namespaces"`
	// Owners are bound to the `admin` ClusterRole in every namespace.
	Owners Owners `json:"owners"`
	// Operator is none, argocd, flux or both (default none).
	Operator Operator `json:"operator,omitempty"`
	// Repos are the Git repositories the tenant deploys from. Argo CD: the
	// AppProject's sourceRepos. Flux: the first is the GitRepository's URL.
	Repos []string `json:"repos,omitempty"`
	// Quota is the ResourceQuota's hard limits per namespace (default
	// DefaultQuota).
	Quota map[string]string `json:"quota,omitempty"`
	// Limits is the LimitRange per namespace (default DefaultLimits).
	Limits *Limits `json:"limits,omitempty"`
	// PodSecurity is the Pod Security Admission level enforced, audited and
	// warned: restricted (default) or baseline.
	PodSecurity string `json:"podSecurity,omitempty"`
	// IngressNamespace, when set, may open connections into the tenant's
	// pods (an ingress controller's namespace).
	IngressNamespace string `json:"ingressNamespace,omitempty"`
	// ExtraResources are further namespaced resources the reconciler may
	// manage, as resource.group (e.g. servicemonitors.monitoring.coreos.com).
	ExtraResources []string `json:"extraResources,omitempty"`
	// ReconcilerServiceAccount names the reconciler's ServiceAccount, Role
	// and RoleBinding in every namespace (default gitops-reconciler). An
	// existing tenant repository that references its own name (Flux's
	// reference layout uses the tenant's name) keeps working.
	ReconcilerServiceAccount string `json:"reconcilerServiceAccount,omitempty"`
	// ArgoCD holds Argo CD settings.
	ArgoCD ArgoCDSettings `json:"argocd,omitzero"`
	// Flux holds Flux settings.
	Flux FluxSettings `json:"flux,omitzero"`

	// pos maps field paths ("quota.cpu") to their position in the file the
	// tenant was read from; empty for tenants built from flags.
	pos map[string]yamlpos.Pos
	// file is the file the tenant was read from.
	file string
	// index is the tenant's position in that file.
	index int
}

// Owners are the tenant's human owners.
type Owners struct {
	Users  []string `json:"users,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// Limits are a LimitRange's container defaults and bounds, by resource name.
type Limits struct {
	Default        map[string]string `json:"default,omitempty"`
	DefaultRequest map[string]string `json:"defaultRequest,omitempty"`
	Max            map[string]string `json:"max,omitempty"`
	Min            map[string]string `json:"min,omitempty"`
}

// ArgoCDSettings configure the generated AppProject.
type ArgoCDSettings struct {
	// Namespace of Argo CD, where the AppProject lives (default argocd).
	Namespace string `json:"namespace,omitempty"`
	// Server is the destination cluster URL (default the in-cluster URL).
	Server string `json:"server,omitempty"`
}

// FluxSettings configure the generated GitRepository and Kustomization.
type FluxSettings struct {
	// Branch of the tenant repository (default main).
	Branch string `json:"branch,omitempty"`
	// Path in the repository (default ./ for one namespace, ./<namespace>
	// for several).
	Path string `json:"path,omitempty"`
	// Interval of reconciliation (default 5m).
	Interval string `json:"interval,omitempty"`
	// Environments, when set, lay the tenant out as Flux's multi-tenancy
	// reference does: the tenant's files in base/<tenant>/ and, per
	// environment, an overlay <env>/ patching each Kustomization's path to
	// FluxEnvPath.
	Environments []string `json:"environments,omitempty"`
}

// Default fills in every unset field with its default.
func (t *Tenant) Default() {
	if t.Operator == "" {
		t.Operator = OperatorNone
	}
	if t.PodSecurity == "" {
		t.PodSecurity = PodSecurityRestricted
	}
	if len(t.Quota) == 0 {
		t.Quota = DefaultQuota()
	}
	if t.Limits == nil {
		l := DefaultLimits()
		t.Limits = &l
	}
	if t.ArgoCD.Namespace == "" {
		t.ArgoCD.Namespace = DefaultArgoCDNamespace
	}
	if t.ArgoCD.Server == "" {
		t.ArgoCD.Server = DefaultArgoCDServer
	}
	if t.Flux.Branch == "" {
		t.Flux.Branch = DefaultFluxBranch
	}
	if t.Flux.Interval == "" {
		t.Flux.Interval = DefaultFluxInterval
	}
}

// Reconciler is the name of the reconciler's ServiceAccount, Role and
// RoleBinding: ReconcilerServiceAccount, or ReconcilerName when unset. It is
// not filled in by Default, so that a spec that does not set it renders
// as before.
func (t *Tenant) Reconciler() string {
	if t.ReconcilerServiceAccount != "" {
		return t.ReconcilerServiceAccount
	}
	return ReconcilerName
}

// FluxPath is the path the Kustomization of namespace ns reconciles.
func (t *Tenant) FluxPath(ns string) string {
	if t.Flux.Path != "" {
		return t.Flux.Path
	}
	if len(t.Namespaces) == 1 {
		return "./"
	}
	return "./" + ns
}

// FluxEnvPath is the path the Kustomization of namespace ns reconciles in
// environment env: the environment's directory under FluxPath ("./staging",
// "./team-a/staging", "./deploy/staging").
func (t *Tenant) FluxEnvPath(ns, env string) string {
	return "./" + path.Join(t.FluxPath(ns), env)
}

// BaseDir is the directory of a tenant's files in an environments layout.
const BaseDir = "base"

// Dir is the tenant's directory, relative to the tenants directory:
// <name>, or base/<name> when it has environments.
func (t *Tenant) Dir() string {
	if len(t.Flux.Environments) > 0 {
		return path.Join(BaseDir, t.Name)
	}
	return t.Name
}

// PatchFile is the name of the tenant's patch in each environment overlay
// (as in Flux's reference layout: <tenant>-patch.yaml).
func (t *Tenant) PatchFile() string { return t.Name + "-patch.yaml" }

// Source says where the tenant was defined: "file tenants[2]" or "flags".
func (t *Tenant) Source() string {
	if t.file == "" {
		return "flags"
	}
	return fmt.Sprintf("%s tenants[%d]", t.file, t.index)
}

// FieldError is an invalid field of a tenant spec.
type FieldError struct {
	// File, Line and Column locate the field when the tenant was read from
	// a file (Column 0 when unknown).
	File         string
	Line, Column int
	// Field is the field's path, e.g. "tenants[1].quota.cpu", or for a
	// tenant built from flags its spec path, e.g. "quota.cpu".
	Field string
	// Tenant is the tenant's name, if known.
	Tenant string
	Msg    string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if p := (yamlpos.Pos{Line: e.Line, Column: e.Column}).String(); p != "" {
			b.WriteString(":" + p)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Field)
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is a list of field errors, sorted by file, line and field.
type ErrorList []*FieldError

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

func (l ErrorList) sorted() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].File != l[j].File {
			return l[i].File < l[j].File
		}
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Field < l[j].Field
	})
	return l
}

// errOrNil returns nil for an empty list: a nil ErrorList in an error
// interface is not nil.
func (l ErrorList) errOrNil() error {
	if len(l) == 0 {
		return nil
	}
	return l.sorted()
}

// fieldErr builds an error for field of t, located when t came from a file.
// The line is that of the longest recorded prefix of field.
func (t *Tenant) fieldErr(field, format string, args ...any) *FieldError {
	e := &FieldError{Field: field, Tenant: t.Name, Msg: fmt.Sprintf(format, args...)}
	if t.file == "" {
		return e
	}
	e.File = t.file
	e.Field = fmt.Sprintf("tenants[%d].%s", t.index, field)
	for p := field; p != ""; {
		if l, ok := t.pos[p]; ok {
			e.Line, e.Column = l.Line, l.Column
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	if e.Line == 0 {
		e.Line, e.Column = t.pos[""].Line, t.pos[""].Column
	}
	return e
}
