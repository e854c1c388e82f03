// Package dispatch provides the kubectl-gitops dispatcher: `kubectl gitops
// VERB …` runs the sibling binary kubectl-gitops-VERB (next to the resolved
// dispatcher executable, else on PATH) with arguments, stdio and exit code
// passed through unchanged, so one krew plugin named "gitops" serves every
// verb. Run as argocd-gitops (Argo CD v3) or flux-gitops (Flux v2.9) it
// names that host in its messages and passes HOST-gitops-VERB to the verb as
// argv[0], so the verb's help and hints read "flux gitops drift". MainWith
// serves the multicall build, whose verbs are compiled in.
//
// It must stay tiny: the standard library and pkg/version only, never
// Kubernetes, cobra or the plugin packages (a test enforces this).
package dispatch
