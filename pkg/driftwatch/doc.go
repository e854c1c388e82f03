// Package driftwatch provides the reconcile loop behind `drift watch`: it
// runs a drift check immediately and then every interval (never two at once),
// exports the results as Prometheus metrics, records a Kubernetes Event when
// an object starts drifting and when it stops, optionally calls a
// remediation hook, and serves /metrics, /healthz and /readyz.
//
// What a check compares is the caller's business: Config.Check returns one
// compare.Report per source. The package must not import cobra or the
// plugins; the cluster is reached only through pkg/cluster's interfaces.
package driftwatch
