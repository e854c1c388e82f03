//go:build unix

package gitsource

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// interruptGroup starts cmd in a new session (without a controlling
// terminal, so nothing it starts can prompt on it) and makes cancellation
// interrupt the whole process group, helpers included.
func interruptGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
			if errors.Is(err, syscall.ESRCH) {
				return os.ErrProcessDone
			}
			return err
		}
		return nil
	}
}
