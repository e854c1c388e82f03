//go:build unix

package remediate

import (
	"io/fs"
	"syscall"
)

// hardLinks returns the number of hard links of a file, 1 when unknown.
func hardLinks(st fs.FileInfo) uint64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Nlink) //nolint:unconvert // uint16 on some systems
	}
	return 1
}
