// Package e2e tests the real binaries as users run them: built with `go
// build`, found by the real kubectl's plugin lookup (and by the dispatcher,
// as krew installs it), against the project's real control plane.
package e2e
