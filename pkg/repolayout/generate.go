package repolayout

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// File is one generated file: a slash-separated path relative to the
// repository root, and its content.
type File struct {
	Path string
	Data []byte
}

// generator writes the files of one spec.
type generator struct {
	s     *Spec
	files []File
}

// common holds what every template may use.
type common struct {
	Spec              *Spec
	EnvsDir           string
	InfrastructureDir string
	TenantsDir        string
	ArgoCDNamespace   string
	FluxNamespace     string
	Server            string
	Branch            string
	Branches          bool
	ArgoCD            bool
	AgeHint           string
	Version           string
}

// Generate returns the files of the skeleton, sorted by path. It validates
// the spec (after filling in defaults on a copy).
func Generate(spec Spec) ([]File, error) {
	s := spec
	s.Envs = slices.Clone(spec.Envs)
	s.Apps = slices.Clone(spec.Apps)
	s.Default()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	g := &generator{s: &s}
	g.all()
	slices.SortFunc(g.files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return g.files, nil
}

func (g *generator) common() common {
	return common{
		Spec:              g.s,
		EnvsDir:           EnvsDir,
		InfrastructureDir: InfrastructureDir,
		TenantsDir:        TenantsDir,
		ArgoCDNamespace:   ArgoCDNamespace,
		FluxNamespace:     FluxNamespace,
		Server:            InClusterServer,
		Branch:            DefaultBranch,
		Branches:          g.s.EnvStrategy == EnvBranches,
		ArgoCD:            g.s.Operator == OperatorArgoCD,
		AgeHint:           AgeRecipientHint,
		Version:           DefaultVersion,
	}
}

// add adds file p, ending in exactly one newline.
func (g *generator) add(p, content string) {
	g.files = append(g.files, File{Path: p, Data: []byte(strings.TrimRight(content, "\n") + "\n")})
}

func (g *generator) all() {
	c := g.common()
	g.shared(c)
	g.applications(c)
	g.infrastructure(c)
	if g.s.Operator == OperatorArgoCD {
		g.argocd(c)
	} else {
		g.flux(c)
	}
	g.readme(c)
}

func (g *generator) shared(c common) {
	g.add(SopsConfigFile, sopsYAML(c))
	g.add(PipelineFile, pipelineYAML(c))
	g.add(DriftIgnoreFile, driftIgnoreYAML(c))
	g.add(LintConfigFile, lintYAML(c))
	g.add(path.Join(TenantsDir, "kustomization.yaml"), tenantsKustomizationYAML(c))
}

type appData struct {
	common
	App     App
	Env     string
	First   bool
	BaseRel string
}

type entriesData struct {
	common
	Env     string
	Team    string
	Entries []string
}

func (g *generator) applications(c common) {
	s := g.s
	for _, a := range s.Apps {
		d := appData{common: c, App: a}
		base := s.BaseDir(a)
		g.add(path.Join(base, "kustomization.yaml"), baseKustomizationYAML(d))
		g.add(path.Join(base, "deployment.yaml"), baseDeploymentYAML(d))
		g.add(path.Join(base, "service.yaml"), baseServiceYAML(d))
		for _, env := range s.Envs {
			overlay := s.OverlayDir(a, env)
			rel := relPath(overlay, base)
			g.add(path.Join(overlay, "kustomization.yaml"), overlayYAML(appData{common: c, App: a, Env: env, First: env == s.Envs[0], BaseRel: rel}))
		}
	}
	for _, env := range s.Envs {
		var entries []string
		if s.Layout == LayoutPerTeam {
			entries = s.Teams()
			for _, team := range entries {
				var apps []string
				for _, a := range s.Apps {
					if a.Team == team {
						apps = append(apps, a.Name)
					}
				}
				slices.Sort(apps)
				p := path.Join(s.EnvDir(env), team, "kustomization.yaml")
				g.add(p, envKustomizationYAML(entriesData{common: c, Env: env, Team: team, Entries: apps}))
			}
		} else {
			for _, a := range s.Apps {
				entries = append(entries, a.Name)
			}
			slices.Sort(entries)
		}
		g.add(path.Join(s.EnvDir(env), "kustomization.yaml"), envKustomizationYAML(entriesData{common: c, Env: env, Entries: entries}))
	}
}

type infraData struct {
	common
	Env        string
	Namespaces []string
}

func (g *generator) infrastructure(c common) {
	for _, env := range g.s.Envs {
		d := infraData{common: c, Env: env, Namespaces: g.s.Namespaces(env)}
		dir := path.Join(InfrastructureDir, env)
		g.add(path.Join(dir, "kustomization.yaml"), infrastructureKustomizationYAML(d))
		g.add(path.Join(dir, "namespaces.yaml"), namespacesYAML(d))
	}
}

type projectData struct {
	common
	Project            string
	ProjectDescription string
	Namespaces         []string
}

type applicationData struct {
	common
	Comment   string
	Name      string
	Env       string
	Project   string
	Revision  string
	Path      string
	Namespace string
	Wave      string
	Finalizer bool
}

// ArgoCD layout:
//
//	argocd/projects/             AppProjects (platform; apps or one per team)
//	argocd/bootstrap/<env>/      applied once: the projects and root-<env>
//	argocd/apps/<env>/           what root-<env> manages: the projects and the
//	                             Applications infrastructure-, tenants-, <app>-<env>
func (g *generator) argocd(c common) {
	s := g.s
	projects := []string{"platform.yaml"}
	g.add("argocd/projects/platform.yaml", argocdProjectPlatformYAML(projectData{common: c}))
	projectOf := func(a App) string { return "apps" }
	if s.Layout == LayoutPerTeam {
		projectOf = func(a App) string { return a.Team }
		for _, team := range s.Teams() {
			var nss []string
			for _, a := range s.Apps {
				if a.Team == team {
					for _, env := range s.Envs {
						nss = append(nss, s.Namespace(a, env))
					}
				}
			}
			slices.Sort(nss)
			nss = slices.Compact(nss)
			d := projectData{common: c, Project: team, ProjectDescription: "Applications of team " + team, Namespaces: nss}
			g.add("argocd/projects/"+team+".yaml", argocdProjectAppsYAML(d))
			projects = append(projects, team+".yaml")
		}
	} else {
		var nss []string
		for _, env := range s.Envs {
			nss = append(nss, s.Namespaces(env)...)
		}
		slices.Sort(nss)
		d := projectData{common: c, Project: "apps", ProjectDescription: "The applications", Namespaces: slices.Compact(nss)}
		g.add("argocd/projects/apps.yaml", argocdProjectAppsYAML(d))
		projects = append(projects, "apps.yaml")
	}
	slices.Sort(projects)
	g.add("argocd/projects/kustomization.yaml", argocdProjectsKustomizationYAML(entriesData{common: c, Entries: projects}))
	for _, env := range s.Envs {
		boot := path.Join("argocd/bootstrap", env)
		appsDir := path.Join("argocd/apps", env)
		g.add(path.Join(boot, "kustomization.yaml"), argocdBootstrapKustomizationYAML(entriesData{common: c, Env: env}))
		root := applicationData{common: c,
			Comment: "The root of " + env + " (app of apps): every Application in " + appsDir + ".",
			Name:    "root-" + env, Env: env, Project: "platform", Revision: DefaultBranch, Path: appsDir,
			Namespace: ArgoCDNamespace}
		g.add(path.Join(boot, "root.yaml"), argocdApplicationYAML(root))
		entries := []string{"../../projects"}
		children := []applicationData{
			{Comment: "Cluster-wide infrastructure of " + env + ", synced before the applications (wave -1).",
				Name: "infrastructure-" + env, Project: "platform", Revision: DefaultBranch,
				Path: path.Join(InfrastructureDir, env), Namespace: "default", Wave: "-1", Finalizer: true},
			{Comment: "Tenants (kubectl gitops tenant), synced before the applications (wave -1).",
				Name: "tenants-" + env, Project: "platform", Revision: DefaultBranch,
				Path: TenantsDir, Namespace: "default", Wave: "-1", Finalizer: true},
		}
		for _, a := range s.Apps {
			comment := a.Name + " in " + env + "."
			if s.EnvStrategy == EnvBranches {
				comment += " Read from the environment's branch " + EnvBranch(env) + "."
			}
			children = append(children, applicationData{Comment: comment,
				Name: a.Name + "-" + env, Project: projectOf(a), Revision: s.Revision(env),
				Path: s.OverlayDir(a, env), Namespace: s.Namespace(a, env), Finalizer: true})
		}
		for _, ch := range children {
			ch.common = c
			ch.Env = env
			file := strings.TrimSuffix(ch.Name, "-"+env) + ".yaml"
			entries = append(entries, file)
			g.add(path.Join(appsDir, file), argocdApplicationYAML(ch))
		}
		slices.Sort(entries[1:])
		g.add(path.Join(appsDir, "kustomization.yaml"), argocdAppsKustomizationYAML(entriesData{common: c, Env: env, Entries: entries}))
	}
}

type fluxKustomization struct {
	Comment   string
	Name      string
	Source    string
	Path      string
	DependsOn []string
}

type fluxData struct {
	common
	Env            string
	AppsSource     string
	Kustomizations []fluxKustomization
}

// Flux layout:
//
//	clusters/<env>/sources.yaml         GitRepository gitops (+ gitops-<env> for branches)
//	clusters/<env>/infrastructure.yaml  Kustomization infrastructure → infrastructure/<env>
//	clusters/<env>/tenants.yaml         Kustomization tenants → tenants, dependsOn infrastructure
//	clusters/<env>/apps.yaml            Kustomization apps → envs/<env> (mono) or one per
//	                                    team → envs/<env>/<team>, dependsOn infrastructure (and tenants)
func (g *generator) flux(c common) {
	s := g.s
	for _, env := range s.Envs {
		dir := path.Join("clusters", env)
		appsSource := "gitops"
		if s.EnvStrategy == EnvBranches {
			appsSource = "gitops-" + env
		}
		d := fluxData{common: c, Env: env, AppsSource: appsSource}
		g.add(path.Join(dir, "sources.yaml"), fluxSourcesYAML(d))
		d.Kustomizations = []fluxKustomization{{
			Comment: "Cluster-wide infrastructure of " + env + ": namespaces first, then whatever you add.",
			Name:    "infrastructure", Source: "gitops", Path: path.Join(InfrastructureDir, env)}}
		g.add(path.Join(dir, "infrastructure.yaml"), fluxKustomizationYAML(d))
		d.Kustomizations = []fluxKustomization{{
			Comment: "Tenants (kubectl gitops tenant), once the infrastructure is ready.",
			Name:    "tenants", Source: "gitops", Path: TenantsDir, DependsOn: []string{"infrastructure"}}}
		g.add(path.Join(dir, "tenants.yaml"), fluxKustomizationYAML(d))
		if s.Layout == LayoutPerTeam {
			d.Kustomizations = nil
			for _, team := range s.Teams() {
				d.Kustomizations = append(d.Kustomizations, fluxKustomization{
					Comment: "Team " + team + "'s applications in " + env + ", once its tenant and the infrastructure are ready.",
					Name:    team, Source: appsSource, Path: path.Join(s.EnvDir(env), team),
					DependsOn: []string{"infrastructure", "tenants"}})
			}
		} else {
			d.Kustomizations = []fluxKustomization{{
				Comment: "The applications of " + env + ", once the infrastructure is ready.",
				Name:    "apps", Source: appsSource, Path: s.EnvDir(env), DependsOn: []string{"infrastructure"}}}
		}
		g.add(path.Join(dir, "apps.yaml"), fluxKustomizationYAML(d))
	}
}

type readmeData struct {
	common
	Tree      string
	Teams     []string
	FirstEnv  string
	SecondEnv string
	LastEnv   string
	FirstApp  App
}

func (g *generator) readme(c common) {
	paths := []string{"README.md"}
	for _, f := range g.files {
		paths = append(paths, f.Path)
	}
	d := readmeData{common: c, Tree: tree(paths), Teams: g.s.Teams(),
		FirstEnv: g.s.Envs[0], SecondEnv: g.s.Envs[min(1, len(g.s.Envs)-1)], LastEnv: g.s.Envs[len(g.s.Envs)-1], FirstApp: g.s.Apps[0]}
	g.add("README.md", readmeMD(d))
}

// relPath is the slash path from directory from to directory to.
func relPath(from, to string) string {
	f := strings.Split(path.Clean(from), "/")
	t := strings.Split(path.Clean(to), "/")
	i := 0
	for i < len(f) && i < len(t) && f[i] == t[i] {
		i++
	}
	var parts []string
	for range f[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	return strings.Join(parts, "/")
}

// tree draws sorted slash paths as an indented tree of directories, with
// the files of one directory on one line when there are several.
func tree(paths []string) string {
	slices.Sort(paths)
	byDir := map[string][]string{}
	dirs := map[string]bool{}
	for _, p := range paths {
		dir, file := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		byDir[dir] = append(byDir[dir], file)
		for d := dir; d != ""; d = path.Dir(d) {
			dirs[d] = true
			if path.Dir(d) == "." {
				break
			}
		}
	}
	var b strings.Builder
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		indent := strings.Repeat("  ", depth)
		if files := byDir[dir]; len(files) > 0 {
			fmt.Fprintf(&b, "%s%s\n", indent, strings.Join(files, "  "))
		}
		var subs []string
		for d := range dirs {
			parent := path.Dir(d)
			if parent == "." {
				parent = ""
			}
			if parent == dir {
				subs = append(subs, d)
			}
		}
		slices.Sort(subs)
		for _, d := range subs {
			fmt.Fprintf(&b, "%s%s/\n", indent, path.Base(d))
			walk(d, depth+1)
		}
	}
	walk("", 0)
	return strings.TrimRight(b.String(), "\n")
}
