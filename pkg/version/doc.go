// Package version provides the build identity of the kubectl-gitops binaries
// (version, commit, build date), stamped at link time by the Makefile and
// hack/release.sh, and its rendering as text, JSON or YAML.
//
// It imports only the standard library, so the dispatcher binary, which must
// stay free of Kubernetes dependencies, can use it too.
package version
