package childproc

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ownerFile holds the pid of the process owning a claimed directory.
const ownerFile = "owner.pid"

// Claim records the current process as the owner of dir, for SweepStale.
func Claim(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600)
}

// SweepStale removes the directories base/prefix* whose owner process is
// gone (a test binary killed with SIGKILL cannot clean up after itself; its
// children died with it through Pdeathsig). A directory without an owner
// is being created right now, or not ours: it is left unless an hour old.
func SweepStale(base, prefix string) {
	matches, _ := filepath.Glob(filepath.Join(base, prefix+"*"))
	for _, dir := range matches {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			if fi, serr := os.Stat(dir); serr == nil && time.Since(fi.ModTime()) > time.Hour {
				_ = os.RemoveAll(dir)
			}
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || !alive(pid) {
			_ = os.RemoveAll(dir)
		}
	}
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// FreePorts returns n distinct free ports on 127.0.0.1 (held open together
// while they are chosen, so they differ).
func FreePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Tail returns the last n lines of the file at path ("" when unreadable).
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Output runs cmd and returns its stdout, for the caller to parse. When
// cmd fails, the error carries both stdout and stderr (where tools say
// why), which exec.Cmd.Output's error does not show.
func Output(cmd *exec.Cmd) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s: %w\nstdout:\n%s\nstderr:\n%s", filepath.Base(cmd.Path), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes(), nil
}
