package cli

import (
	"path/filepath"
	"strings"
)

// DisplayName derives the name a user typed from the binary's argv[0], the
// way kubectl's plugin mechanism maps names: "kubectl-gitops-drift" is run as
// "kubectl gitops drift", and "kubectl-gitops_drift" (krew's naming of a
// plugin called "gitops-drift") as "kubectl gitops-drift". A binary that is
// not named kubectl-* keeps its own name.
func DisplayName(argv0 string) string {
	base := filepath.Base(argv0)
	base = strings.TrimSuffix(base, ".exe")
	rest, ok := strings.CutPrefix(base, "kubectl-")
	if !ok || rest == "" {
		return base
	}
	words := strings.Split(rest, "-")
	for i, w := range words {
		words[i] = strings.ReplaceAll(w, "_", "-")
	}
	return "kubectl " + strings.Join(words, " ")
}
