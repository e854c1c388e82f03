package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
)

// Defaults.
const (
	DefaultParallel = 4
	DefaultTimeout  = 2 * time.Minute
)

// Options tune a fleet run.
type Options struct {
	// Parallel bounds the clusters checked at once (default 4).
	Parallel int
	// Timeout bounds each cluster's check (default 2m). A cluster still
	// running then is an error cell; the others go on.
	Timeout time.Duration
}

// SourceResult is the comparison of one source with one cluster.
type SourceResult struct {
	// Source names the desired state ("" for the files given with -f/-k).
	Source string
	Report *compare.Report
	// Err is set when the source could not be compared on this cluster.
	Err error
	// Skip, with no Report and no Err, says why the source was not
	// compared (e.g. its reconciliation is suspended).
	Skip string
}

// CheckFunc compares every source with one cluster. The error is for the
// cluster as a whole (unreachable, kubeconfig context unusable); it must
// return when ctx is done.
type CheckFunc func(ctx context.Context, cluster string) ([]SourceResult, error)

// State is a cell's verdict.
type State string

// States.
const (
	StateInSync State = "in-sync"
	// StateDrifted: objects differ (or some are missing and others extraneous).
	StateDrifted State = "drifted"
	// StateMissing: the only drift is objects missing from the cluster.
	StateMissing State = "missing"
	// StateExtraneous: the only drift is objects the cluster has and Git not.
	StateExtraneous State = "extraneous"
	// StateError: the cluster or the source could not be checked, or some
	// objects could not be compared.
	StateError State = "error"
	// StateSkipped: the source was not compared on this cluster, on purpose
	// or because the cluster does not have it (Cell.Error says why).
	StateSkipped State = "skipped"
)

// NotOnCluster is the reason of a skipped cell whose source the cluster does
// not have: a source only the other clusters' checks returned.
const NotOnCluster = "not on this cluster"

// Counts are the objects per status of one cell.
type Counts struct {
	Unchanged  int `json:"unchanged"`
	Modified   int `json:"modified"`
	Missing    int `json:"missing"`
	Extraneous int `json:"extraneous"`
	Skipped    int `json:"skipped"`
	Error      int `json:"error"`
}

// Object is a drifted or errored object of a cell.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	Status     string `json:"status"`
}

// Cell is the verdict for one source on one cluster.
type Cell struct {
	Source  string   `json:"source"`
	Cluster string   `json:"cluster"`
	State   State    `json:"state"`
	Counts  Counts   `json:"counts"`
	Objects []Object `json:"objects,omitempty"`
	// Error says why the cell is an error or skipped.
	Error string `json:"error,omitempty"`
}

// Matrix is the result of a fleet run: one cell per source and cluster.
type Matrix struct {
	// Sources in the order first seen (clusters in order), Clusters in the
	// order given.
	Sources  []string `json:"sources"`
	Clusters []string `json:"clusters"`
	// Cells, source by source, cluster by cluster.
	Cells []Cell `json:"cells"`

	// checks are the checks Run started; those it abandoned may still run.
	checks *sync.WaitGroup
}

