// Package cluster provides the project's one seam to the Kubernetes API
// server: resolving kinds to resources, reading live objects (GET or one
// LIST per kind and namespace), server-side apply, dry-run or real, and
// SubjectAccessReviews, with no client-side rate limit unless the config
// asks for one.
// Engines receive its interfaces (Reader, Applier) so they can be tested
// against fakes for pure logic and against the real server otherwise.
//
// It must not import cobra, the plugins, or any engine package.
package cluster
