// Package textdiff provides line-based unified diffs of two texts, rendered
// the way GNU diff -u renders them (minus the timestamps), and their colouring
// for a terminal. The edit script comes from github.com/sergi/go-diff in line
// mode; no diff(1) process is spawned.
//
// It imports nothing from the project and nothing from Kubernetes: callers
// render objects to text (YAML) first.
package textdiff
