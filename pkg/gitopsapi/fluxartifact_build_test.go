package gitopsapi

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tree writes files (path: content) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// listTree returns every regular file under dir as "path: content".
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !d.Type().IsRegular() {
			out = append(out, filepath.ToSlash(rel)+" (not a regular file)")
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel)+": "+strings.TrimSpace(string(data)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func ptr(s string) *string { return &s }

// TestBuildGitArtifactIgnore: the artifact leaves out what
// source-controller leaves out: spec.ignore, .sourceignore files, the
// default exclusions when there are neither, symbolic links.
func TestBuildGitArtifactIgnore(t *testing.T) {
	checkout := map[string]string{
		"apps/web/deploy.yaml":        "web",
		"apps/web/secret.enc.yaml":    "sops",
		"apps/web/.sops.yaml":         "creation_rules",
		"apps/web/logo.png":           "png",
		".github/workflows/ci.yaml":   "ci",
		"docs/README.md":              "docs",
		"infrastructure/configs.yaml": "infra",
	}
	tests := []struct {
		name        string
		files       map[string]string
		ignore      *string
		want        []string
		wantSymlink bool
	}{
		{"defaults without rules", nil, nil, []string{
			"apps/web/deploy.yaml: web", "apps/web/secret.enc.yaml: sops", "docs/README.md: docs", "infrastructure/configs.yaml: infra",
		}, false},
		{"spec.ignore", nil, ptr("# keep apps only\n/*\n!/apps/\n*.enc.yaml\n"), []string{
			// Rules replace the defaults but for VCS files: .sops.yaml
			// and the image stay, as in source-controller.
			"apps/web/.sops.yaml: creation_rules", "apps/web/deploy.yaml: web", "apps/web/logo.png: png",
		}, false},
		{".sourceignore in the tree", map[string]string{".sourceignore": "/*\n!/apps/\n!/infrastructure/\n", "apps/.sourceignore": "web/logo.png\n"}, nil, []string{
			"apps/.sourceignore: web/logo.png", "apps/web/.sops.yaml: creation_rules", "apps/web/deploy.yaml: web",
			"apps/web/secret.enc.yaml: sops", "infrastructure/configs.yaml: infra",
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range checkout {
				files[k] = v
			}
			for k, v := range tt.files {
				files[k] = v
			}
			src := tree(t, files)
			if err := os.Symlink("deploy.yaml", filepath.Join(src, "apps/web/link.yaml")); err != nil {
				t.Fatal(err)
			}
			dst := t.TempDir()
			g := &GitRepository{Namespace: "flux-system", Name: "fleet", Ignore: tt.ignore}
			if err := BuildGitArtifact(t.Context(), g, src, nil, dst); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, listTree(t, dst)); diff != "" {
				t.Errorf("artifact (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildGitArtifactInclude: an included repository's artifact is
// copied from fromPath to toPath (its name by default), never outside the
// artifact, and the including repository's ignore rules apply to it.
func TestBuildGitArtifactInclude(t *testing.T) {
	main := tree(t, map[string]string{"apps/kustomization.yaml": "resources: [../shared/base]", "shared/.keep": ""})
	shared := tree(t, map[string]string{"base/cm.yaml": "cm", "base/notes.md": "notes", "other/x.yaml": "x"})
	common := tree(t, map[string]string{"deploy.yaml": "common"})
	g := &GitRepository{Namespace: "ns", Name: "app", Ignore: ptr("*.md\n"), Include: []GitInclude{
		{Repo: &GitRepository{Namespace: "ns", Name: "shared"}, FromPath: "base", ToPath: "../../shared/base"},
		{Repo: &GitRepository{Namespace: "ns", Name: "common"}, ToPath: "common"},
	}}
	dst := t.TempDir()
	if err := BuildGitArtifact(t.Context(), g, main, []string{shared, common}, dst); err != nil {
		t.Fatal(err)
	}
	want := []string{"apps/kustomization.yaml: resources: [../shared/base]", "common/deploy.yaml: common", "shared/.keep: ", "shared/base/cm.yaml: cm"}
	if diff := cmp.Diff(want, listTree(t, dst)); diff != "" {
		t.Errorf("artifact (-want +got):\n%s", diff)
	}

	t.Run("onto a directory with files", func(t *testing.T) {
		g := &GitRepository{Namespace: "ns", Name: "app", Include: []GitInclude{{Repo: &GitRepository{Namespace: "ns", Name: "shared"}, ToPath: "apps"}}}
		err := BuildGitArtifact(t.Context(), g, main, []string{shared}, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), `"apps" already exists`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a fromPath that does not exist", func(t *testing.T) {
		g := &GitRepository{Namespace: "ns", Name: "app", Include: []GitInclude{{Repo: &GitRepository{Namespace: "ns", Name: "shared"}, FromPath: "nope", ToPath: "x"}}}
		err := BuildGitArtifact(t.Context(), g, main, []string{shared}, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), `"nope" does not exist`) {
			t.Errorf("err = %v", err)
		}
	})
}

// TestBuildExternalArtifact: copy operations as source-watcher applies
// them, the Flux reference example's generator first.
func TestBuildExternalArtifact(t *testing.T) {
	monorepo := tree(t, map[string]string{
		"apps/base/podinfo/kustomization.yaml": "base",
		"apps/base/podinfo/release.yaml":       "release",
		"apps/staging/kustomization.yaml":      "staging",
		"apps/staging/podinfo-values.yaml":     "values",
		"apps/production/kustomization.yaml":   "production",
		"infrastructure/configs/issuer.yaml":   "issuer",
		"infrastructure/controllers/cm.yaml":   "cert-manager",
		"infrastructure/README.md":             "readme",
		"charts/app/values.yaml":               "replicas: 1\nimage: {repo: app, tag: \"1.0\"}\nlist: [a, b]\n",
		"charts/app/values-prod.yaml":          "image: {tag: \"2.0\"}\nlist: [c]\n",
	})
	sources := map[string]string{"monorepo": monorepo}
	tests := []struct {
		name    string
		copy    []CopyOperation
		want    []string
		wantErr string
	}{
		{"reference example: infrastructure", []CopyOperation{{From: "@monorepo/infrastructure/**", To: "@artifact/"}}, []string{
			"README.md: readme", "configs/issuer.yaml: issuer", "controllers/cm.yaml: cert-manager",
		}, ""},
		{"reference example: apps", []CopyOperation{
			{From: "@monorepo/apps/base/**", To: "@artifact/base/"},
			{From: "@monorepo/apps/staging/**", To: "@artifact/staging/"},
		}, []string{
			"base/podinfo/kustomization.yaml: base", "base/podinfo/release.yaml: release",
			"staging/kustomization.yaml: staging", "staging/podinfo-values.yaml: values",
		}, ""},
		{"a directory without glob keeps its name", []CopyOperation{{From: "@monorepo/apps/staging", To: "@artifact/envs"}}, []string{
			"envs/staging/kustomization.yaml: staging", "envs/staging/podinfo-values.yaml: values",
		}, ""},
		{"a file to a name, a file into a directory", []CopyOperation{
			{From: "@monorepo/apps/staging/podinfo-values.yaml", To: "@artifact/values.yaml"},
			{From: "@monorepo/infrastructure/configs/issuer.yaml", To: "@artifact/x/"},
		}, []string{"values.yaml: values", "x/issuer.yaml: issuer"}, ""},
		{"a glob keeps the matched path", []CopyOperation{{From: "@monorepo/infrastructure/*/*.yaml", To: "@artifact/all/"}}, []string{
			"all/infrastructure/configs/issuer.yaml: issuer", "all/infrastructure/controllers/cm.yaml: cert-manager",
		}, ""},
		{"exclude by name at any depth and by relative path", []CopyOperation{{From: "@monorepo/infrastructure/**", To: "@artifact/", Exclude: []string{"*.md", "controllers/**"}}}, []string{
			"configs/issuer.yaml: issuer",
		}, ""},
		{"later operations overwrite", []CopyOperation{
			{From: "@monorepo/apps/staging/kustomization.yaml", To: "@artifact/k.yaml"},
			{From: "@monorepo/apps/production/kustomization.yaml", To: "@artifact/k.yaml"},
		}, []string{"k.yaml: production"}, ""},
		{"Merge merges as Helm merges values", []CopyOperation{
			{From: "@monorepo/charts/app/values.yaml", To: "@artifact/values.yaml"},
			{From: "@monorepo/charts/app/values-prod.yaml", To: "@artifact/values.yaml", Strategy: "Merge"},
		}, []string{"values.yaml: image:\n  repo: app\n  tag: \"2.0\"\nlist:\n- c\nreplicas: 1"}, ""},
		{"a glob matching nothing", []CopyOperation{{From: "@monorepo/nope/**", To: "@artifact/"}}, nil, `no files match pattern "nope/**"`},
		{"everything excluded", []CopyOperation{{From: "@monorepo/infrastructure/*.md", To: "@artifact/", Exclude: []string{"*.md"}}}, nil, "were excluded"},
		{"a missing file", []CopyOperation{{From: "@monorepo/nope.yaml", To: "@artifact/"}}, nil, `source "nope.yaml" does not exist`},
		{"an unknown alias", []CopyOperation{{From: "@other/x", To: "@artifact/"}}, nil, `source alias "other" not found`},
		{"a path out of the artifact", []CopyOperation{{From: "@monorepo/apps/staging/kustomization.yaml", To: "@artifact/../../escape.yaml"}}, nil, "path escapes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := t.TempDir()
			art := &ExternalArtifact{Namespace: "flux-system", Name: "a", Generator: "flux-system/gen", Copy: tt.copy}
			err := BuildExternalArtifact(t.Context(), art, sources, dst)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, listTree(t, dst)); diff != "" {
				t.Errorf("artifact (-want +got):\n%s", diff)
			}
		})
	}
}
