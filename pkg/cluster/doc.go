// Package cluster provides the project's one seam to the Kubernetes API
// server: resolving kinds to resources, reading live objects (GET or one
// LIST per kind and namespace), and server-side apply, dry-run or real.
// Engines receive its interfaces (Reader, Applier) so they can be tested
// against fakes for pure logic and against the real server otherwise.
//
// It must not import cobra, the plugins, or any engine package.
package cluster
