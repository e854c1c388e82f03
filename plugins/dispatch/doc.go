// Package dispatch provides the kubectl-gitops dispatcher: `kubectl gitops
// VERB …` runs the sibling binary kubectl-gitops-VERB (next to the resolved
// dispatcher executable, else on PATH) with arguments, stdio and exit code
// passed through unchanged, so one krew plugin named "gitops" serves every
// verb.
//
// It must stay tiny: the standard library and pkg/version only, never
// Kubernetes, cobra or the plugin packages (a test enforces this).
package dispatch
