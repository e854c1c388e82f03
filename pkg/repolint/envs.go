package repolint

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
)

// envNames are the environment names: the pipeline's, else the
// configuration's, else DefaultEnvironments.
func (l *linter) envNames() []string {
	if l.pipeline != nil {
		var out []string
		for _, e := range l.pipeline.Environments {
			out = append(out, e.Name)
		}
		return out
	}
	if len(l.cfg.Environments) > 0 {
		return l.cfg.Environments
	}
	return DefaultEnvironments
}

// appKey is one thing an environment directory holds: a kustomization
// directory (by its path relative to the environment) or an Application or
// Flux Kustomization (by its name without the environment).
type appKey struct {
	kind string // "directory" or the object's kind
	name string
}

func (k appKey) String() string {
	if k.kind == "directory" {
		return k.name + "/"
	}
	return k.kind + " " + k.name
}

// checkEnvironments reports applications missing from an environment:
//
//   - among sibling environment directories (a directory with at least two
//     subdirectories named after environments: envs/dev, envs/prod, …), each
//     holds the same kustomization directories and the same Applications or
//     Flux Kustomizations (names compared without the environment);
//   - every application of the pipeline has its versions file in every
//     environment that is a directory of this branch.
func (l *linter) checkEnvironments(context.Context) error {
	envs := l.envNames()
	dirs := map[string]bool{}
	for _, f := range l.repo.Files {
		for d := path.Dir(f); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	parents := map[string][]string{}
	for d := range dirs {
		if slices.Contains(envs, path.Base(d)) {
			parents[path.Dir(d)] = append(parents[path.Dir(d)], path.Base(d))
		}
	}
	var parentList []string
	for p, es := range parents {
		if len(es) >= 2 {
			parentList = append(parentList, p)
		}
	}
	slices.Sort(parentList)
	for _, p := range parentList {
		l.compareEnvDirs(p, parents[p])
	}
	if l.pipeline != nil {
		l.checkPipelineApps()
	}
	return nil
}

func (l *linter) compareEnvDirs(parent string, envs []string) {
	slices.Sort(envs)
	keys := map[string]map[appKey]string{} // env → key → where it is
	union := map[appKey]string{}
	for _, env := range envs {
		dir := path.Join(parent, env)
		keys[env] = map[appKey]string{}
		for kd := range l.repo.Kustomizations {
			if rel, ok := strings.CutPrefix(kd, dir+"/"); ok {
				k := appKey{"directory", rel}
				keys[env][k] = kd
			}
		}
		for _, n := range l.graph.Nodes {
			if !strings.HasPrefix(n.File, dir+"/") {
				continue
			}
			name := strings.TrimSuffix(n.Name, "-"+env)
			name = strings.TrimPrefix(name, env+"-")
			keys[env][appKey{n.Kind, name}] = n.File
		}
		for k, where := range keys[env] {
			if _, ok := union[k]; !ok {
				union[k] = where
			}
		}
	}
	var all []appKey
	for k := range union {
		all = append(all, k)
	}
	slices.SortFunc(all, func(a, b appKey) int { return strings.Compare(a.String(), b.String()) })
	for _, env := range envs {
		dir := path.Join(parent, env)
		file, line := dir, 0
		if k := l.repo.Kustomizations[dir]; k != nil {
			file, line = k.File, max(repograph.KeyLine(k.Node, "resources"), 1)
		}
		for _, k := range all {
			if _, ok := keys[env][k]; ok {
				continue
			}
			var have []string
			for _, other := range envs {
				if _, ok := keys[other][k]; ok {
					have = append(have, other)
				}
			}
			l.add(Finding{File: file, Line: line, Rule: RuleMissingApp, Subject: k.name, Env: env,
				Message: fmt.Sprintf("%s has no %s, which %s %s (%s)", dir, k, strings.Join(have, ", "), map[bool]string{true: "has", false: "have"}[len(have) == 1], union[k])})
		}
	}
}

// checkPipelineApps reports pipeline applications whose versions file is
// missing from a directory environment.
func (l *linter) checkPipelineApps() {
	for _, app := range l.pipeline.Applications {
		if len(app.Versions) == 0 {
			continue
		}
		for _, env := range l.pipeline.Environments {
			if env.BranchPerEnv() {
				continue
			}
			if ok, dir := l.repo.Exists(env.Path); !ok || !dir {
				continue // reported as missing-path
			}
			f := env.FilePath(app.Versions[0])
			if ok, isDir := l.repo.Exists(f); ok && !isDir {
				continue
			}
			l.add(Finding{File: promotion.DefaultFile, Line: app.Pos.Line, Rule: RuleMissingApp, Subject: app.Name, Env: env.Name,
				Message: fmt.Sprintf("application %s is not in environment %s: %s does not exist", app.Name, env.Name, f)})
		}
	}
}
