//go:build !unix

package controlplane

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
