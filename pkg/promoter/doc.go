// Package promoter provides the engine behind `kubectl gitops promote`: it
// carries out a plan of pkg/promotion in one Git repository — the live gates
// (health and soak in gate_health.go, required forge checks in
// gate_checks.go, the source environment's drift, wired in gates.go), the
// commit and push with retries on races (gitflow.go), the pull request for
// stages that need one (pullrequest.go), and status and history
// (status.go).
//
// It reaches the cluster only through pkg/cluster's Reader, Git only through
// pkg/gitrepo and forges only through pkg/forge. It must not import cobra,
// pflag or the plugins, nor print: progress goes to the Engine's Progress
// function.
package promoter
