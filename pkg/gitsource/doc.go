// Package gitsource provides read-only checkouts of one revision of a Git
// repository, for comparing what Git declares with a cluster: Fetch clones
// the revision (shallow where the server allows it) into a temporary
// directory with the real git command line, checks that the requested path
// stays inside the checkout (no "..", no symbolic link pointing out of it),
// and Checkout.Close removes everything again. ResolveSemver picks the
// highest tag matching a semantic-version range, as Flux's GitRepository
// ref.semver does.
//
// Every git process runs with GIT_TERMINAL_PROMPT=0 and, on Unix, in a
// session of its own without a terminal (a missing credential or an unknown
// SSH host key fails instead of waiting for input), and is stopped with
// every helper it started when its context ends.
// Credentials in repository URLs never appear in errors.
//
// It must not import cobra, pflag or anything that talks to the cluster, and
// never writes to stdout or stderr.
package gitsource
