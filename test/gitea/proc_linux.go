package gitea

import "syscall"

// sysProcAttr puts Gitea in its own process group and asks the kernel to
// kill it when the test process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
