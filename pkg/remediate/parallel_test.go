package remediate

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestParallel pins the pool Fix runs the non-foundation objects in: at
// most n at once, every index once when nothing fails; after a fatal error
// the first one is returned, the indexes running finish before it returns,
// and the rest of the list is not handed out; a done context stops it.
func TestParallel(t *testing.T) {
	idxs := make([]int, 100)
	for i := range idxs {
		idxs[i] = i
	}

	t.Run("all, at most n at once", func(t *testing.T) {
		var running, peak atomic.Int32
		var mu sync.Mutex
		seen := map[int]int{}
		gate := make(chan struct{})
		go func() {
			// Let the pool fill up before the first call returns.
			for running.Load() < 3 {
				runtime.Gosched()
			}
			close(gate)
		}()
		err := parallel(context.Background(), idxs, 3, func(i int) error {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-gate
			mu.Lock()
			seen[i]++
			mu.Unlock()
			running.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != len(idxs) {
			t.Errorf("%d of %d indexes run", len(seen), len(idxs))
		}
		for i, n := range seen {
			if n != 1 {
				t.Errorf("index %d run %d times", i, n)
			}
		}
		if p := peak.Load(); p != 3 {
			t.Errorf("peak concurrency %d, want 3", p)
		}
	})

	t.Run("first fatal error kept", func(t *testing.T) {
		var started atomic.Int32
		err := parallel(context.Background(), idxs, 1, func(i int) error {
			started.Add(1)
			if i == 0 {
				return errors.New("fatal 0")
			}
			return fmt.Errorf("later %d", i)
		})
		if err == nil || err.Error() != "fatal 0" {
			t.Errorf("error %v, want the first one (fatal 0)", err)
		}
		// The index waiting for the slot when the error came may still
		// start; nothing after it.
		if s := started.Load(); s > 2 {
			t.Errorf("%d indexes started after a fatal error, one at once", s)
		}
	})

	t.Run("running ones finish", func(t *testing.T) {
		var started, finished atomic.Int32
		slow := make(chan struct{})
		err := parallel(context.Background(), idxs, 4, func(i int) error {
			started.Add(1)
			defer finished.Add(1)
			if i == 1 {
				defer close(slow)
				return errors.New("fatal 1")
			}
			// Running (or waiting for a slot) when the error comes.
			<-slow
			return nil
		})
		if err == nil || err.Error() != "fatal 1" {
			t.Errorf("error %v, want fatal 1", err)
		}
		if s, f := started.Load(), finished.Load(); s != f {
			t.Errorf("%d started, only %d finished before it returned", s, f)
		}
		if s := started.Load(); s > 4+1 {
			t.Errorf("%d indexes started after a fatal error, 4 at once", s)
		}
	})

	t.Run("context done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var started atomic.Int32
		err := parallel(ctx, idxs, 4, func(int) error { started.Add(1); return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if n := started.Load(); n != 0 {
			t.Errorf("%d indexes started with a cancelled context", n)
		}
	})
}
