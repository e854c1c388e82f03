// Package peertools locates the real peer tools that kubectl-gitops' output
// must interoperate with — kubeseal and the sealed-secrets controller, sops,
// age and age-keygen, Gitea, and the Flux, Argo CD and Helm CLIs — as built
// and cached by hack/peer-tools.sh, for tests.
//
// Tests call Require: it skips the test with a message when a tool is not
// built, or fails it when KUBECTL_GITOPS_REQUIRE_CLUSTER is set (make test).
// It must not import cobra or any plugin package.
package peertools
