package repolayout

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/sopsfile"
)

// Operator is the GitOps operator the skeleton is written for.
type Operator string

// Operators.
const (
	OperatorArgoCD Operator = "argocd"
	OperatorFlux   Operator = "flux"
)

// Layout says who owns which part of the repository.
type Layout string

// Layouts.
const (
	// LayoutMono is one repository for every application, owned together.
	LayoutMono Layout = "mono"
	// LayoutPerTeam gives every team its own subtree and AppProject (Argo CD)
	// or Kustomization (Flux), ready to move to a repository of its own.
	LayoutPerTeam Layout = "per-team"
)

// EnvStrategy says where an environment's configuration lives.
type EnvStrategy string

// Environment strategies.
const (
	// EnvDirs keeps every environment in a directory of the main branch.
	EnvDirs EnvStrategy = "dirs"
	// EnvBranches gives every environment its own branch (EnvBranch), holding
	// the same tree; the operator tracks that branch.
	EnvBranches EnvStrategy = "branches"
)

// Defaults.
const (
	DefaultRepoURL    = "https://github.com/example/gitops.git"
	DefaultRegistry   = "ghcr.io/example"
	DefaultBranch     = "main"
	DefaultVersion    = "0.1.0"
	ArgoCDNamespace   = "argocd"
	FluxNamespace     = "flux-system"
	InClusterServer   = "https://kubernetes.default.svc"
	AgeRecipientHint  = "age1replace-with-your-age-public-key"
	EnvBranchPrefix   = "env/"
	PipelineFile      = ".gitops/pipeline.yaml"
	DriftIgnoreFile   = ".gitops/drift-ignore.yaml"
	LintConfigFile    = ".gitops/lint.yaml"
	SopsConfigFile    = ".sops.yaml"
	TenantsDir        = "tenants"
	EnvsDir           = "envs"
	InfrastructureDir = "infrastructure"
)

// DefaultEnvs are the environments of a skeleton when none are given.
var DefaultEnvs = []string{"dev", "staging", "prod"}

// DefaultApps are the applications of a skeleton when none are given.
func DefaultApps(l Layout) []string {
	if l == LayoutPerTeam {
		return []string{"team-a/web", "team-b/api"}
	}
	return []string{"web", "api"}
}

// reserved names cannot be applications or teams: they name the platform's
// own Applications and Kustomizations.
var reserved = []string{"apps", "infrastructure", "platform", "root", "tenants"}

// App is one application of the skeleton.
type App struct {
	// Team owns the application in the per-team layout ("" in mono).
	Team string
	Name string
}

// Spec says what to generate.
type Spec struct {
	Operator    Operator
	Layout      Layout
	Envs        []string
	EnvStrategy EnvStrategy
	Apps        []App
	// RepoURL is the URL the operator clones this repository from.
	RepoURL string
	// Registry prefixes the applications' images: <Registry>/<app>.
	Registry string
	// AgeRecipient goes into .sops.yaml (a placeholder when empty).
	AgeRecipient string
}

// ParseApps reads --apps entries: NAME, or TEAM/NAME in the per-team layout
// (a bare NAME there belongs to a team of the same name).
func ParseApps(entries []string, l Layout) ([]App, error) {
	var apps []App
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		team, name, ok := strings.Cut(e, "/")
		if !ok {
			name, team = team, ""
			if l == LayoutPerTeam {
				team = name
			}
		} else if l != LayoutPerTeam {
			return nil, fmt.Errorf("application %q: TEAM/NAME is for the per-team layout", e)
		}
		apps = append(apps, App{Team: team, Name: name})
	}
	return apps, nil
}

// Default fills in empty fields.
func (s *Spec) Default() {
	if s.Layout == "" {
		s.Layout = LayoutMono
	}
	if len(s.Envs) == 0 {
		s.Envs = slices.Clone(DefaultEnvs)
	}
	if s.EnvStrategy == "" {
		s.EnvStrategy = EnvDirs
	}
	if len(s.Apps) == 0 {
		s.Apps, _ = ParseApps(DefaultApps(s.Layout), s.Layout)
	}
	if s.RepoURL == "" {
		s.RepoURL = DefaultRepoURL
	}
	if s.Registry == "" {
		s.Registry = DefaultRegistry
	}
}

