package fleet

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
)

func report(statuses ...compare.Status) *compare.Report {
	r := &compare.Report{Mode: compare.ModeServer}
	for i, s := range statuses {
		r.Objects = append(r.Objects, compare.ObjectReport{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: string(rune('a' + i)), Status: s})
	}
	return r
}

func TestCellStates(t *testing.T) {
	t.Parallel()
	U, M, Mi, X, S, E := compare.StatusUnchanged, compare.StatusModified, compare.StatusMissing, compare.StatusExtraneous, compare.StatusSkipped, compare.StatusError
	tests := []struct {
		name   string
		result SourceResult
		want   State
		counts Counts
	}{
		{"all unchanged", SourceResult{Report: report(U, U, S)}, StateInSync, Counts{Unchanged: 2, Skipped: 1}},
		{"modified", SourceResult{Report: report(U, M)}, StateDrifted, Counts{Unchanged: 1, Modified: 1}},
		{"only missing", SourceResult{Report: report(Mi, Mi)}, StateMissing, Counts{Missing: 2}},
		{"only extraneous", SourceResult{Report: report(U, X)}, StateExtraneous, Counts{Unchanged: 1, Extraneous: 1}},
		{"missing and extraneous", SourceResult{Report: report(Mi, X)}, StateDrifted, Counts{Missing: 1, Extraneous: 1}},
		{"an object in error", SourceResult{Report: report(M, E)}, StateError, Counts{Modified: 1, Error: 1}},
		{"source error", SourceResult{Err: errors.New("boom")}, StateError, Counts{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := Run(t.Context(), []string{"a"}, Options{}, func(context.Context, string) ([]SourceResult, error) {
				return []SourceResult{tt.result}, nil
			})
			c, ok := m.Cell("", "a")
			if !ok {
				t.Fatalf("no cell: %+v", m)
			}
			if c.State != tt.want {
				t.Errorf("state = %s, want %s", c.State, tt.want)
			}
			if diff := cmp.Diff(tt.counts, c.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if (c.State == StateError) != (c.Error != "") {
				t.Errorf("error %q with state %s", c.Error, c.State)
			}
		})
	}
}

// TestMatrix: sources learnt from the clusters that answered; a failing
// cluster is an error cell in every row, the others are unaffected.
func TestMatrix(t *testing.T) {
	t.Parallel()
	check := func(_ context.Context, cl string) ([]SourceResult, error) {
		switch cl {
		case "down":
			return nil, errors.New("connection refused")
		case "prod":
			return []SourceResult{
				{Source: "argocd/argocd/web", Report: report(compare.StatusModified)},
				{Source: "flux/flux-system/apps", Report: report(compare.StatusUnchanged)},
			}, nil
		default:
			return []SourceResult{
				{Source: "argocd/argocd/web", Report: report(compare.StatusUnchanged)},
				{Source: "flux/flux-system/apps", Err: errors.New("GitRepository not ready")},
			}, nil
		}
	}
	m := Run(t.Context(), []string{"prod", "down", "stage"}, Options{Parallel: 2}, check)
	var got []string
	for _, c := range m.Cells {
		got = append(got, c.Source+"@"+c.Cluster+"="+string(c.State))
	}
	want := []string{
		"argocd/argocd/web@prod=drifted", "argocd/argocd/web@down=error", "argocd/argocd/web@stage=in-sync",
		"flux/flux-system/apps@prod=in-sync", "flux/flux-system/apps@down=error", "flux/flux-system/apps@stage=error",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
	if c, _ := m.Cell("argocd/argocd/web", "down"); c.Error != "connection refused" {
		t.Errorf("error cell = %q", c.Error)
	}
	if !m.Errored() || !m.Drifted() {
		t.Errorf("Errored=%v Drifted=%v, want both", m.Errored(), m.Drifted())
	}
	if diff := cmp.Diff([]string{"prod", "down", "stage"}, m.Clusters); diff != "" {
		t.Errorf("clusters keep the order given (-want +got):\n%s", diff)
	}
}

// TestNothingAnswered: one row for the desired state, all errors.
func TestNothingAnswered(t *testing.T) {
	t.Parallel()
	m := Run(t.Context(), []string{"a", "b"}, Options{}, func(context.Context, string) ([]SourceResult, error) {
		return nil, errors.New("no route to host")
	})
	if len(m.Cells) != 2 || m.Cells[0].State != StateError || m.Cells[1].State != StateError || m.Sources[0] != "" {
		t.Errorf("cells = %+v", m.Cells)
	}
}

// TestBoundedPool: never more than Parallel checks at once, every cluster
// checked.
func TestBoundedPool(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	running, peak, calls := 0, 0, 0
	clusters := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	m := Run(t.Context(), clusters, Options{Parallel: 3}, func(context.Context, string) ([]SourceResult, error) {
		mu.Lock()
		running++
		calls++
		peak = max(peak, running)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		return []SourceResult{{Report: report(compare.StatusUnchanged)}}, nil
	})
	if peak > 3 || peak < 1 {
		t.Errorf("peak concurrency = %d, want 1..3", peak)
	}
	if calls != len(clusters) || len(m.Cells) != len(clusters) {
		t.Errorf("calls = %d, cells = %d, want %d", calls, len(m.Cells), len(clusters))
	}
}

// TestHungClusterDoesNotBlock: a check ignoring its context is abandoned at
// the timeout; the other clusters' cells are complete.
func TestHungClusterDoesNotBlock(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	m := Run(t.Context(), []string{"hung", "ok"}, Options{Parallel: 1, Timeout: 50 * time.Millisecond}, func(_ context.Context, cl string) ([]SourceResult, error) {
		if cl == "hung" {
			<-release // ignores ctx, as a blocked dial might
		}
		return []SourceResult{{Report: report(compare.StatusModified)}}, nil
	})
	hung, _ := m.Cell("", "hung")
	if hung.State != StateError || !strings.Contains(hung.Error, "--context-timeout") {
		t.Errorf("hung cell = %+v", hung)
	}
	ok, _ := m.Cell("", "ok")
	if ok.State != StateDrifted {
		t.Errorf("ok cell = %+v", ok)
	}
}

// TestTimeoutHonouringCheck: a check returning ctx's error at the deadline
// is reported as a timeout too.
func TestTimeoutHonouringCheck(t *testing.T) {
	t.Parallel()
	m := Run(t.Context(), []string{"slow"}, Options{Timeout: 20 * time.Millisecond}, func(ctx context.Context, _ string) ([]SourceResult, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if c := m.Cells[0]; c.State != StateError || !strings.Contains(c.Error, "no answer within --context-timeout 20ms") {
		t.Errorf("cell = %+v", c)
	}
}

// TestCancelWhileWaiting: clusters waiting for a free slot when ctx is
// cancelled are error cells, and their checks never start.
func TestCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	var called []string
	clusters := []string{"a", "b", "c", "d", "e", "f"}
	m := Run(ctx, clusters, Options{Parallel: 1}, func(cctx context.Context, cl string) ([]SourceResult, error) {
		mu.Lock()
		called = append(called, cl)
		mu.Unlock()
		cancel()
		<-cctx.Done()
		return nil, cctx.Err()
	})
	if len(called) != 1 {
		t.Errorf("checks started: %v, want only the first", called)
	}
	for _, cl := range clusters {
		c, ok := m.Cell("", cl)
		if !ok || c.State != StateError || !strings.Contains(c.Error, context.Canceled.Error()) {
			t.Errorf("cell of %s = %+v, want a %q error", cl, c, context.Canceled)
		}
	}
}
