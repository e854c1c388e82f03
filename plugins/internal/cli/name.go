package cli

import (
	"path/filepath"
	"strings"
)

// hosts are the CLIs whose plugin mechanism runs a binary named HOST-NAME as
// "HOST NAME": kubectl (kubectl-gitops-drift), Argo CD v3 (argocd-gitops on
// PATH) and Flux v2.9 (flux-gitops in ~/.fluxcd/plugins). Argo CD and Flux
// pass the full path as argv[0]; the dispatcher passes HOST-gitops-VERB to
// the verb it runs, so the verb names its host too.
var hosts = []string{"kubectl", "argocd", "flux"}

// DisplayName derives the name a user typed from the binary's argv[0], the
// way the host's plugin mechanism maps names: "kubectl-gitops-drift" is run
// as "kubectl gitops drift", "flux-gitops" as "flux gitops",
// "/usr/bin/argocd-gitops" as "argocd gitops", and "kubectl-gitops_drift"
// (krew's naming of a plugin called "gitops-drift") as "kubectl gitops-drift".
// A binary not named after a host keeps its own name.
func DisplayName(argv0 string) string {
	base := filepath.Base(argv0)
	if len(base) > 4 && strings.EqualFold(base[len(base)-4:], ".exe") {
		base = base[:len(base)-4]
	}
	for _, host := range hosts {
		rest, ok := strings.CutPrefix(base, host+"-")
		if !ok || rest == "" {
			continue
		}
		words := strings.Split(rest, "-")
		for i, w := range words {
			words[i] = strings.ReplaceAll(w, "_", "-")
		}
		return host + " " + strings.Join(words, " ")
	}
	return base
}