// Wait waits up to timeout for the checks Run abandoned — at their timeout,
// or when its context was cancelled — to return. Their context is cancelled:
// waiting lets them release what they hold (temporary clones, processes)
// before the program exits. It reports whether they all returned.
func (m *Matrix) Wait(timeout time.Duration) bool {
	if m.checks == nil {
		return true
	}
	done := make(chan struct{})
	go func() {
		m.checks.Wait()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// Cell returns the cell of source on cluster.
func (m *Matrix) Cell(source, cluster string) (Cell, bool) {
	for _, c := range m.Cells {
		if c.Source == source && c.Cluster == cluster {
			return c, true
		}
	}
	return Cell{}, false
}

// Errored reports whether any cell is an error.
func (m *Matrix) Errored() bool {
	for _, c := range m.Cells {
		if c.State == StateError {
			return true
		}
	}
	return false
}

// Drifted reports whether any cell shows drift.
func (m *Matrix) Drifted() bool {
	for _, c := range m.Cells {
		switch c.State {
		case StateDrifted, StateMissing, StateExtraneous:
			return true
		}
	}
	return false
}

// clusterResult is what one cluster's check returned.
type clusterResult struct {
	results []SourceResult
	err     error
}

// Run runs check for every cluster, at most opts.Parallel at once, each
// under its own opts.Timeout, and builds the matrix. A cluster whose check
// fails or times out gets an error cell for every source (known from the
// other clusters); a check that ignores its context is abandoned at the
// timeout, so it never holds up the rest (Matrix.Wait waits for the
// abandoned checks to return). Cancelling ctx makes the clusters not done
// yet error cells.
func Run(ctx context.Context, clusters []string, opts Options, check CheckFunc) *Matrix {
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultParallel
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	results := make([]clusterResult, len(clusters))
	checks := &sync.WaitGroup{}
	// runOne returns at once when ctx is cancelled, so the clusters waiting
	// for a slot get it at once, and are error cells without starting.
	var pool errgroup.Group
	pool.SetLimit(opts.Parallel)
	for i, name := range clusters {
		pool.Go(func() error {
			if err := ctx.Err(); err != nil {
				results[i] = clusterResult{err: err}
				return nil
			}
			results[i] = runOne(ctx, checks, name, opts.Timeout, check)
			return nil
		})
	}
	_ = pool.Wait() // the errors are in results
	m := build(clusters, results)
	m.checks = checks
	return m
}

// runOne runs check for one cluster under its timeout, counted in checks
// until it returns.
func runOne(ctx context.Context, checks *sync.WaitGroup, name string, timeout time.Duration, check CheckFunc) clusterResult {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan clusterResult, 1)
	checks.Add(1)
	go func() {
		defer checks.Done()
		res, err := check(cctx, name)
		done <- clusterResult{res, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			r.err = timeoutError(timeout, r.err)
		}
		return r
	case <-cctx.Done():
		if ctx.Err() != nil {
			return clusterResult{err: ctx.Err()}
		}
		return clusterResult{err: timeoutError(timeout, nil)}
	}
}

func timeoutError(timeout time.Duration, cause error) error {
	if cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within --context-timeout %s: %w", timeout, cause)
	}
	return fmt.Errorf("no answer within --context-timeout %s", timeout)
}

func build(clusters []string, results []clusterResult) *Matrix {
	m := &Matrix{Clusters: append([]string(nil), clusters...), Cells: []Cell{}}
	seen := map[string]bool{}
	for _, r := range results {
		for _, s := range r.results {
			if !seen[s.Source] {
				seen[s.Source] = true
				m.Sources = append(m.Sources, s.Source)
			}
		}
	}
	if len(m.Sources) == 0 {
		// Nothing answered: one row for the desired state as a whole.
		m.Sources = []string{""}
	}
	for _, src := range m.Sources {
		for i, cl := range clusters {
			m.Cells = append(m.Cells, cellFor(src, cl, results[i]))
		}
	}
	return m
}

func cellFor(source, cluster string, r clusterResult) Cell {
	c := Cell{Source: source, Cluster: cluster}
	if r.err != nil {
		c.State, c.Error = StateError, r.err.Error()
		return c
	}
	var sr *SourceResult
	for i := range r.results {
		if r.results[i].Source == source {
			sr = &r.results[i]
			break
		}
	}
	switch {
	case sr == nil:
		// Found on other clusters only (an Argo CD Application or Flux
		// Kustomization listed there): not deployed here, not an error.
		c.State, c.Error = StateSkipped, NotOnCluster
		return c
	case sr.Err != nil:
		c.State, c.Error = StateError, sr.Err.Error()
		return c
	case sr.Report == nil && sr.Skip != "":
		c.State, c.Error = StateSkipped, sr.Skip
		return c
	case sr.Report == nil:
		c.State, c.Error = StateError, "no report"
		return c
	}
	for i := range sr.Report.Objects {
		o := &sr.Report.Objects[i]
		switch o.Status {
		case compare.StatusUnchanged:
			c.Counts.Unchanged++
		case compare.StatusModified:
			c.Counts.Modified++
		case compare.StatusMissing:
			c.Counts.Missing++
		case compare.StatusExtraneous:
			c.Counts.Extraneous++
		case compare.StatusSkipped:
			c.Counts.Skipped++
		case compare.StatusError:
			c.Counts.Error++
		}
		if o.Drifted() || o.Status == compare.StatusError {
			c.Objects = append(c.Objects, Object{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Status: string(o.Status)})
		}
	}
	n := c.Counts
	switch {
	case n.Error > 0:
		c.State, c.Error = StateError, fmt.Sprintf("%d object(s) could not be compared", n.Error)
	case n.Modified > 0 || (n.Missing > 0 && n.Extraneous > 0):
		c.State = StateDrifted
	case n.Missing > 0:
		c.State = StateMissing
	case n.Extraneous > 0:
		c.State = StateExtraneous
	default:
		c.State = StateInSync
	}
	return c
}
