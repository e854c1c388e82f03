//go:build !unix

package childproc

import "syscall"

func SysProcAttr() *syscall.SysProcAttr { return nil }
