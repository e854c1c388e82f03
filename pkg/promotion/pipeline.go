package promotion

import (
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlpos"
)

// Pipeline file format.
const (
	APIVersion = "gitops.kubectl-gitops.dev/v1alpha1"
	Kind       = "Pipeline"
	// DefaultFile is where the pipeline lives, relative to the repository root.
	DefaultFile = ".gitops/pipeline.yaml"
	// DefaultRemote is the remote used when the file names none.
	DefaultRemote = "origin"
)

// Policy says how a promotion into an environment lands.
type Policy string

// Policies.
const (
	// PolicyAuto pushes the promotion commit to the branch directly.
	PolicyAuto Policy = "auto"
	// PolicyPullRequest pushes a branch and opens a pull request.
	PolicyPullRequest Policy = "pull-request"
)

// ForgeType names a forge API.
type ForgeType string

// Forge types. Forgejo speaks the Gitea API and is read as ForgeGitea.
const (
	ForgeGitHub ForgeType = "github"
	ForgeGitLab ForgeType = "gitlab"
	ForgeGitea  ForgeType = "gitea"
)

// DefaultTokenEnv is the environment variable holding the token of a forge
// type when the pipeline names none ("" for an unknown type).
func DefaultTokenEnv(t ForgeType) string {
	switch t {
	case ForgeGitHub:
		return "GITHUB_TOKEN"
	case ForgeGitLab:
		return "GITLAB_TOKEN"
	case ForgeGitea:
		return "GITEA_TOKEN"
	}
	return ""
}

// Position is a place in the pipeline file, 1-based (0 when unknown).
type Position struct {
	Line, Column int
}

// Pipeline is a parsed and validated pipeline file. Environments are in
// promotion order: an environment's source always comes before it.
type Pipeline struct {
	// File is the name the pipeline was parsed under (for messages).
	File string
	// Remote is the Git remote to fetch and push; DefaultRemote when absent.
	Remote string
	// Branch holds the directory-per-environment environments; "" means the
	// remote's HEAD branch (the caller resolves it).
	Branch string
	// Forge is the forge API; the zero value means "infer from the remote URL".
	Forge        Forge
	Environments []*Environment
	Applications []*Application
}

// Forge says which forge API serves pull requests and commit statuses.
// Empty fields are inferred by the caller (type and URL from the remote URL,
// TokenEnv from DefaultTokenEnv).
type Forge struct {
	Type     ForgeType
	URL      string
	TokenEnv string
	// URLPos and TokenEnvPos are where url and tokenEnv are in the file
	// (zero when absent), for errors found when the forge is used.
	URLPos, TokenEnvPos Position
}

// FieldError is a mistake found after parsing (for instance when the forge
// is resolved against the remote), at a position of this pipeline's file.
func (p *Pipeline) FieldError(pos Position, field, msg string) *FieldError {
	return &FieldError{File: p.File, Pos: yamlpos.Pos(pos), Field: field, Msg: msg}
}

// Environment is one stage of the pipeline.
type Environment struct {
	Name string
	// From is the source environment, resolved: the file's `from`, or the
	// previous environment in the list; "" for the first environment.
	From string
	// Path is the environment's directory relative to the root of its branch:
	// slash-separated, clean, relative; "." when a branch environment gives none.
	Path string
	// Branch is set for branch-per-environment environments; "" means the
	// environment is a directory on the pipeline's branch.
	Branch string
	// Context is the kube context of the health gates ("" = current context).
	Context string
	// Namespace is the default namespace of workload gates ("" = the context's).
	Namespace string
	// Policy defaults to PolicyAuto.
	Policy Policy
	// Soak is how long the source must have been healthy (0 = no soak).
	Soak time.Duration
	// RequiredChecks are commit statuses that must be success on the source commit.
	RequiredChecks []string
	// Pos is where the environment starts in the file.
	Pos Position
}

// BranchPerEnv reports whether the environment lives on its own branch.
func (e *Environment) BranchPerEnv() bool { return e.Branch != "" }

// FilePath is the path of a versions file in this environment, relative to
// the root of the environment's branch (slash-separated), with the
// placeholder {env} of loc.File replaced by the environment's name (so
// values-{env}.yaml is values-prod.yaml in prod).
func (e *Environment) FilePath(loc Location) string {
	return path.Join(e.Path, strings.ReplaceAll(loc.File, EnvPlaceholder, e.Name))
}

// EnvPlaceholder is the one placeholder a versions file may hold.
const EnvPlaceholder = "{env}"

