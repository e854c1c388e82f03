// Package drift provides the `kubectl gitops drift` plugin: its cobra command,
// options (Complete, Validate, Run) and rendering. Engines live in pkg/; this
// package must not import sibling plugin packages.
package drift
