// Package hung provides, for tests, a server that accepts TCP connections
// on 127.0.0.1 and never answers: the peer every "Ctrl-C and timeouts
// against a hung server" test needs (the API server, a Git server, a
// certificate URL). It is test support: only _test.go files import it.
package hung
