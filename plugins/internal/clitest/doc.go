// Package clitest runs a plugin's command in-process for tests, as its
// binary would run: cli.Run with the arguments, environment and standard
// input a test gives, returning the exit code and what was written to
// standard output and standard error.
//
// It is test support: only _test.go files import it. It lives under
// plugins/internal (not test/) because Go lets only plugins/... import
// plugins/internal/cli. It must not import pkg/ engines or a plugin (the
// plugin's NewCmd is passed in), and writes nothing to stdout.
package clitest
