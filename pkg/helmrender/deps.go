package helmrender

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
)

// Dependency is a dependency of a chart that is not vendored in its
// charts/ directory, to fetch as `helm dependency build` fetches it: Name
// from Repository (an http(s) chart repository, or oci://… a registry),
// Version the version Chart.lock pins, or without a lock the constraint of
// Chart.yaml (the highest matching version, as `helm dependency update`
// resolves it).
type Dependency struct {
	Name, Version, Repository string
}

// DependencyFetcher returns the path of the chart archive (.tgz) or
// directory of dep.
type DependencyFetcher func(ctx context.Context, dep Dependency) (string, error)

// buildDependencies adds to ch the dependencies of its Chart.yaml that
// charts/ lacks, as Argo CD's repo-server does when helm template reports
// them missing (`helm dependency build`, Helm v4.3.2 downloader.Manager.
// Build): with a Chart.lock, the lock must be in sync with Chart.yaml
// (Helm's digest, Helm's error) and its versions are fetched; without one,
// the constraints. A file:// dependency is loaded from its directory, which
// must be inside root (the checkout). A repository named "@name" or
// "alias:name" is one of Argo CD's configured repositories, which drift does
// not know. ch is changed in memory only: the checkout is never written.
func buildDependencies(ctx context.Context, ch *chart.Chart, chartDir, root string, fetch DependencyFetcher, confiner *Confiner) error {
	have := map[string]bool{}
	for _, sub := range ch.Dependencies() {
		have[sub.Name()] = true
	}
	var missing []*chart.Dependency
	for _, d := range ch.Metadata.Dependencies {
		if !have[d.Name] {
			missing = append(missing, d)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	locked := map[string]*chart.Dependency{}
	if ch.Lock != nil {
		sum, err := hashReq(ch.Metadata.Dependencies, ch.Lock.Dependencies)
		if err != nil || sum != ch.Lock.Digest {
			if ch.Metadata.APIVersion == chart.APIVersionV1 {
				return errors.New("the lock file (requirements.lock) is out of sync with the dependencies file (requirements.yaml). Please update the dependencies")
			}
			return errors.New("the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies with 'helm dependency update'")
		}
		for _, d := range ch.Lock.Dependencies {
			locked[d.Name] = d
		}
	}
	for _, d := range missing {
		dep := Dependency{Name: d.Name, Version: d.Version, Repository: d.Repository}
		if l, ok := locked[d.Name]; ok {
			dep.Version, dep.Repository = l.Version, l.Repository
		}
		sub, err := loadDependency(ctx, dep, chartDir, root, fetch, confiner)
		if err != nil {
			return fmt.Errorf("dependency %s: %w", d.Name, err)
		}
		if sub.Name() != d.Name {
			return fmt.Errorf("dependency %s: the chart fetched is named %q", d.Name, sub.Name())
		}
		ch.AddDependency(sub)
	}
	return nil
}

func loadDependency(ctx context.Context, dep Dependency, chartDir, root string, fetch DependencyFetcher, confiner *Confiner) (*chart.Chart, error) {
	repo := dep.Repository
	switch {
	case repo == "":
		// helm dependency build leaves it to charts/.
		return nil, errors.New("no repository, and not in charts/")
	case strings.HasPrefix(repo, "@"), strings.HasPrefix(repo, "alias:"):
		return nil, fmt.Errorf("repository %s names a repository of Argo CD's configuration, which drift does not read: not supported", repo)
	case strings.HasPrefix(repo, "file://"):
		return loadLocalDependency(strings.TrimPrefix(repo, "file://"), chartDir, root, confiner)
	}
	u, err := url.Parse(repo)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "oci") || u.Host == "" {
		return nil, fmt.Errorf("repository %q: not an http(s) chart repository or oci:// registry", gitrepo.RedactURL(repo))
	}
	if fetch == nil {
		return nil, errors.New("fetching charts is not available here")
	}
	path, err := fetch(ctx, dep)
	if err != nil {
		return nil, err
	}
	return confiner.load(path)
}

// loadLocalDependency loads the chart at p (relative to chartDir, or
// absolute: Helm's resolver.GetLocalPath), refusing one outside root or
// one that reads outside root (Confined: its directory is not under the
// chart's, which Render checked).
func loadLocalDependency(p, chartDir, root string, confiner *Confiner) (*chart.Chart, error) {
	if root == "" {
		return nil, fmt.Errorf("file://%s: a local dependency of a chart that is not in a checkout", p)
	}
	dir := p
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(chartDir, filepath.FromSlash(p))
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("file://%s: %w", p, os.ErrNotExist)
	}
	if rel, err := filepath.Rel(realRoot, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("file://%s: outside the repository", p)
	}
	if err := confiner.Check(realRoot, real); err != nil {
		return nil, fmt.Errorf("file://%s: %w", p, err)
	}
	return confiner.load(real)
}

// hashReq is Helm's digest of a chart's dependencies and their lock
// (helm v4.3.2 internal/resolver.HashReq), which Chart.lock records.
func hashReq(req, lock []*chart.Dependency) (string, error) {
	data, err := json.Marshal([2][]*chart.Dependency{req, lock})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
