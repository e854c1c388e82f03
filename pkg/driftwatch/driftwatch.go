package driftwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
)

// SourceResult is the outcome of checking one source of desired state.
type SourceResult struct {
	// Source names the source (a metric label and part of event messages),
	// e.g. "argocd/argocd/shop" or "manifests".
	Source string
	// Report is the comparison; nil when Err is set.
	Report *compare.Report
	// Desired holds the objects compared, for the Fix hook (optional).
	Desired []compare.Desired
	// Err says why the source could not be checked (Git unreachable,
	// manifests invalid, cluster unreachable…).
	Err error
}

// FixResult says what a remediation hook did for one source.
type FixResult string

// Remediation results, the values of the result label of
// kubectl_gitops_drift_remediations_total.
const (
	// FixApplied: the hook changed the cluster.
	FixApplied FixResult = "applied"
	// FixSkipped: the hook's policy declined to act (e.g. drift by a person
	// that must be reviewed).
	FixSkipped FixResult = "skipped"
	// FixFailed: the hook returned an error.
	FixFailed FixResult = "failed"
)

// FixFunc remediates the drift of one source, found by the check that just
// ran. It is called only for sources whose report has drift. An error counts
// as FixFailed whatever result it returns with.
type FixFunc func(ctx context.Context, r SourceResult) (FixResult, error)

// Config configures a Watcher.
type Config struct {
	// Interval is the time from the start of one check to the start of the
	// next. A check taking longer delays the next one, which then starts as
	// soon as it finishes; checks never overlap. Required.
	Interval time.Duration
	// Jitter adds a random delay of up to Jitter×Interval before each
	// next check (0 to 1; default 0), so that many watchers spread out.
	Jitter float64
	// Check runs one drift check. An error means nothing could be checked
	// at all; per-source failures belong in SourceResult.Err. Required.
	Check func(ctx context.Context) ([]SourceResult, error)
	// Fix, when set, is called after a check for each source with drift.
	Fix FixFunc
	// Recorder, when set, records DriftDetected and DriftResolved events.
	Recorder EventRecorder
	// MaxEventsPerCycle bounds the events recorded after one check (default
	// 100); the others are recorded after the next checks.
	MaxEventsPerCycle int
	// Registry receives the metrics (default: a new registry, see
	// Watcher.Registry). Registering twice in one registry fails.
	Registry *prometheus.Registry
	// Clock is the time source (default: the real clock).
	Clock clock.Clock
	// Logger receives one line per check, and warnings (default: discard).
	Logger *slog.Logger
	// Listener, when set, serves Handler on it while Run runs; Run closes it.
	Listener net.Listener
	// FailureThreshold is the number of consecutive failed checks after
	// which /healthz reports unhealthy (default 3).
	FailureThreshold int
	// ShutdownTimeout bounds the HTTP server's graceful shutdown (default 5s).
	ShutdownTimeout time.Duration
}

// Defaults.
const (
	DefaultFailureThreshold  = 3
	DefaultMaxEventsPerCycle = 100
	DefaultShutdownTimeout   = 5 * time.Second
	// StaleIntervals is how many intervals without a successful check make
	// /healthz unhealthy.
	StaleIntervals = 3
)

// Watcher runs checks in a loop and keeps the state that metrics, events and
// health are derived from.
type Watcher struct {
	cfg     Config
	clock   clock.Clock
	log     *slog.Logger
	metrics *metrics
	events  *tracker

	mu               sync.Mutex
	started          time.Time // zero until Run starts
	checked          bool      // a check has completed
	stopping         bool
	lastSuccess      time.Time
	consecutiveFails int
	lastErr          string
}

// New validates cfg and registers the metrics.
func New(cfg Config) (*Watcher, error) {
	if cfg.Interval <= 0 {
		return nil, errors.New("creating watcher: the interval must be positive")
	}
	if cfg.Check == nil {
		return nil, errors.New("creating watcher: no check function")
	}
	if cfg.Jitter < 0 || cfg.Jitter > 1 {
		return nil, fmt.Errorf("creating watcher: jitter %v is not between 0 and 1", cfg.Jitter)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.FailureThreshold <= 0 {
		cfg.FailureThreshold = DefaultFailureThreshold
	}
	if cfg.MaxEventsPerCycle <= 0 {
		cfg.MaxEventsPerCycle = DefaultMaxEventsPerCycle
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	return &Watcher{
		cfg: cfg, clock: cfg.Clock, log: cfg.Logger, metrics: m,
		events: newTracker(cfg.Recorder, cfg.MaxEventsPerCycle, cfg.Logger),
	}, nil
}

// Registry returns the registry holding the watcher's metrics.
func (w *Watcher) Registry() *prometheus.Registry { return w.cfg.Registry }

// Run creates a Watcher from cfg and runs it until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	w, err := New(cfg)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// Run checks immediately and then every interval until ctx is done, serving
// Handler on Config.Listener meanwhile. It returns nil when stopped by ctx
// (the HTTP server shut down and the listener closed), or the HTTP server's
// error if it fails.
func (w *Watcher) Run(ctx context.Context) error {
	w.mu.Lock()
	if !w.started.IsZero() {
		w.mu.Unlock()
		return errors.New("watching: already running")
	}
	w.started = w.clock.Now()
	w.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var srv *http.Server
	serveErr := make(chan error, 1)
	if w.cfg.Listener != nil {
		srv = &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			err := srv.Serve(w.cfg.Listener)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			if err != nil {
				cancel()
			}
			serveErr <- err
		}()
	}

	w.loop(ctx)

	w.mu.Lock()
	w.stopping = true
	w.mu.Unlock()
	if srv == nil {
		return nil
	}
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.ShutdownTimeout)
	defer done()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-serveErr; err != nil {
		return fmt.Errorf("serving metrics on %s: %w", w.cfg.Listener.Addr(), err)
	}
	return nil
}

