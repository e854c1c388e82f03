package promotion_test

import (
	"fmt"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
)

// PlanPromotion turns a request into the files to change: here web goes
// from staging (1.4.2) to prod-eu (1.4.1), as testdata/pipeline.yaml
// (docs/promotion.md's example) lays the environments out.
func ExamplePlanPromotion() {
	p, err := promotion.Load("testdata/pipeline.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	current := promotion.Versions{
		"dev":     {"web": "1.5.0"},
		"staging": {"web": "1.4.2"},
		"prod-eu": {"web": "1.4.1"},
	}
	steps, err := promotion.PlanPromotion(p, current, promotion.Request{Apps: []string{"web"}, To: "prod-eu"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range steps {
		fmt.Printf("%s from %s: %s → %s (%s)\n", s.App, s.From, s.Old, s.New, s.Relation)
		for _, c := range s.Changes {
			fmt.Printf("  edit %s at %s\n", c.Path, c.Location)
		}
	}
	// Output:
	// web from staging: 1.4.1 → 1.4.2 (newer)
	//   edit envs/prod-eu/kustomization.yaml at kustomization.yaml (kustomizeImage ghcr.io/acme/web)
	//   edit envs/prod-eu/values.yaml at values.yaml (helmValues image.tag)
}
