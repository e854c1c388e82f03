package gitsource

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// keyDirPrefix begins the name of the directory holding an SSH key while
// git runs: kubectl-gitops-ssh-<pid>-<pidns>-<random>, pid the process
// that made it and pidns its pid namespace (pidNamespace), so that a later
// process can tell one whose owner is gone (killed: SIGKILL runs no
// cleanup) from one in use — a pid is only known in its namespace (a
// container sharing the directory has its own).
const keyDirPrefix = "kubectl-gitops-ssh-"

// keyDir creates the directory of an SSH key: under tempDir when the
// caller names one, else in memory (/dev/shm, when ramDir finds it private
// enough: the key never reaches a disk, and a reboot clears it), else
// under os.TempDir(). The stale key directories of that parent are swept
// first, once per process (sweepKeyDirsOnce).
func keyDir(tempDir string) (string, error) {
	base := tempDir
	if base == "" {
		base = ramDir()
	}
	if base != "" {
		sweepKeyDirsOnce(base)
		if dir, err := os.MkdirTemp(base, keyDirName()); err == nil || tempDir != "" {
			return dir, err
		}
	}
	sweepKeyDirsOnce(os.TempDir())
	return os.MkdirTemp("", keyDirName())
}

// keyDirName is the pattern of this process's key directories.
func keyDirName() string {
	return keyDirPrefix + strconv.Itoa(os.Getpid()) + "-" + pidNamespace() + "-"
}

// swept are the parents swept by this process.
var swept sync.Map

// sweepKeyDirsOnce is sweepKeyDirs(base), once per process and base.
func sweepKeyDirsOnce(base string) {
	if _, done := swept.LoadOrStore(base, true); !done {
		sweepKeyDirs(base)
	}
}

// keyDirPID is the pid in the name of a key directory made in this pid
// namespace, or 0 when name is not one.
func keyDirPID(name string) int {
	rest, ok := strings.CutPrefix(name, keyDirPrefix)
	if !ok {
		return 0
	}
	digits, rest, ok := strings.Cut(rest, "-")
	if !ok {
		return 0
	}
	if ns, _, ok := strings.Cut(rest, "-"); !ok || ns != pidNamespace() {
		return 0
	}
	pid, err := strconv.Atoi(digits)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != digits {
		return 0
	}
	return pid
}

// unknownPIDNamespace is pidNamespace where /proc cannot be read.
const unknownPIDNamespace = "0"

// pidNamespace is the inode of this process's pid namespace
// (/proc/self/ns/pid), unknownPIDNamespace where it cannot be read. A
// test replaces it.
var pidNamespace = sync.OnceValue(func() string {
	link, err := os.Readlink("/proc/self/ns/pid")
	if ino, ok := strings.CutPrefix(link, "pid:["); err == nil && ok && strings.HasSuffix(ino, "]") {
		if n, err := strconv.ParseUint(strings.TrimSuffix(ino, "]"), 10, 64); err == nil {
			return strconv.FormatUint(n, 10)
		}
	}
	return unknownPIDNamespace
})
