//go:build !linux

package jsonneteval

import "context"

// Worker does nothing where there is no worker: Jsonnet is evaluated in
// the caller's process.
func Worker() {}

// Evaluate evaluates req in a goroutine of this process: neither memory nor
// CPU time is bounded (l is not used), and when ctx ends it returns at once
// but go-jsonnet, which cannot be interrupted, goes on until the
// evaluation ends.
func Evaluate(ctx context.Context, req Request, l Limits) (string, error) {
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := req.evaluate()
		done <- result{out, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-done:
		return r.out, r.err
	}
}
