// Package tenant provides the `kubectl gitops tenant` plugin: its cobra command,
// options (Complete, Validate, Run) and rendering. Engines live in pkg/; this
// package must not import sibling plugin packages.
package tenant
