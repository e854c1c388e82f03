//go:build !windows

package dispatch

import (
	"fmt"
	"os"
	"syscall"
)

// execVerb replaces the dispatcher with the verb binary, so signals, stdio,
// the terminal and the exit code all belong to the verb.
func execVerb(path string, argv []string) (int, error) {
	err := syscall.Exec(path, argv, os.Environ())
	return exitFailure, fmt.Errorf("%w: %w", errExec, err)
}
