package repolayout

import (
	"fmt"
	"strings"
)

// The files' text. Plain Go rather than text/template: a binary that links
// text/template keeps every exported method of every type (the linker
// cannot tell which ones a template calls), which made the plugin 18 MB
// larger.

const header = "# Written by kubectl gitops repo init; yours to edit (see README.md).\n"

// text builds a file.
type text struct{ strings.Builder }

// f appends a formatted line (format without its newline).
func (t *text) f(format string, args ...any) {
	fmt.Fprintf(&t.Builder, format, args...)
	t.WriteByte('\n')
}

// raw appends s as it is.
func (t *text) raw(s string) { t.WriteString(s) }

func sopsYAML(c common) string {
	var t text
	t.raw(`# SOPS creation rules, read by ` + "`kubectl gitops seal`" + ` and by sops itself.
# Secrets are encrypted for age: only data and stringData, so that Flux's
# kustomize-controller can decrypt them and diffs of the rest stay readable.
`)
	age := c.Spec.AgeRecipient
	if age == "" {
		age = c.AgeHint
		t.raw(`# Replace the placeholder with your age public key (age-keygen -y keys.txt);
# several recipients are separated by commas.
`)
	}
	t.f("creation_rules:")
	t.f(`  - path_regex: ^(%s|%s|%s)/.*\.ya?ml$`, c.EnvsDir, c.InfrastructureDir, c.TenantsDir)
	t.f("    encrypted_regex: ^(data|stringData)$")
	t.f("    age: %s", age)
	return t.String()
}

func driftIgnoreYAML(common) string {
	return "# Fields `kubectl gitops drift` does not count as drift (docs/drift.md).\n" +
		`# Replicas of Deployments scaled by a HorizontalPodAutoscaler: label such a
# Deployment kubectl-gitops.io/autoscaled=true.
ignore:
  - paths: [/spec/replicas]
    target:
      group: apps
      kind: Deployment
      labelSelector: kubectl-gitops.io/autoscaled=true
`
}

func lintYAML(c common) string {
	env := c.Spec.Envs[0]
	return "# Configuration of `kubectl gitops repo lint` (docs/repo-structure.md).\n" + fmt.Sprintf(`apiVersion: gitops.kubectl-gitops.dev/v1alpha1
kind: LintConfig
# This repository's URLs: Applications and GitRepositories with one of them
# must point at paths that exist here; others are another repository's.
repoURLs:
  - %s
# Findings that are intended, each with a reason, e.g. an application that
# does not run in one environment:
# exclude:
#   - rule: missing-app
#     path: %s/%s/kustomization.yaml
#     subject: some-app
#     reason: not deployed to %s
exclude: []
`, c.Spec.RepoURL, c.EnvsDir, env, env)
}

func pipelineYAML(c common) string {
	s := c.Spec
	var t text
	t.raw("# Promotion pipeline for `kubectl gitops promote` (docs/promotion.md).\n")
	t.f("apiVersion: gitops.kubectl-gitops.dev/v1alpha1")
	t.f("kind: Pipeline")
	t.f("remote: origin")
	t.f("branch: %s", c.Branch)
	t.f("environments:")
	for i, e := range s.Envs {
		t.f("  - name: %s", e)
		if c.Branches {
			t.f("    branch: %s", EnvBranch(e))
		}
		t.f("    path: %s/%s", c.EnvsDir, e)
		if len(s.Envs) > 1 && i == len(s.Envs)-1 {
			t.f("    policy: pull-request # production changes go through a pull request")
		} else {
			t.f("    policy: auto")
		}
	}
	t.f("applications:")
	for _, a := range s.Apps {
		t.f("  - name: %s", a.Name)
		t.f("    versions:")
		t.f("      - file: %s/kustomization.yaml", s.AppDir(a))
		t.f("        kustomizeImage: %s", s.Image(a))
		t.f("    health:")
		if c.ArgoCD {
			t.f(`      argocd: {name: "%s-{env}", namespace: %s}`, a.Name, c.ArgoCDNamespace)
		} else {
			t.f(`      workload: {kind: Deployment, name: %s, namespace: "%s-{env}"}`, a.Name, s.owner(a))
		}
	}
	return t.String()
}

