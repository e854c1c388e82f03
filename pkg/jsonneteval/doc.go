// Package jsonneteval provides the evaluation of untrusted Jsonnet under a
// budget. On Linux, Evaluate runs go-jsonnet in a child process, the
// running executable started again with a private environment marker:
// Worker, called first thing in main (and in TestMain), turns that child
// into the evaluator, which caps its own memory (RLIMIT_DATA) and CPU time
// (RLIMIT_CPU) before reading any Jsonnet; the parent kills it when the
// caller's context ends, at a wall-clock budget, or when its output grows
// past a size budget, so neither a loop nor a memory bomb outlives the
// call or grows the caller. Elsewhere the evaluation runs in a goroutine
// of the caller, which returns on cancellation (see eval_other.go). In
// both, imports read only inside the repository's checkout.
//
// It imports nothing from the project (a leaf: gitopsapi builds the
// request), and never writes to stdout or stderr except as the worker
// answering its parent.
package jsonneteval
