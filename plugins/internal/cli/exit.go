package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes. They are a stable, documented contract (README "Exit codes").
const (
	// ExitOK: the command did what was asked and found nothing to report.
	ExitOK = 0
	// ExitFindings: the command ran and found what it looks for (drift,
	// plaintext secrets, isolation gaps, …), like `kubectl diff` exiting 1.
	ExitFindings = 1
	// ExitError: the command failed: a wrong command line or input (unknown
	// flag or verb, bad arguments, invalid manifest: a one-line message and a
	// usage hint), or an operation that could not be done (API server, Git,
	// file system, a tool it runs). Like `kubectl diff` and `flux diff`, every
	// error is >1, so "1" always means findings.
	ExitError = 2
	// ExitUsage and ExitFailure name the two kinds of error; both exit 2.
	ExitUsage   = ExitError
	ExitFailure = ExitError
	// ExitInterrupted: stopped by SIGINT or SIGTERM (128+SIGINT, as shells do).
	ExitInterrupted = 130
)

// ExitCoder is implemented by errors that choose their own exit code. The
// marker method keeps errors of other packages that happen to have an
// ExitCode method (*exec.ExitError: a child's status) from choosing ours.
type ExitCoder interface {
	ExitCode() int
	gitopsExitCode()
}

// UsageError reports a wrong command line or invalid input: exit code 2.
type UsageError struct {
	Err error
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// ExitCode implements ExitCoder.
func (e *UsageError) ExitCode() int { return ExitUsage }

func (e *UsageError) gitopsExitCode() {}

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// FindingsError reports that the command found what it looks for. It is not
// a failure: its message, if any, is printed without the "error:" prefix.
type FindingsError struct {
	// Summary is printed on stderr when not empty, e.g. "3 objects drifted".
	Summary string
}

func (e *FindingsError) Error() string {
	if e.Summary == "" {
		return "findings reported"
	}
	return e.Summary
}

// ExitCode implements ExitCoder.
func (e *FindingsError) ExitCode() int { return ExitFindings }

func (e *FindingsError) gitopsExitCode() {}

// ExitCodeOf maps an error returned by a command to the process exit code.
func ExitCodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var ec ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return ExitFailure
}
