//go:build unix && !linux

package childproc

import "syscall"

func SysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
