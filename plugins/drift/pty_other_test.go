//go:build !linux

package drift

import (
	"os"
	"testing"
)

// terminalWith needs Linux pseudo-terminals; elsewhere the test is skipped.
func terminalWith(t *testing.T, _ string) *os.File {
	t.Helper()
	t.Skip("pseudo-terminals are opened on Linux only")
	return nil
}
