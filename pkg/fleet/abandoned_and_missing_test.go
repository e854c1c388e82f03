package fleet

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
)

// TestWaitForAbandonedChecks: a check abandoned at its timeout goes on,
// cleaning up after its context ended; Matrix.Wait returns once it has
// returned, and reports false while a check still runs.
func TestWaitForAbandonedChecks(t *testing.T) {
	t.Parallel()
	var cleaned atomic.Bool
	m := Run(t.Context(), []string{"slow", "ok"}, Options{Parallel: 2, Timeout: 20 * time.Millisecond},
		func(ctx context.Context, cl string) ([]SourceResult, error) {
			if cl == "slow" {
				<-ctx.Done()
				time.Sleep(100 * time.Millisecond) // removing a clone, stopping git…
				cleaned.Store(true)
				return nil, ctx.Err()
			}
			return []SourceResult{{Report: report(compare.StatusUnchanged)}}, nil
		})
	if c, _ := m.Cell("", "slow"); c.State != StateError {
		t.Errorf("slow: %+v", c)
	}
	if !m.Wait(time.Minute) || !cleaned.Load() {
		t.Errorf("Wait returned before the abandoned check ended")
	}

	release := make(chan struct{})
	m = Run(t.Context(), []string{"stuck"}, Options{Timeout: 20 * time.Millisecond},
		func(ctx context.Context, _ string) ([]SourceResult, error) {
			<-release // ignores its context
			return nil, ctx.Err()
		})
	if m.Wait(50 * time.Millisecond) {
		t.Error("Wait reported true while a check still runs")
	}
	close(release)
	if !m.Wait(time.Minute) {
		t.Error("Wait: the check did not end")
	}

	var zero Matrix
	if !zero.Wait(time.Millisecond) {
		t.Error("Wait on a Matrix not from Run")
	}
}

// TestSourceOnSomeClustersOnly: sources found on each cluster (every
// Argo CD Application, every Flux Kustomization) differ from cluster to
// cluster; a source a cluster does not have is skipped there, not an
// error that would fail every heterogeneous fleet with exit 2.
func TestSourceOnSomeClustersOnly(t *testing.T) {
	t.Parallel()
	m := Run(t.Context(), []string{"a", "b"}, Options{}, func(_ context.Context, cl string) ([]SourceResult, error) {
		out := []SourceResult{{Source: "argocd/argocd/shared", Report: report(compare.StatusUnchanged)}}
		if cl == "a" {
			out = append(out, SourceResult{Source: "argocd/argocd/only-a", Report: report(compare.StatusUnchanged)})
		}
		return out, nil
	})
	c, ok := m.Cell("argocd/argocd/only-a", "b")
	if !ok || c.State != StateSkipped || c.Error != NotOnCluster {
		t.Errorf("cell only-a × b = %+v", c)
	}
	if m.Errored() || m.Drifted() {
		t.Errorf("Errored = %v, Drifted = %v; want neither", m.Errored(), m.Drifted())
	}
}