// Application is something whose version moves through the pipeline.
type Application struct {
	Name string
	// Versions are the places the version is written in each environment.
	// The first is the version of record (the one read back).
	Versions []Location
	// Health says how to see the application live; the zero value has no gate.
	Health Health
	Pos    Position
}

// LocationKind names how a version is written in a file.
type LocationKind string

// Location kinds, spelled as the pipeline file's keys.
const (
	LocationKustomizeImage     LocationKind = "kustomizeImage"
	LocationHelmValues         LocationKind = "helmValues"
	LocationHelmReleaseChart   LocationKind = "helmReleaseChart"
	LocationOCIRepository      LocationKind = "ociRepository"
	LocationHelmChart          LocationKind = "helmChart"
	LocationArgoTargetRevision LocationKind = "argoTargetRevision"
	LocationSetter             LocationKind = "setter"
)

// Location is one place a version lives: a file relative to the
// environment's path and exactly one kind.
type Location struct {
	// File is relative to the environment's path and may hold {env}
	// (Environment.FilePath expands it).
	File string
	// KustomizeImage is the name of a kustomize images[] entry.
	KustomizeImage string
	// HelmValues is a dotted path in a Helm values file ("image.tag").
	HelmValues string
	// HelmReleaseChart selects a Flux HelmRelease's spec.chart.spec.version.
	HelmReleaseChart bool
	// OCIRepository selects a Flux OCIRepository's spec.ref (digest, semver
	// or tag, in Flux's precedence): the source of a HelmRelease chartRef.
	OCIRepository bool
	// HelmChart selects a Flux HelmChart's spec.version.
	HelmChart bool
	// ArgoTargetRevision selects an Argo CD Application's spec.source.targetRevision.
	ArgoTargetRevision bool
	// Setter is a Flux image policy "namespace:name": lines marked
	// # {"$imagepolicy": "namespace:name"} (image) or "namespace:name:tag".
	Setter string
	Pos    Position
}

// Kind is the location's kind ("" when none is set; never after Parse).
func (l Location) Kind() LocationKind {
	switch {
	case l.KustomizeImage != "":
		return LocationKustomizeImage
	case l.HelmValues != "":
		return LocationHelmValues
	case l.HelmReleaseChart:
		return LocationHelmReleaseChart
	case l.OCIRepository:
		return LocationOCIRepository
	case l.HelmChart:
		return LocationHelmChart
	case l.ArgoTargetRevision:
		return LocationArgoTargetRevision
	case l.Setter != "":
		return LocationSetter
	}
	return ""
}

// String describes the location for people: "values.yaml (helmValues image.tag)".
func (l Location) String() string {
	switch l.Kind() {
	case LocationKustomizeImage:
		return fmt.Sprintf("%s (kustomizeImage %s)", l.File, l.KustomizeImage)
	case LocationHelmValues:
		return fmt.Sprintf("%s (helmValues %s)", l.File, l.HelmValues)
	case LocationSetter:
		return fmt.Sprintf("%s (setter %s)", l.File, l.Setter)
	case "":
		return l.File
	}
	return fmt.Sprintf("%s (%s)", l.File, l.Kind())
}

// HealthKind names how an application's health is seen.
type HealthKind string

// Health kinds, spelled as the pipeline file's keys.
const (
	HealthWorkload          HealthKind = "workload"
	HealthArgoCD            HealthKind = "argocd"
	HealthFluxKustomization HealthKind = "fluxKustomization"
	HealthFluxHelmRelease   HealthKind = "fluxHelmRelease"
)

// Default namespaces of health objects, used by Health.Expand.
const (
	DefaultArgoCDNamespace = "argocd"
	DefaultFluxNamespace   = "flux-system"
)

// Health is how an application is seen live in an environment: at most one
// of the fields is set. Strings may hold the placeholders {env} and
// {namespace}; Expand substitutes them.
type Health struct {
	Workload          *Workload
	ArgoCD            *ObjectRef
	FluxKustomization *ObjectRef
	FluxHelmRelease   *ObjectRef
}

// Workload is a Deployment, StatefulSet or DaemonSet.
type Workload struct {
	Kind, Name, Namespace string
}

// ObjectRef names an Argo CD Application or a Flux object.
type ObjectRef struct {
	Name, Namespace string
}

