package objdiff_test

import (
	"fmt"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
)

// Subset compares what Git declares with the live object: fields Git does
// not mention (status, defaults) are not drift.
func ExampleSubset() {
	desired := map[string]any{
		"spec": map[string]any{"replicas": int64(3), "paused": false},
	}
	live := map[string]any{
		"spec":   map[string]any{"replicas": int64(5), "revisionHistoryLimit": int64(10)},
		"status": map[string]any{"readyReplicas": int64(5)},
	}
	for _, c := range objdiff.Subset(desired, live) {
		fmt.Printf("%s %s: live %v, Git %v\n", c.Type, c.Path, c.Live, c.Desired)
	}
	// Output:
	// missing spec.paused: live <nil>, Git false
	// modified spec.replicas: live 5, Git 3
}
