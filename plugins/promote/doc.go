// Package promote provides the `kubectl gitops promote` plugin: its cobra command,
// options (Complete, Validate, Run) and rendering. Engines live in pkg/; this
// package must not import sibling plugin packages.
package promote
