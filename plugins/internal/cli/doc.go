// Package cli provides what every kubectl-gitops plugin binary shares: the
// Main entry point (signals, kubeconfig flags, IO streams), the display name
// derived from argv[0], the version and completion subcommands, colour
// detection, error printing in kubectl's wording, the exit-code contract,
// the options lifecycle every command follows (Lifecycle, RunE) and its -o
// flag and document writer (OutputFlag, WriteData).
//
// Plugin packages build their cobra command from an *Env; only this package
// and cmd/ mains decide exit codes. It must not import pkg/ engines or sibling
// plugin packages; of pkg/ it uses only version, redact (to mask user
// data quoted in usage errors) and cluster (Env.Clientset: the one client
// construction).
package cli
