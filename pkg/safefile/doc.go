// Package safefile provides atomic file replacement for files that may hold
// secrets: the new content goes to a temporary file in the same directory,
// created with mode 0600 (or the mode asked), is fsynced, then renamed over
// the target, and the directory is fsynced. A reader sees the old file or
// the new one, never a part; on any error the target is untouched and the
// temporary file is removed.
//
// It must not import cobra or pflag, nor write to stdout.
package safefile
