// Package fleet provides drift checks across many clusters (kube contexts):
// a check runs for every cluster in parallel with a bounded pool, each under
// its own timeout so that one unreachable cluster never blocks or hides the
// others, and the results form a matrix of source × cluster whose cells say
// in sync, drifted, missing, extraneous or error, with counts.
//
// It does not reach clusters itself: the caller's check function does
// (through pkg/cluster). Rendering the matrix is the plugin's job. It must
// not import cobra or the plugins, nor print.
package fleet
