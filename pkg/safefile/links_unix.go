//go:build unix

package safefile

import (
	"io/fs"
	"syscall"
)

// hardLinks is the number of names of the file fi describes.
func hardLinks(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink) //nolint:unconvert // Nlink is uint32 on some Unix platforms
	}
	return 1
}
