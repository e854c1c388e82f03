//go:build !unix

package gitea

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
