//go:build !unix

package gitsource

import (
	"os"
	"os/exec"
)

// interruptGroup makes cancellation interrupt cmd (process groups are a Unix
// notion).
func interruptGroup(cmd *exec.Cmd) {
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
}

// ramDir is "": no memory directory is looked for.
func ramDir() string { return "" }

// sweepKeyDirs does nothing: process liveness is a Unix notion here.
func sweepKeyDirs(string) {}
