package childproc

import "syscall"

// SysProcAttr puts a child in its own process group (so a terminal's Ctrl-C
// reaches only the parent, which then stops the children in order) and asks
// the kernel to kill it when the parent dies.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