func tenantsKustomizationYAML(common) string {
	return "# Tenants written by `kubectl gitops tenant create|render` (docs/tenancy.md),\n" +
		`# one directory each; the tenant commands add and remove entries here.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: []
`
}

func baseKustomizationYAML(d appData) string {
	var t text
	t.raw(header)
	t.f("# The %s application, the same in every environment; each", d.App.Name)
	t.f("# environment's overlay (%s/<env>/%s) sets its namespace and version.", d.EnvsDir, d.Spec.AppDir(d.App))
	t.f("apiVersion: kustomize.config.k8s.io/v1beta1")
	t.f("kind: Kustomization")
	t.f("labels:")
	t.f("  - pairs:")
	t.f("      app.kubernetes.io/name: %s", d.App.Name)
	if d.App.Team != "" {
		t.f("      app.kubernetes.io/part-of: %s", d.App.Team)
	}
	t.f("    includeSelectors: false")
	t.f("resources:")
	t.f("  - deployment.yaml")
	t.f("  - service.yaml")
	return t.String()
}

func baseDeploymentYAML(d appData) string {
	n := d.App.Name
	return header + fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: %[1]s
  template:
    metadata:
      labels:
        app.kubernetes.io/name: %[1]s
    spec:
      securityContext: # Pod Security "restricted"
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: %[1]s
          image: %[2]s:%[3]s # the tag is set per environment (overlay images:)
          ports:
            - name: http
              containerPort: 8080
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              memory: 128Mi
`, n, d.Spec.Image(d.App), d.Version)
}

func baseServiceYAML(d appData) string {
	return header + fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  selector:
    app.kubernetes.io/name: %[1]s
  ports:
    - name: http
      port: 80
      targetPort: http
`, d.App.Name)
}

func overlayYAML(d appData) string {
	var t text
	t.raw(header)
	t.f("# %s in %s.", d.App.Name, d.Env)
	t.f("apiVersion: kustomize.config.k8s.io/v1beta1")
	t.f("kind: Kustomization")
	t.f("namespace: %s", d.Spec.Namespace(d.App, d.Env))
	t.f("resources:")
	t.f("  - %s", d.BaseRel)
	t.f("images:")
	if d.First {
		t.f("  # %s's version in %s, where versions enter the pipeline (set it from CI)", d.App.Name, d.Env)
	} else {
		t.f("  # %s's version in %s: `kubectl gitops promote %s --to %s` edits newTag", d.App.Name, d.Env, d.App.Name, d.Env)
	}
	t.f("  - name: %s", d.Spec.Image(d.App))
	t.f(`    newTag: "%s"`, d.Version)
	return t.String()
}

func entries(t *text, list []string) {
	t.f("resources:")
	for _, e := range list {
		t.f("  - %s", e)
	}
}

func envKustomizationYAML(d entriesData) string {
	var t text
	t.raw(header)
	if d.Team != "" {
		t.f("# Everything that runs in %s for team %s.", d.Env, d.Team)
	} else {
		t.f("# Everything that runs in %s.", d.Env)
	}
	t.raw("# `kubectl gitops repo lint` checks that every environment has the same\n")
	t.raw(`# entries; to leave one out on purpose, add a comment
#   # lint:ignore missing-app <name>
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
`)
	entries(&t, d.Entries)
	return t.String()
}

func infrastructureKustomizationYAML(d infraData) string {
	return header + fmt.Sprintf(`# Cluster-wide things the applications of %s need, applied before them:
# their namespaces, and whatever else you add (ingress controller, policies…).
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespaces.yaml
`, d.Env)
}

