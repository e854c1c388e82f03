package tenant

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/tenancy"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// wire makes the cluster of clusterDir (clusters/<env>) reconcile the
// tenants directory. A Flux cluster (one with a flux-system directory, as
// flux bootstrap writes) gets clusterDir/tenants.yaml, the Kustomization
// "tenants" of Flux's multi-tenancy reference, listed in clusterDir's
// kustomization.yaml when it has one; another cluster directory gets the
// tenants directory in its kustomization.yaml's resources. Both are edited
// in place. A directory with neither gets, on standard output, exactly
// what to add.
func (w *writer) wire(clusterDir string, tenants []*tenancy.Tenant) error {
	env := filepath.Base(filepath.Clean(clusterDir))
	target := w.root
	withEnvs, without := false, false
	for _, t := range tenants {
		if len(t.Flux.Environments) == 0 {
			without = true
			continue
		}
		withEnvs = true
		if !slices.Contains(t.Flux.Environments, env) {
			return cli.Usagef("--cluster %s: tenant %q has the environments %s; give the cluster directory of one of them, named like it (clusters/%s)",
				clusterDir, t.Name, strings.Join(t.Flux.Environments, ", "), t.Flux.Environments[0])
		}
	}
	if withEnvs && without {
		return cli.Usagef("--cluster %s: wire tenants with environments and tenants without separately", clusterDir)
	}
	if withEnvs {
		target = filepath.Join(w.root, env)
	}
	if fi, err := os.Stat(clusterDir); err != nil || !fi.IsDir() {
		return cli.Usagef("--cluster %s: not a directory", clusterDir)
	}
	kust := filepath.Join(clusterDir, tenancy.FileKustomization)
	_, err := os.Stat(kust)
	hasKust := err == nil

	if fi, err := os.Stat(filepath.Join(clusterDir, tenancy.FluxSystemNamespace)); err == nil && fi.IsDir() {
		repoPath, err := repoRelative(target)
		if err != nil {
			return cli.Usagef("--cluster %s: %v", clusterDir, err)
		}
		data, err := tenancy.ClusterTenants(repoPath)
		if err != nil {
			return err
		}
		p := filepath.Join(clusterDir, tenancy.FileClusterTenants)
		old, readErr := os.ReadFile(p)
		switch {
		case readErr == nil && bytes.Equal(old, data):
		case readErr == nil && reconciles(old, repoPath):
			// Someone's own tenants Kustomization (say, with a dependsOn)
			// already reconciles the path: it stays as it is.
		default:
			if err := w.refuseEdited(p, data); err != nil {
				return err
			}
			if readErr == nil {
				w.note("updated %s", p)
			} else {
				w.note("created %s", p)
			}
			if !w.dryRun {
				if err := writeAtomic(p, data); err != nil {
					return err
				}
			}
		}
		if hasKust {
			return w.editFile(kust, false, func(old []byte) ([]byte, error) {
				return tenancy.EditResources(old, []string{tenancy.FileClusterTenants}, nil)
			})
		}
		return nil
	}

	rel, err := filepath.Rel(clusterDir, target)
	if err != nil {
		return fmt.Errorf("wiring the tenants: %w", err)
	}
	rel = filepath.ToSlash(rel)
	if hasKust {
		return w.editFile(kust, false, func(old []byte) ([]byte, error) {
			return tenancy.EditResources(old, []string{rel}, nil)
		})
	}
	fmt.Fprintf(w.out, "%s has no kustomization.yaml and no flux-system: to wire the tenants into the cluster, add to the resources of what builds it:\n  - %s\n", clusterDir, rel)
	return nil
}

// checkWire runs wire as a dry run, so that a cluster directory that
// cannot be wired is refused before any tenant file is written.
func (w *writer) checkWire(clusterDir string, tenants []*tenancy.Tenant) error {
	if clusterDir == "" {
		return nil
	}
	probe := &writer{root: w.root, force: w.force, dryRun: true, out: io.Discard}
	return probe.wire(clusterDir, tenants)
}

// reconciles reports whether data is a Flux Kustomization reconciling
// repoPath.
func reconciles(data []byte, repoPath string) bool {
	var o struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Path string `json:"path"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &o); err != nil {
		return false
	}
	return o.Kind == "Kustomization" && strings.HasPrefix(o.APIVersion, "kustomize.toolkit.fluxcd.io/") &&
		path.Clean(strings.TrimPrefix(o.Spec.Path, "./")) == path.Clean(strings.TrimPrefix(repoPath, "./"))
}

// repoRelative is dir relative to the root of its Git repository (the
// closest directory above it holding .git), with forward slashes: the
// path a Flux Kustomization of the flux-system source reconciles.
func repoRelative(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for root := abs; ; {
		if _, err := os.Stat(filepath.Join(root, ".git")); err == nil {
			rel, err := filepath.Rel(root, abs)
			if err != nil {
				return "", err
			}
			return filepath.ToSlash(rel), nil
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", errors.New("the tenants directory is not in a Git repository (no .git above it): the Flux Kustomization's path is relative to the repository's root")
		}
		root = parent
	}
}
