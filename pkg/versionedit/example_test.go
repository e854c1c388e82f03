package versionedit_test

import (
	"fmt"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/versionedit"
)

// Set changes one version in place: the rest of the file, comments
// included, stays byte for byte.
func ExampleSet() {
	kustomization := []byte(`# Production images.
images:
  - name: ghcr.io/acme/web
    newTag: 1.4.1 # promoted by kubectl gitops promote
`)
	loc := versionedit.Location{KustomizeImage: "ghcr.io/acme/web"}
	out, changes, err := versionedit.Set(kustomization, loc, "1.4.2")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range changes {
		fmt.Println(c)
	}
	fmt.Print(string(out))
	// Output:
	// line 4 images[0].newTag: 1.4.1 → 1.4.2
	// # Production images.
	// images:
	//   - name: ghcr.io/acme/web
	//     newTag: 1.4.2 # promoted by kubectl gitops promote
}