// Validate checks the spec and returns every problem at once, each naming
// the field (operator, layout, envs, env-strategy, apps, repo-url, registry,
// age).
func (s *Spec) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch s.Operator {
	case OperatorArgoCD, OperatorFlux:
	case "":
		bad("operator", "required: argocd or flux")
	default:
		bad("operator", "must be argocd or flux, not %q", s.Operator)
	}
	switch s.Layout {
	case LayoutMono, LayoutPerTeam:
	default:
		bad("layout", "must be mono or per-team, not %q", s.Layout)
	}
	switch s.EnvStrategy {
	case EnvDirs, EnvBranches:
	default:
		bad("env-strategy", "must be dirs or branches, not %q", s.EnvStrategy)
	}
	if len(s.Envs) == 0 {
		bad("envs", "at least one environment is required")
	}
	seen := map[string]bool{}
	for _, e := range s.Envs {
		if msgs := validation.IsDNS1123Label(e); len(msgs) > 0 {
			bad("envs", "invalid environment name %q: %s", e, msgs[0])
		} else if seen[e] {
			bad("envs", "environment %q is listed twice", e)
		}
		seen[e] = true
	}
	if len(s.Apps) == 0 {
		bad("apps", "at least one application is required")
	}
	names := map[string]bool{}
	longestEnv := 0
	for _, e := range s.Envs {
		longestEnv = max(longestEnv, len(e))
	}
	for _, a := range s.Apps {
		if msgs := validation.IsDNS1123Label(a.Name); len(msgs) > 0 {
			bad("apps", "invalid application name %q: %s", a.Name, msgs[0])
			continue
		}
		if slices.Contains(reserved, a.Name) {
			bad("apps", "%q is reserved for the platform's own objects (%s)", a.Name, strings.Join(reserved, ", "))
		}
		if names[a.Name] {
			bad("apps", "application %q is listed twice (names are unique across teams)", a.Name)
		}
		names[a.Name] = true
		if s.Layout == LayoutPerTeam {
			if msgs := validation.IsDNS1123Label(a.Team); len(msgs) > 0 {
				bad("apps", "invalid team name %q: %s", a.Team, msgs[0])
				continue
			}
			if slices.Contains(reserved, a.Team) {
				bad("apps", "team %q: the name is reserved for the platform's own objects (%s)", a.Team, strings.Join(reserved, ", "))
			}
		}
		// <owner>-<env> is a namespace and <app>-<env> an Application name.
		if n := len(s.owner(a)) + 1 + longestEnv; n > validation.DNS1123LabelMaxLength {
			bad("apps", "namespace %s-<env> would be %d characters, more than %d", s.owner(a), n, validation.DNS1123LabelMaxLength)
		}
	}
	if err := validRepoURL(s.RepoURL); err != nil {
		bad("repo-url", "%v", err)
	}
	if s.Registry == "" || strings.ContainsAny(s.Registry, " :@\t") || strings.HasSuffix(s.Registry, "/") || s.Registry != strings.ToLower(s.Registry) {
		bad("registry", "%q is not an image repository prefix such as ghcr.io/acme", s.Registry)
	}
	if s.AgeRecipient != "" {
		if _, err := sopsfile.ParseRecipient(s.AgeRecipient); err != nil {
			bad("age", "not an age recipient: %v", err)
		}
	}
	return errors.Join(errs...)
}

// validRepoURL accepts what both Argo CD and Flux accept: http, https or
// ssh URLs (Flux's GitRepository refuses scp-like git@host:path).
func validRepoURL(s string) error {
	u, err := url.Parse(s)
	if err != nil && strings.Contains(s, "://") {
		return fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if err != nil {
		u = &url.URL{}
	}
	switch u.Scheme {
	case "http", "https", "ssh":
	default:
		return fmt.Errorf("%q: want an http://, https:// or ssh:// URL (Flux refuses others; write git@host:org/repo as ssh://git@host/org/repo)", s)
	}
	if u.Host == "" || u.Path == "" || u.Path == "/" {
		return fmt.Errorf("%q: want a host and a repository path", s)
	}
	return gitrepo.CheckNoCredentials(s)
}

// EnvBranch is the branch of an environment in the branches strategy.
func EnvBranch(env string) string { return EnvBranchPrefix + env }

// Branches lists the branches the skeleton expects: the main branch and,
// in the branches strategy, one per environment.
func (s *Spec) Branches() []string {
	out := []string{DefaultBranch}
	if s.EnvStrategy == EnvBranches {
		for _, e := range s.Envs {
			out = append(out, EnvBranch(e))
		}
	}
	return out
}

// owner is what names an application's namespace: the team in the per-team
// layout, the application in mono.
func (s *Spec) owner(a App) string {
	if s.Layout == LayoutPerTeam {
		return a.Team
	}
	return a.Name
}

// Namespace is the namespace of an application in an environment.
func (s *Spec) Namespace(a App, env string) string { return s.owner(a) + "-" + env }

// Namespaces are the namespaces of an environment, sorted and unique.
func (s *Spec) Namespaces(env string) []string {
	var out []string
	for _, a := range s.Apps {
		out = append(out, s.Namespace(a, env))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Teams are the teams of the per-team layout, sorted.
func (s *Spec) Teams() []string {
	var out []string
	for _, a := range s.Apps {
		if a.Team != "" {
			out = append(out, a.Team)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// BaseDir is the directory of an application's base.
func (s *Spec) BaseDir(a App) string {
	if s.Layout == LayoutPerTeam {
		return path.Join("teams", a.Team, a.Name, "base")
	}
	return path.Join("apps", a.Name, "base")
}

// EnvDir is the directory of an environment (the pipeline's path).
func (s *Spec) EnvDir(env string) string { return path.Join(EnvsDir, env) }

// AppDir is the path of an application relative to its environment's
// directory (the pipeline's versions file is AppDir/kustomization.yaml).
func (s *Spec) AppDir(a App) string {
	if s.Layout == LayoutPerTeam {
		return path.Join(a.Team, a.Name)
	}
	return a.Name
}

// OverlayDir is the directory of an application in an environment.
func (s *Spec) OverlayDir(a App, env string) string {
	return path.Join(s.EnvDir(env), s.AppDir(a))
}

// Image is an application's image without tag.
func (s *Spec) Image(a App) string { return s.Registry + "/" + a.Name }

// Revision is the Git revision an environment's applications are read from.
func (s *Spec) Revision(env string) string {
	if s.EnvStrategy == EnvBranches {
		return EnvBranch(env)
	}
	return DefaultBranch
}
