//go:build unix

package gitsource

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// ramDir is /dev/shm when it is a directory (not a symbolic link) of a
// memory file system that other users cannot rename entries in (sticky, or
// ours), else "".
func ramDir() string {
	const shm = "/dev/shm"
	fi, err := os.Lstat(shm)
	if err != nil || !fi.IsDir() {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || (fi.Mode()&os.ModeSticky == 0 && int(st.Uid) != os.Getuid()) {
		return ""
	}
	if !inMemory(shm) {
		return ""
	}
	return shm
}

// sweepKeyDirs removes the key directories (keyDirPrefix) directly in base
// that are ours (owned by this user, real directories: a symbolic link is
// never followed nor removed) and whose process is gone. A directory of a
// live process, of another user's, or of a process whose liveness cannot
// be told is kept. Errors are ignored: the sweep is best effort. On Linux
// a process with its pid namespace unknown (no /proc) sweeps nothing: a
// pid only means something in its namespace, and another container
// without /proc, sharing base and the uid, names its directories alike.
func sweepKeyDirs(base string) {
	if runtime.GOOS == "linux" && pidNamespace() == unknownPIDNamespace {
		return
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	var root *os.Root
	defer func() {
		if root != nil {
			_ = root.Close()
		}
	}()
	for _, e := range entries {
		pid := keyDirPID(e.Name())
		if pid == 0 || pid == os.Getpid() {
			continue
		}
		fi, err := os.Lstat(filepath.Join(base, e.Name()))
		if err != nil || !fi.IsDir() || fi.Mode()&os.ModeSymlink != 0 {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Getuid() {
			continue
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			continue // alive (or not ours to signal: alive too)
		}
		if root == nil {
			if root, err = os.OpenRoot(base); err != nil {
				return
			}
		}
		// Inside base only, links inside removed, never followed.
		_ = root.RemoveAll(e.Name())
	}
}