// Kind is the health gate's kind ("" when there is no gate).
func (h Health) Kind() HealthKind {
	switch {
	case h.Workload != nil:
		return HealthWorkload
	case h.ArgoCD != nil:
		return HealthArgoCD
	case h.FluxKustomization != nil:
		return HealthFluxKustomization
	case h.FluxHelmRelease != nil:
		return HealthFluxHelmRelease
	}
	return ""
}

// Expand returns the health gate for env: {env} becomes the environment's
// name and {namespace} its namespace, and empty namespaces take their
// defaults (a workload: the environment's namespace, which may be "" for the
// context's; argocd: DefaultArgoCDNamespace; flux: DefaultFluxNamespace).
// The receiver is not changed.
func (h Health) Expand(env *Environment) Health {
	r := strings.NewReplacer("{env}", env.Name, "{namespace}", env.Namespace)
	ref := func(o *ObjectRef, defNS string) *ObjectRef {
		if o == nil {
			return nil
		}
		ns := o.Namespace
		if ns == "" {
			ns = defNS
		}
		return &ObjectRef{Name: r.Replace(o.Name), Namespace: r.Replace(ns)}
	}
	var out Health
	if w := h.Workload; w != nil {
		ns := w.Namespace
		if ns == "" {
			ns = env.Namespace
		}
		out.Workload = &Workload{Kind: w.Kind, Name: r.Replace(w.Name), Namespace: r.Replace(ns)}
	}
	out.ArgoCD = ref(h.ArgoCD, DefaultArgoCDNamespace)
	out.FluxKustomization = ref(h.FluxKustomization, DefaultFluxNamespace)
	out.FluxHelmRelease = ref(h.FluxHelmRelease, DefaultFluxNamespace)
	return out
}

// String names the object as Kind/namespace/name ("Deployment/web-dev/web",
// "Application/argocd/web-dev", "Kustomization/flux-system/web",
// "HelmRelease/web/web"); the namespace is left out when empty. "" when
// there is no gate.
func (h Health) String() string {
	obj := func(kind, ns, name string) string {
		if ns == "" {
			return kind + "/" + name
		}
		return kind + "/" + ns + "/" + name
	}
	switch h.Kind() {
	case HealthWorkload:
		return obj(h.Workload.Kind, h.Workload.Namespace, h.Workload.Name)
	case HealthArgoCD:
		return obj("Application", h.ArgoCD.Namespace, h.ArgoCD.Name)
	case HealthFluxKustomization:
		return obj("Kustomization", h.FluxKustomization.Namespace, h.FluxKustomization.Name)
	case HealthFluxHelmRelease:
		return obj("HelmRelease", h.FluxHelmRelease.Namespace, h.FluxHelmRelease.Name)
	}
	return ""
}

// Load reads and parses a pipeline file.
func Load(file string) (*Pipeline, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading pipeline: %w", err)
	}
	return Parse(file, data)
}

// Env is the environment with that name.
func (p *Pipeline) Env(name string) (*Environment, bool) {
	for _, e := range p.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return nil, false
}

// App is the application with that name.
func (p *Pipeline) App(name string) (*Application, bool) {
	for _, a := range p.Applications {
		if a.Name == name {
			return a, true
		}
	}
	return nil, false
}

// Source is the environment env promotes from; false for the first
// environment and for an unknown name.
func (p *Pipeline) Source(env string) (*Environment, bool) {
	e, ok := p.Env(env)
	if !ok || e.From == "" {
		return nil, false
	}
	return p.Env(e.From)
}

// Order is the environment names in promotion order (the file's order, in
// which every source comes before the environments it feeds).
func (p *Pipeline) Order() []string {
	names := make([]string, len(p.Environments))
	for i, e := range p.Environments {
		names[i] = e.Name
	}
	return names
}

// AppNames is the application names in the file's order.
func (p *Pipeline) AppNames() []string {
	names := make([]string, len(p.Applications))
	for i, a := range p.Applications {
		names[i] = a.Name
	}
	return names
}

// Downstream is the environments that promote from env, in order: more than
// one is a fan-out.
func (p *Pipeline) Downstream(env string) []*Environment {
	var out []*Environment
	for _, e := range p.Environments {
		if e.From == env && env != "" {
			out = append(out, e)
		}
	}
	return out
}

// Upstream is the chain of sources of env, nearest first (empty for the
// first environment or an unknown name).
func (p *Pipeline) Upstream(env string) []*Environment {
	var out []*Environment
	for src, ok := p.Source(env); ok; src, ok = p.Source(src.Name) {
		out = append(out, src)
		if len(out) > len(p.Environments) { // cannot happen after Parse
			break
		}
	}
	return out
}
