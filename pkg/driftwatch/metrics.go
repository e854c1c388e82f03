package driftwatch

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
)

// Metric names, documented in docs/drift.md ("Metrics reference").
const (
	MetricDriftObjects  = "kubectl_gitops_drift_objects"
	MetricLastSuccess   = "kubectl_gitops_drift_last_success_timestamp_seconds"
	MetricCheckDuration = "kubectl_gitops_drift_check_duration_seconds"
	MetricCheckErrors   = "kubectl_gitops_drift_check_errors_total"
	MetricChecks        = "kubectl_gitops_drift_checks_total"
	MetricRemediations  = "kubectl_gitops_drift_remediations_total"
)

// MetricLabels returns every metric the watcher exports with its labels
// (a histogram's _bucket series add "le").
func MetricLabels() map[string][]string {
	return map[string][]string{
		MetricDriftObjects:  {"source", "kind", "namespace", "status", "classification"},
		MetricLastSuccess:   {"source"},
		MetricCheckDuration: nil,
		MetricCheckErrors:   {"source"},
		MetricChecks:        nil,
		MetricRemediations:  {"source", "result"},
	}
}

// durationBuckets span a check of a few objects to one of thousands over a
// slow link.
var durationBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

type metrics struct {
	drift        *driftCollector
	lastSuccess  *prometheus.GaugeVec
	duration     prometheus.Histogram
	checkErrors  *prometheus.CounterVec
	checks       prometheus.Counter
	remediations *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	labels := MetricLabels()
	m := &metrics{
		drift: newDriftCollector(),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricLastSuccess,
			Help: "Unix time of the last successful check of each source.",
		}, labels[MetricLastSuccess]),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    MetricCheckDuration,
			Help:    "Duration of each drift check (every source), in seconds.",
			Buckets: durationBuckets,
		}),
		checkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricCheckErrors,
			Help: "Sources that could not be checked (source is empty when the whole check failed).",
		}, labels[MetricCheckErrors]),
		checks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricChecks,
			Help: "Drift checks run.",
		}),
		remediations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRemediations,
			Help: "Remediations attempted per source, by result (applied, skipped, failed).",
		}, labels[MetricRemediations]),
	}
	for _, c := range []prometheus.Collector{m.drift, m.lastSuccess, m.duration, m.checkErrors, m.checks, m.remediations} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	return m, nil
}

// observe records the results of a check that ran: per-source errors, last
// success times and the drift gauge. A source that failed keeps its last
// known drift; a source no longer checked loses its series.
func (m *metrics) observe(results []SourceResult, now time.Time) {
	present := map[string]bool{}
	for _, r := range results {
		present[r.Source] = true
		errs := m.checkErrors.WithLabelValues(r.Source) // 0 from the first check on
		if r.Err != nil {
			errs.Inc()
			continue
		}
		m.lastSuccess.WithLabelValues(r.Source).Set(float64(now.UnixNano()) / 1e9)
		m.drift.set(r.Source, r.Report)
	}
	for _, s := range m.drift.sources() {
		if !present[s] {
			m.drift.drop(s)
			m.lastSuccess.DeleteLabelValues(s)
		}
	}
}

// driftKey is one series of kubectl_gitops_drift_objects, less the source.
type driftKey struct {
	kind, namespace, status, classification string
}

// driftCollector exports the drift gauge from a snapshot replaced as a whole
// after each check, so a scrape never sees half a cycle. A series seen once
// stays, at 0, while its source is checked: cleared drift drops to 0.
type driftCollector struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	// series[source][key] is the number of objects.
	series map[string]map[driftKey]int
}

func newDriftCollector() *driftCollector {
	return &driftCollector{
		desc: prometheus.NewDesc(MetricDriftObjects,
			"Objects that differ from Git at the last successful check of their source, by status (modified, missing, extraneous, error) and by who changed them (classification of the managers owning the drifted fields: gitops-agent, controller, human, unknown).",
			MetricLabels()[MetricDriftObjects], nil),
		series: map[string]map[driftKey]int{},
	}
}

func (c *driftCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *driftCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for source, keys := range c.series {
		for k, n := range keys {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n),
				source, k.kind, k.namespace, k.status, k.classification)
		}
	}
}

func (c *driftCollector) set(source string, rep *compare.Report) {
	next := map[driftKey]int{}
	if rep != nil {
		for i := range rep.Objects {
			o := &rep.Objects[i]
			if !o.Drifted() && o.Status != compare.StatusError {
				continue
			}
			next[driftKey{o.Kind, o.Namespace, string(o.Status), string(Classification(o))}]++
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.series[source] {
		if _, ok := next[k]; !ok {
			next[k] = 0
		}
	}
	c.series[source] = next
}

func (c *driftCollector) drop(source string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.series, source)
}

func (c *driftCollector) sources() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.series))
	for s := range c.series {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// classRank orders classes by how much they say about a drift: a person's
// change matters most, then an unknown actor, then a controller, then the
// GitOps agent itself.
var classRank = map[objdiff.Class]int{
	objdiff.ClassHuman: 4, objdiff.ClassUnknown: 3, objdiff.ClassController: 2, objdiff.ClassAgent: 1,
}

// Classification says who drifted an object: the highest-ranked class
// (human, unknown, controller, gitops-agent) among the managers owning its
// drifted fields; unknown when no manager owns them (a missing or
// extraneous object, a field Git sets that was removed).
func Classification(o *compare.ObjectReport) objdiff.Class {
	best := objdiff.Class("")
	for _, c := range o.Changes {
		for _, own := range c.Owners {
			if classRank[own.Class] > classRank[best] {
				best = own.Class
			}
		}
	}
	if best == "" {
		return objdiff.ClassUnknown
	}
	return best
}
