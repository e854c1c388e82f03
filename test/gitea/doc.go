// Package gitea provides a real, throwaway Gitea server for tests: the
// binary built and cached by hack/peer-tools.sh (see test/peertools), started
// on a free 127.0.0.1 port with a SQLite database in a temp directory, an
// administrator, an API token, and helpers to create repositories, report
// commit statuses and run git with the user's configuration shut out.
//
// Start skips the calling test when Gitea is not built, or fails it when
// KUBECTL_GITOPS_REQUIRE_CLUSTER is set (make test, CI). Gitea runs in its
// own process group and, on Linux, with Pdeathsig, so a test process killed
// outright takes it along; directories left behind are swept by the next
// Start. It is test support: pkg/ and plugins/ must not import it outside
// _test.go files.
package gitea
