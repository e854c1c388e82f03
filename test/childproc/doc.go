// Package childproc provides what the test harnesses that run real servers
// (test/controlplane, test/gitea) share about their child processes: process
// attributes that take a child down with the test process, temp directories
// claimed by their owner's pid and swept once that owner is gone, free
// loopback ports, the tail of a log for failure messages, and a command's
// stdout with its stderr in the error when it fails.
//
// It is test support: pkg/ and plugins/ must not import it.
package childproc
