//go:build !linux

package gitsource

// inMemory is false: only Linux's /dev/shm is used.
func inMemory(string) bool { return false }
