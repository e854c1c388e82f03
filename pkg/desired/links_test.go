package desired

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
)

// TestMain lets jsonnet be evaluated (in a worker process on Linux).
func TestMain(m *testing.M) {
	jsonneteval.Worker()
	os.Exit(m.Run())
}

// TestRenderersThroughALinkedDirectory pins what each renderer does with
// a checkout holding apps/ext -> ../lib (a directory inside the checkout)
// and lib/leak.yaml -> a file outside it: none reads the outside file
// through the linked directory. The directory renderer (-f DIR, Argo CD's
// directory source) does not descend into a linked directory, kustomize
// builds a copy of the checkout that refuses outward links, jsonnet's
// importer resolves links before reading. checkLinks does not walk linked
// directories, so the renderers are what holds here: this test says so.
func TestRenderersThroughALinkedDirectory(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	outside := filepath.Join(t.TempDir(), "outside-canary.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+canary+"\ndata: {k: "+canary+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		files     map[string]string
		operator  gitopsapi.Operator
		kustomize bool
		refused   bool // the render fails rather than leaving the link out
	}{
		"directory":        {files: map[string]string{"apps/web.yaml": baseDeployment}, operator: TypeGit},
		"argocd directory": {files: map[string]string{"apps/web.yaml": baseDeployment}, operator: gitopsapi.ArgoCD},
		"kustomize file": {files: map[string]string{
			"apps/kustomization.yaml": "resources:\n  - web.yaml\n  - ext/leak.yaml\n", "apps/web.yaml": baseDeployment,
		}, operator: TypeGit, refused: true},
		"kustomize directory": {files: map[string]string{
			"apps/kustomization.yaml": "resources:\n  - web.yaml\n  - ext\n", "apps/web.yaml": baseDeployment,
			"lib/kustomization.yaml": "resources:\n  - leak.yaml\n",
		}, operator: TypeGit, refused: true},
		"flux generated kustomization": {files: map[string]string{"apps/web.yaml": baseDeployment}, operator: gitopsapi.Flux, kustomize: true, refused: true},
		"jsonnet importstr": {files: map[string]string{
			"apps/main.jsonnet": "std.parseYaml(importstr 'ext/leak.yaml')",
		}, operator: gitopsapi.ArgoCD, refused: true},
	} {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{"lib/README.md": "lib"}
			for k, v := range tc.files {
				files[k] = v
			}
			root := writeTree(t, files)
			if err := os.Symlink(outside, filepath.Join(root, "lib", "leak.yaml")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join("..", "lib"), filepath.Join(root, "apps", "ext")); err != nil {
				t.Fatal(err)
			}
			spec := &gitopsapi.Source{Operator: tc.operator, Name: "probe", Path: "apps", Kustomize: tc.kustomize, Directory: gitopsapi.Directory{Recurse: true}}
			set, err := gitopsapi.Render(t.Context(), spec, root)
			if tc.refused != (err != nil) {
				t.Errorf("render error = %v, want refused %v", err, tc.refused)
			}
			got := fmt.Sprint(err)
			if set != nil {
				for _, o := range set.Objects {
					data, _ := json.Marshal(o.Obj.Object)
					got += string(data)
				}
				for _, s := range set.Skipped {
					got += fmt.Sprintf("%+v", s)
				}
			}
			if strings.Contains(got, canary) {
				t.Errorf("the renderer read the file outside the checkout: %s", got)
			}
			if err == nil && len(set.Objects) != 1 {
				t.Errorf("objects = %+v, want web alone", objects(set))
			}
		})
	}
}