func namespacesYAML(d infraData) string {
	var t text
	t.raw(header)
	for i, ns := range d.Namespaces {
		if i > 0 {
			t.f("---")
		}
		t.raw(fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    kubectl-gitops.io/env: %s
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/audit: restricted
    pod-security.kubernetes.io/warn: restricted
`, ns, d.Env))
	}
	return t.String()
}

func argocdProjectsKustomizationYAML(d entriesData) string {
	var t text
	t.raw(header)
	t.f("# The Argo CD AppProjects, managed by every environment's root Application.")
	t.f("apiVersion: kustomize.config.k8s.io/v1beta1")
	t.f("kind: Kustomization")
	entries(&t, d.Entries)
	return t.String()
}

func argocdProjectPlatformYAML(d projectData) string {
	return header + fmt.Sprintf(`# The platform's own Applications (the roots, infrastructure, tenants): any
# namespace and cluster-scoped kind, from this repository only.
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: platform
  namespace: %s
spec:
  description: The platform team's Applications (roots, infrastructure, tenants)
  sourceRepos:
    - %s
  destinations:
    - server: %s
      namespace: "*"
  clusterResourceWhitelist:
    - group: "*"
      kind: "*"
`, d.ArgoCDNamespace, d.Spec.RepoURL, d.Server)
}

func argocdProjectAppsYAML(d projectData) string {
	var t text
	t.raw(header)
	t.f("# %s: only their own namespaces, no cluster-scoped kind,", d.ProjectDescription)
	t.f("# and never the guards a tenant must not loosen.")
	t.f("apiVersion: argoproj.io/v1alpha1")
	t.f("kind: AppProject")
	t.f("metadata:")
	t.f("  name: %s", d.Project)
	t.f("  namespace: %s", d.ArgoCDNamespace)
	t.f("spec:")
	t.f("  description: %s", d.ProjectDescription)
	t.f("  sourceRepos:")
	t.f("    - %s", d.Spec.RepoURL)
	t.f("  destinations:")
	for _, ns := range d.Namespaces {
		t.f("    - server: %s", d.Server)
		t.f("      namespace: %s", ns)
	}
	t.raw(`  clusterResourceWhitelist: []
  namespaceResourceBlacklist:
    - group: ""
      kind: ResourceQuota
    - group: ""
      kind: LimitRange
    - group: networking.k8s.io
      kind: NetworkPolicy
`)
	return t.String()
}

func argocdBootstrapKustomizationYAML(d entriesData) string {
	return header + fmt.Sprintf(`# Bootstrap of %[1]s, once, on the cluster running Argo CD:
#   kubectl apply -k argocd/bootstrap/%[1]s
# From then on the root Application manages everything else from Git.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../projects
  - root.yaml
`, d.Env)
}

func argocdApplicationYAML(d applicationData) string {
	var t text
	t.raw(header)
	if d.Comment != "" {
		t.f("# %s", d.Comment)
	}
	t.f("apiVersion: argoproj.io/v1alpha1")
	t.f("kind: Application")
	t.f("metadata:")
	t.f("  name: %s", d.Name)
	t.f("  namespace: %s", d.ArgoCDNamespace)
	t.f("  labels:")
	t.f("    kubectl-gitops.io/env: %s", d.Env)
	if d.Wave != "" {
		t.f("  annotations:")
		t.f(`    argocd.argoproj.io/sync-wave: "%s"`, d.Wave)
	}
	if d.Finalizer {
		t.f("  finalizers:")
		t.f("    - resources-finalizer.argocd.argoproj.io/foreground # delete what the Application deployed, then the Application")
	}
	t.raw(fmt.Sprintf(`spec:
  project: %s
  source:
    repoURL: %s
    targetRevision: %s
    path: %s
  destination:
    server: %s
    namespace: %s
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    retry:
      limit: 5
      backoff:
        duration: 10s
        factor: 2
        maxDuration: 3m
`, d.Project, d.Spec.RepoURL, d.Revision, d.Path, d.Server, d.Namespace))
	return t.String()
}

func argocdAppsKustomizationYAML(d entriesData) string {
	var t text
	t.raw(header)
	t.f("# The Applications of %s, managed by the root Application root-%s", d.Env, d.Env)
	t.f("# (app of apps), and the AppProjects they belong to.")
	t.raw("# `kubectl gitops repo lint` checks that every environment has the same\n")
	t.raw(`# Applications; to leave one out on purpose, add a comment
#   # lint:ignore missing-app <name>
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
`)
	entries(&t, d.Entries)
	return t.String()
}

func gitRepositoryYAML(name, namespace, url, branch string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: %s
  namespace: %s
spec:
  interval: 1m
  url: %s
  ref:
    branch: %s
`, name, namespace, url, branch)
}

func fluxSourcesYAML(d fluxData) string {
	var t text
	t.raw(header)
	t.f("# Where Flux on the %s cluster reads this repository from.", d.Env)
	t.f("# If you bootstrapped Flux with `flux bootstrap --path clusters/%s`, you can", d.Env)
	t.f("# point the Kustomizations at its flux-system GitRepository instead.")
	t.raw(gitRepositoryYAML("gitops", d.FluxNamespace, d.Spec.RepoURL, d.Branch))
	if d.Branches {
		t.f("---")
		t.f("# The %s environment's own branch: its applications are read from here.", d.Env)
		t.raw(gitRepositoryYAML(d.AppsSource, d.FluxNamespace, d.Spec.RepoURL, EnvBranch(d.Env)))
	}
	return t.String()
}

func fluxKustomizationYAML(d fluxData) string {
	var t text
	t.raw(header)
	for i, k := range d.Kustomizations {
		if i > 0 {
			t.f("---")
		}
		t.f("# %s", k.Comment)
		t.raw(fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  retryInterval: 1m
  timeout: 5m
  sourceRef:
    kind: GitRepository
    name: %s
  path: ./%s
  prune: true
  wait: true
  # SOPS-encrypted Secrets (kubectl gitops seal, .sops.yaml): once the age key
  # is in the cluster (kubectl -n %s create secret generic sops-age
  # --from-file=age.agekey=KEYFILE), let Flux decrypt them:
  # decryption:
  #   provider: sops
  #   secretRef:
  #     name: sops-age
`, k.Name, d.FluxNamespace, k.Source, k.Path, d.FluxNamespace))
		if len(k.DependsOn) > 0 {
			t.f("  dependsOn:")
			for _, dep := range k.DependsOn {
				t.f("    - name: %s", dep)
			}
		}
	}
	return t.String()
}

func readmeMD(d readmeData) string {
	s := d.Spec
	perTeam := s.Layout == LayoutPerTeam
	pick := func(cond bool, a, b string) string {
		if cond {
			return a
		}
		return b
	}
	operator := pick(d.ArgoCD, "Argo CD", "Flux")
	var envs []string
	for _, e := range s.Envs {
		envs = append(envs, "`"+e+"`")
	}
	var t text
	t.f("# GitOps repository")
	t.f("")
	t.f("The desired state of every environment (%s), reconciled by", strings.Join(envs, ", "))
	t.f("%s. Written by `kubectl gitops repo init --operator %s --layout %s", operator, s.Operator, s.Layout)
	t.f("--env-strategy %s`; every file is yours to edit, and `kubectl gitops repo lint` keeps the whole", s.EnvStrategy)
	t.f("consistent.")
	t.f("")
	t.f("## Layout")
	t.f("")
	t.f("```")
	t.f("%s", d.Tree)
	t.f("```")
	t.f("")
	t.f("| path | what |")
	t.f("|---|---|")
	if perTeam {
		t.f("| `teams/<team>/<app>/base/` | an application as its team writes it, the same in every environment |")
		t.f("| `envs/<env>/<team>/<app>/` | the application in one environment: namespace `<team>-<env>` and version (kustomize `images:`) |")
		t.f("| `envs/<env>/<team>/kustomization.yaml` | one team's applications in one environment |")
	} else {
		t.f("| `apps/<app>/base/` | an application, the same in every environment |")
		t.f("| `envs/<env>/<app>/` | the application in one environment: namespace `<app>-<env>` and version (kustomize `images:`) |")
	}
	t.f("| `envs/<env>/kustomization.yaml` | everything that runs in one environment |")
	t.f("| `infrastructure/<env>/` | cluster-wide things the applications need, applied first (their namespaces, with Pod Security `restricted`) |")
	t.f("| `tenants/` | tenants written by `kubectl gitops tenant create` (namespaces, RBAC, quotas, network policies) |")
	if d.ArgoCD {
		t.f("| `argocd/projects/` | AppProjects: `platform` for the platform's own Applications, %s (own namespaces only, no cluster-scoped kinds) |",
			pick(perTeam, "one per team", "`apps` for the applications"))
		t.f("| `argocd/bootstrap/<env>/` | applied once per cluster: the projects and the root Application `root-<env>` |")
		t.f("| `argocd/apps/<env>/` | what `root-<env>` manages (app of apps): the projects and one Application per application, plus `infrastructure-<env>` and `tenants-<env>` (sync wave -1) |")
	} else {
		t.f("| `clusters/<env>/` | what Flux on the `<env>` cluster reconciles: the GitRepository `gitops` and the Kustomizations `infrastructure` → `tenants` → %s (`dependsOn`) |",
			pick(perTeam, "one per team", "`apps`"))
	}
	t.f("| `.gitops/pipeline.yaml` | the promotion pipeline of `kubectl gitops promote`: environments in order, where each application's version is written |")
	t.f("| `.gitops/drift-ignore.yaml` | fields `kubectl gitops drift` does not count as drift |")
	t.f("| `.gitops/lint.yaml` | this repository's URL and intended exceptions for `kubectl gitops repo lint` |")
	t.f("| `.sops.yaml` | SOPS rules for `kubectl gitops seal`: Secrets under `envs/`, `infrastructure/` and `tenants/` are encrypted for age, `data` and `stringData` only |")
	t.f("")
	t.f("## Bootstrap")
	t.f("")
	if d.ArgoCD {
		t.f("With Argo CD installed in the namespace `%s` of each environment's cluster:", d.ArgoCDNamespace)
		t.f("")
		t.f("```sh")
		t.f("kubectl apply -k argocd/bootstrap/%s   # on the %s cluster; likewise for every environment", d.FirstEnv, d.FirstEnv)
		t.f("```")
		t.f("")
		t.f("The root Application `root-%s` then syncs `argocd/apps/%s` and, through it, everything else.", d.FirstEnv, d.FirstEnv)
		t.f("One Argo CD per cluster is assumed (destination `%s`). With one central", d.Server)
		t.f("Argo CD for several clusters, set each Application's `destination.server` to its cluster and")
		t.f("give the projects to one root only.")
	} else {
		t.f("On each environment's cluster:")
		t.f("")
		t.f("```sh")
		t.f("flux install                      # or: flux bootstrap … --path clusters/%s", d.FirstEnv)
		t.f("kubectl apply -f clusters/%s/   # on the %s cluster; likewise for every environment", d.FirstEnv, d.FirstEnv)
		t.f("```")
		t.f("")
		t.f("Flux then reconciles `infrastructure`, `tenants` and the applications in that order.")
	}
	t.f("")
	t.f("Replace `%s` everywhere (and in `.gitops/lint.yaml`) if it is not this", s.RepoURL)
	t.f("repository's URL%s.", pick(s.AgeRecipient == "", ", and the age recipient placeholder in `.sops.yaml` with your key", ""))
	t.f("")
	t.f("## Environments")
	t.f("")
	if d.Branches {
		t.f("Each environment has a **branch** of its own, `env/<env>`: the %s of the", pick(d.ArgoCD, "Applications", "Kustomizations"))
		t.f("applications read `envs/<env>/` from it, so a change reaches an environment only when it is merged")
		t.f("into that branch. `main` holds the platform (%s, `infrastructure/`, `tenants/`) and the", pick(d.ArgoCD, "`argocd/`", "`clusters/`"))
		t.f("template every environment branch starts from. Create the branches once, after the first commit:")
		t.f("")
		t.f("```sh")
		t.f(`git add -A && git commit -m "GitOps repository skeleton"`)
		for _, e := range s.Envs {
			t.f("git push origin main:%s", EnvBranch(e))
		}
		t.f("```")
		t.f("")
		t.f("(`kubectl gitops repo init … --git` creates them locally from `HEAD` once the skeleton is committed.)")
		t.f("`kubectl gitops promote` knows the branches from `.gitops/pipeline.yaml`.")
	} else {
		t.f("Each environment is a **directory** of `main`, `envs/<env>/`: one branch, one history, and a")
		t.f("promotion is a commit that changes one environment's files. `kubectl gitops promote` moves")
		last := ""
		if len(s.Envs) > 1 {
			last = fmt.Sprintf(" (`%s` through a pull request)", d.LastEnv)
		}
		t.f("versions along `.gitops/pipeline.yaml`: %s%s.", strings.Join(s.Envs, " → "), last)
	}
	t.f("")
	t.f("## Everyday commands")
	t.f("")
	t.f("```sh")
	var cmds [][2]string
	if len(s.Envs) > 1 {
		cmds = append(cmds, [2]string{fmt.Sprintf("kubectl gitops promote %s --to %s", d.FirstApp.Name, d.SecondEnv), fmt.Sprintf("the version %s runs, to %s", d.FirstEnv, d.SecondEnv)})
	}
	cmds = append(cmds, [][2]string{
		{fmt.Sprintf("kubectl gitops tenant create team-x -n team-x-%s --admin-group team-x-admins", d.FirstEnv), "a tenant under tenants/"},
		{fmt.Sprintf("kubectl gitops seal -f %s/secret.yaml -i", s.OverlayDir(d.FirstApp, d.FirstEnv)), "encrypt a Secret in place (.sops.yaml covers envs/)"},
		{fmt.Sprintf("kubectl gitops drift -k envs/%s", d.FirstEnv), "the live cluster against this repository"},
		{"kubectl gitops repo lint", "builds, environments, secrets, paths, images, pipeline"},
		{"kubectl gitops repo graph", pick(d.ArgoCD, "the app-of-apps tree", "the Kustomization tree")},
	}...)
	width := 0
	for _, c := range cmds {
		width = max(width, len(c[0]))
	}
	for _, c := range cmds {
		t.f("%-*s  # %s", width, c[0], c[1])
	}
	t.f("```")
	t.f("")
	t.f("## Adding an application")
	t.f("")
	team := pick(perTeam, "<team>/", "")
	t.f("1. %s: its manifests and a `kustomization.yaml`.", pick(perTeam, "`teams/<team>/<app>/base/`", "`apps/<app>/base/`"))
	t.f("2. For every environment, an overlay in `envs/<env>/%s<app>/` and an entry in `envs/<env>/%skustomization.yaml`;", team, team)
	if d.ArgoCD {
		t.f("   its namespace in `infrastructure/<env>/namespaces.yaml`, and an Application in `argocd/apps/<env>/` (and the")
		t.f("   namespace in its AppProject).")
	} else {
		t.f("   its namespace in `infrastructure/<env>/namespaces.yaml`.")
	}
	t.f("3. An entry under `applications:` in `.gitops/pipeline.yaml`.")
	t.f("")
	t.f("`kubectl gitops repo lint` reports any environment that misses the application.")
	return t.String()
}
