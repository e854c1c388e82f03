package repolint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTree copies src into a new directory, leaving out the slash paths
// under skip.
func copyTree(t *testing.T, src string, skip string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if skip != "" && (filepath.ToSlash(rel) == skip || strings.HasPrefix(filepath.ToSlash(rel), skip+"/")) {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// problems are the findings that are not notes (severity info: helm
// lint's [INFO], values not checked).
func problems(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Severity != SeverityInfo {
			out = append(out, f)
		}
	}
	return out
}

// The reference layouts lint clean offline (notes aside: their
// HelmReleases' charts come from chart repositories, so their values are
// noted as not checked against the charts' schemas). With only the production
// cluster, whose Kustomizations get their namespace from
// clusters/production/kustomization.yaml, apps' dependsOn infra-configs is
// found: no unknown-dependency.
func TestReferenceLayoutsClean(t *testing.T) {
	dirs := map[string]string{
		"flux-kustomize-helm":            "../../examples/layouts/flux-kustomize-helm",
		"flux-multi-tenancy":             "../../examples/layouts/flux-multi-tenancy",
		"argocd-helm-app-of-apps":        "../../examples/layouts/argocd-helm-app-of-apps",
		"flux-kustomize-helm production": copyTree(t, "../../examples/layouts/flux-kustomize-helm", "clusters/staging"),
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			rep := lint(t, Options{Root: dir})
			if p := problems(rep.Findings); len(p) > 0 {
				t.Errorf("findings:\n%s", strings.Join(messages(p), "\n"))
			}
			if rep.Objects == 0 {
				t.Errorf("nothing checked: %+v", rep)
			}
		})
	}
}