// loop runs the checks until ctx is done.
func (w *Watcher) loop(ctx context.Context) {
	for {
		start := w.clock.Now()
		w.cycle(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := w.cfg.Interval - w.clock.Since(start)
		if w.cfg.Jitter > 0 {
			wait += time.Duration(rand.Float64() * w.cfg.Jitter * float64(w.cfg.Interval))
		}
		if wait <= 0 {
			continue
		}
		t := w.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// cycle runs one check and derives metrics, events, remediation and health
// from it. A check interrupted by ctx leaves no trace.
func (w *Watcher) cycle(ctx context.Context) {
	start := w.clock.Now()
	results, err := w.cfg.Check(ctx)
	took := w.clock.Since(start)
	if ctx.Err() != nil {
		return
	}
	w.metrics.checks.Inc()
	w.metrics.duration.Observe(took.Seconds())

	var errs []string
	failed := err != nil
	if err != nil {
		w.metrics.checkErrors.WithLabelValues("").Inc()
		errs = append(errs, err.Error())
	} else {
		w.metrics.observe(results, w.clock.Now())
		ok := 0
		for _, r := range results {
			if r.Err != nil {
				errs = append(errs, sourceLabel(r.Source)+": "+r.Err.Error())
				continue
			}
			ok++
		}
		failed = len(results) > 0 && ok == 0
	}

	var announced eventCounts
	if err == nil {
		announced = w.events.update(ctx, results)
	}

	fixes := w.remediate(ctx, results)

	w.mu.Lock()
	w.checked = true
	if failed {
		w.consecutiveFails++
		w.lastErr = strings.Join(errs, "; ")
	} else {
		w.consecutiveFails = 0
		w.lastErr = ""
		w.lastSuccess = w.clock.Now()
	}
	w.mu.Unlock()

	w.logCycle(results, err == nil, took, errs, announced, fixes)
}

// remediate calls the Fix hook for every checked source with drift.
func (w *Watcher) remediate(ctx context.Context, results []SourceResult) map[FixResult]int {
	if w.cfg.Fix == nil {
		return nil
	}
	out := map[FixResult]int{}
	for _, r := range results {
		for _, res := range []FixResult{FixApplied, FixSkipped, FixFailed} {
			w.metrics.remediations.WithLabelValues(r.Source, string(res)) // 0 from the first check on
		}
		if r.Err != nil || r.Report == nil || !r.Report.Drifted() {
			continue
		}
		res, err := w.cfg.Fix(ctx, r)
		if ctx.Err() != nil {
			return out
		}
		if err != nil {
			res = FixFailed
			w.log.Warn("remediation failed", "source", r.Source, "error", err.Error())
		}
		if res == "" {
			res = FixApplied
		}
		w.metrics.remediations.WithLabelValues(r.Source, string(res)).Inc()
		out[res]++
	}
	return out
}

func (w *Watcher) logCycle(results []SourceResult, checked bool, took time.Duration, errs []string, ev eventCounts, fixes map[FixResult]int) {
	attrs := []any{"duration", took.Round(time.Millisecond).String()}
	if checked {
		counts := map[compare.Status]int{}
		for _, r := range results {
			if r.Report == nil {
				continue
			}
			for s, n := range r.Report.Counts() {
				counts[s] += n
			}
		}
		drifted := counts[compare.StatusModified] + counts[compare.StatusMissing] + counts[compare.StatusExtraneous]
		attrs = append(attrs, "sources", len(results), "drifted", drifted,
			"modified", counts[compare.StatusModified], "missing", counts[compare.StatusMissing],
			"extraneous", counts[compare.StatusExtraneous], "objectErrors", counts[compare.StatusError],
			"newlyDrifted", ev.detected, "resolved", ev.resolved)
	}
	for _, res := range []FixResult{FixApplied, FixSkipped, FixFailed} {
		if n := fixes[res]; n > 0 {
			attrs = append(attrs, "fix"+strings.ToUpper(string(res[:1]))+string(res[1:]), n)
		}
	}
	if len(errs) > 0 {
		attrs = append(attrs, "errors", len(errs), "error", strings.Join(errs, "; "))
		w.log.Warn("check", attrs...)
		return
	}
	w.log.Info("check", attrs...)
}

// Healthy returns nil when the loop runs and checks succeed: not when the
// last FailureThreshold checks all failed, nor when no check succeeded for
// StaleIntervals intervals.
func (w *Watcher) Healthy() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started.IsZero() {
		return errors.New("not started")
	}
	if w.stopping {
		return errors.New("shutting down")
	}
	if w.consecutiveFails >= w.cfg.FailureThreshold {
		return fmt.Errorf("the last %d checks failed: %s", w.consecutiveFails, w.lastErr)
	}
	since := w.lastSuccess
	if since.IsZero() {
		since = w.started
	}
	limit := time.Duration(StaleIntervals) * time.Duration(float64(w.cfg.Interval)*(1+w.cfg.Jitter))
	if age := w.clock.Since(since); age > limit {
		if w.lastSuccess.IsZero() {
			return fmt.Errorf("no successful check since the start %s ago", age.Round(time.Second))
		}
		return fmt.Errorf("no successful check for %s", age.Round(time.Second))
	}
	return nil
}

// Ready returns nil once the first check has completed (so the metrics
// describe the cluster), until shutdown.
func (w *Watcher) Ready() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.stopping:
		return errors.New("shutting down")
	case !w.checked:
		return errors.New("the first check has not completed")
	}
	return nil
}

// sourceLabel names a source in messages.
func sourceLabel(s string) string {
	if s == "" {
		return "(default source)"
	}
	return s
}
