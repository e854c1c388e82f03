package gitsource

import "syscall"

// inMemory says whether dir is on a tmpfs (memory, never written to disk
// unless swapped).
func inMemory(dir string) bool {
	var fs syscall.Statfs_t
	return syscall.Statfs(dir, &fs) == nil && fs.Type == 0x01021994 // TMPFS_MAGIC
}
