package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
)

var (
	shared     *ControlPlane
	skipReason string
)

// RunTests is for TestMain: it starts one control plane for the package, runs
// the tests and stops it, also on SIGINT/SIGTERM. When the binaries are not
// built, tests that call ForTest are skipped with a message saying how to
// build them, unless KUBECTL_GITOPS_REQUIRE_CLUSTER is set (make test, CI),
// in which case the package fails.
func RunTests(m *testing.M, opts Options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cleanup := sync.OnceFunc(func() {
		if opts.Cleanup != nil {
			opts.Cleanup()
		}
	})
	cp, err := Start(ctx, opts)
	switch {
	case err == nil:
		shared = cp
	case errors.Is(err, ErrNotBuilt) && os.Getenv(EnvRequire) == "":
		skipReason = "real control plane not available: " + err.Error()
		fmt.Fprintln(os.Stderr, "SKIP:", skipReason)
	default:
		fmt.Fprintln(os.Stderr, "FAIL: starting the control plane:", err)
		cleanup()
		return 1
	}

	// Stop the control plane and clean up when interrupted, even
	// mid-test, before exiting: nothing after RunTests runs then.
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			if shared != nil {
				_ = shared.Stop()
			}
			cleanup()
			fmt.Fprintln(os.Stderr, "interrupted: control plane stopped")
			os.Exit(130)
		case <-done:
		}
	}()
	code := m.Run()
	close(done)
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	cleanup()
	return code
}

// ForTest returns the package's shared control plane, or skips the test when
// RunTests found no binaries (and the environment did not require them).
func ForTest(t testing.TB) *ControlPlane {
	t.Helper()
	if shared == nil {
		if skipReason == "" {
			t.Fatal("controlplane.ForTest called without controlplane.RunTests in TestMain")
		}
		t.Skip(skipReason)
	}
	return shared
}
