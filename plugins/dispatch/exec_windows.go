//go:build windows

package dispatch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
)

// execVerb runs the verb binary as a child with the dispatcher's stdio and
// returns its exit code (Windows has no exec).
func execVerb(path string, argv []string) (int, error) {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Ctrl-C reaches the child through the console; the dispatcher waits.
	signal.Ignore(os.Interrupt)
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return exitFailure, fmt.Errorf("%w: %w", errExec, err)
	}
	return 0, nil
}
