package driftwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

// --- fixtures ---------------------------------------------------------------

func owner(manager string, class objdiff.Class) objdiff.Owner {
	return objdiff.Owner{Manager: manager, Operation: "Update", Class: class}
}

func change(path string, typ objdiff.ChangeType, owners ...objdiff.Owner) objdiff.Change {
	var p objpath.Path
	for _, k := range strings.Split(path, ".") {
		p = p.Key(k)
	}
	return objdiff.Change{Path: p, Type: typ, Owners: owners}
}

func object(kind, ns, name string, status compare.Status, changes ...objdiff.Change) compare.ObjectReport {
	apiVersion := "v1"
	if kind == "Deployment" {
		apiVersion = "apps/v1"
	}
	return compare.ObjectReport{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name, Status: status,
		Source: strings.ToLower(kind) + ".yaml:1", Changes: changes}
}

func report(objs ...compare.ObjectReport) *compare.Report {
	return &compare.Report{Mode: compare.ModeServer, Objects: objs}
}

// fakeRecorder records events in memory; fail makes Record fail for an
// object name.
type fakeRecorder struct {
	mu     sync.Mutex
	events []Event
	fail   map[string]error
}

func (f *fakeRecorder) Record(_ context.Context, e Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[e.Object.Name]; err != nil {
		return err
	}
	f.events = append(f.events, e)
	return nil
}

// take returns the events recorded since the last call, as
// "Reason Kind/name" lines.
func (f *fakeRecorder) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.events {
		out = append(out, e.Reason+" "+e.Object.Kind+"/"+e.Object.Name)
	}
	f.events = nil
	return out
}

// series returns the samples of a metric family as "label=value,…" → value.
func series(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(labels, ",")] = value(f.GetType(), m)
		}
	}
	return out
}

func value(typ dto.MetricType, m *dto.Metric) float64 {
	switch typ {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_HISTOGRAM:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return -1
}

// stepper drives a Watcher on a fake clock, one check at a time.
type stepper struct {
	t      *testing.T
	clk    *clocktesting.FakeClock
	calls  atomic.Int32
	w      *Watcher
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // what Run returned
}

// waitIdle waits until n checks ran and the loop waits for the next one.
func (s *stepper) waitIdle(n int) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for int(s.calls.Load()) != n || !s.clk.HasWaiters() {
		if time.Now().After(deadline) {
			s.t.Fatalf("loop not idle after check %d (calls %d, waiters %v)", n, s.calls.Load(), s.clk.HasWaiters())
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *stepper) stop() {
	s.t.Helper()
	s.cancel()
	select {
	case <-s.done:
		if s.err != nil {
			s.t.Errorf("Run returned %v after cancel, want nil", s.err)
		}
	case <-time.After(10 * time.Second):
		s.t.Fatal("Run did not return after cancel")
	}
}

func start(t *testing.T, cfg Config, check func(i int) ([]SourceResult, error)) *stepper {
	t.Helper()
	s := &stepper{t: t, clk: clocktesting.NewFakeClock(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)), done: make(chan struct{})}
	cfg.Clock = s.clk
	cfg.Check = func(context.Context) ([]SourceResult, error) {
		i := int(s.calls.Load())
		defer s.calls.Add(1)
		return check(i)
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.w = w
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		s.err = w.Run(ctx)
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// --- tests ------------------------------------------------------------------

// TestWatchCycles drives the loop through drift appearing, staying,
// clearing, returning, a failed source, a failed check and a source going
// away, and checks the metrics and events after each check.
func TestWatchCycles(t *testing.T) {
	human := change("data.level", objdiff.Modified, owner("kubectl-patch", objdiff.ClassHuman))
	agent := change("spec.replicas", objdiff.Modified, owner("helm-controller", objdiff.ClassController), owner("argocd-controller", objdiff.ClassAgent))
	cm := func(s compare.Status, cs ...objdiff.Change) compare.ObjectReport {
		return object("ConfigMap", "shop", "app", s, cs...)
	}
	deploy := object("Deployment", "shop", "web", compare.StatusModified, agent)
	ok := func(src string, objs ...compare.ObjectReport) SourceResult {
		return SourceResult{Source: src, Report: report(objs...)}
	}

	type step struct {
		name    string
		results []SourceResult
		err     error
		drift   map[string]float64 // kubectl_gitops_drift_objects
		errors  map[string]float64 // kubectl_gitops_drift_check_errors_total
		success []string           // sources with a last-success time
		events  []string
	}
	const shopCM = "classification=%s,kind=ConfigMap,namespace=shop,source=a,status=%s"
	steps := []step{
		{name: "drift appears", results: []SourceResult{ok("a", cm(compare.StatusModified, human), deploy)},
			drift: map[string]float64{
				fmt.Sprintf(shopCM, "human", "modified"):                                            1,
				"classification=controller,kind=Deployment,namespace=shop,source=a,status=modified": 1,
			},
			errors: map[string]float64{"source=a": 0}, success: []string{"a"},
			events: []string{"DriftDetected ConfigMap/app", "DriftDetected Deployment/web"}},
		{name: "drift stays: no new event", results: []SourceResult{ok("a", cm(compare.StatusModified, human), deploy)},
			drift: map[string]float64{
				fmt.Sprintf(shopCM, "human", "modified"):                                            1,
				"classification=controller,kind=Deployment,namespace=shop,source=a,status=modified": 1,
			},
			errors: map[string]float64{"source=a": 0}, success: []string{"a"}},
		{name: "drift clears: gauges drop to 0", results: []SourceResult{ok("a", cm(compare.StatusUnchanged), object("Deployment", "shop", "web", compare.StatusUnchanged))},
			drift: map[string]float64{
				fmt.Sprintf(shopCM, "human", "modified"):                                            0,
				"classification=controller,kind=Deployment,namespace=shop,source=a,status=modified": 0,
			},
			errors: map[string]float64{"source=a": 0}, success: []string{"a"},
			events: []string{"DriftResolved ConfigMap/app", "DriftResolved Deployment/web"}},
		{name: "drift returns: a new event", results: []SourceResult{ok("a", cm(compare.StatusMissing))},
			drift: map[string]float64{
				fmt.Sprintf(shopCM, "human", "modified"):                                            0,
				"classification=controller,kind=Deployment,namespace=shop,source=a,status=modified": 0,
				fmt.Sprintf(shopCM, "unknown", "missing"):                                           1,
			},
			errors: map[string]float64{"source=a": 0}, success: []string{"a"},
			events: []string{"DriftDetected ConfigMap/app"}},
		{name: "source fails: last known drift kept, no event", results: []SourceResult{{Source: "a", Err: errors.New("git unreachable")}},
			drift: map[string]float64{
				fmt.Sprintf(shopCM, "human", "modified"):                                            0,
				"classification=controller,kind=Deployment,namespace=shop,source=a,status=modified": 0,
				fmt.Sprintf(shopCM, "unknown", "missing"):                                           1,
			},
			errors: map[string]float64{"source=a": 1}, success: []string{"a"}},
		{name: "object in error: neither drift nor resolved", results: []SourceResult{ok("a", cm(compare.StatusError))},
			drift: map[string]float64{
				fmt.Sprintf(shopCM, "human", "modified"):                                            0,
				"classification=controller,kind=Deployment,namespace=shop,source=a,status=modified": 0,
				fmt.Sprintf(shopCM, "unknown", "missing"):                                           0,
				fmt.Sprintf(shopCM, "unknown", "error"):                                             1,
			},
			errors: map[string]float64{"source=a": 1}, success: []string{"a"}},
		{name: "whole check fails", err: errors.New("cluster unreachable"),
			drift: map[string]float64{
				fmt.Sprintf(shopCM, "human", "modified"):                                            0,
				"classification=controller,kind=Deployment,namespace=shop,source=a,status=modified": 0,
				fmt.Sprintf(shopCM, "unknown", "missing"):                                           0,
				fmt.Sprintf(shopCM, "unknown", "error"):                                             1,
			},
			errors: map[string]float64{"source=a": 1, "source=": 1}, success: []string{"a"}},
		{name: "source a gone, b appears", results: []SourceResult{ok("b", object("Namespace", "", "shop", compare.StatusExtraneous))},
			drift:  map[string]float64{"classification=unknown,kind=Namespace,namespace=,source=b,status=extraneous": 1},
			errors: map[string]float64{"source=a": 1, "source=": 1, "source=b": 0}, success: []string{"b"},
			events: []string{"DriftDetected Namespace/shop"}},
	}

	rec := &fakeRecorder{}
	reg := prometheus.NewRegistry()
	s := start(t, Config{Interval: time.Minute, Recorder: rec, Registry: reg}, func(i int) ([]SourceResult, error) {
		if i >= len(steps) {
			return nil, nil
		}
		return steps[i].results, steps[i].err
	})
	for i, st := range steps {
		if i > 0 {
			s.clk.Step(time.Minute)
		}
		s.waitIdle(i + 1)
		if diff := cmp.Diff(st.drift, series(t, reg, MetricDriftObjects)); diff != "" {
			t.Errorf("%s: %s (-want +got):\n%s", st.name, MetricDriftObjects, diff)
		}
		if diff := cmp.Diff(st.errors, series(t, reg, MetricCheckErrors)); diff != "" {
			t.Errorf("%s: %s (-want +got):\n%s", st.name, MetricCheckErrors, diff)
		}
		var success []string
		for l := range series(t, reg, MetricLastSuccess) {
			success = append(success, strings.TrimPrefix(l, "source="))
		}
		sort.Strings(success)
		if diff := cmp.Diff(st.success, success); diff != "" {
			t.Errorf("%s: sources with %s (-want +got):\n%s", st.name, MetricLastSuccess, diff)
		}
		if diff := cmp.Diff(st.events, rec.take()); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", st.name, diff)
		}
		want := map[string]float64{"": float64(i + 1)}
		if diff := cmp.Diff(want, series(t, reg, MetricChecks)); diff != "" {
			t.Errorf("%s: %s (-want +got):\n%s", st.name, MetricChecks, diff)
		}
		if diff := cmp.Diff(want, series(t, reg, MetricCheckDuration)); diff != "" {
			t.Errorf("%s: %s sample count (-want +got):\n%s", st.name, MetricCheckDuration, diff)
		}
	}
	s.stop()
}

// TestWatchEventRetries: a transient failure to record an event is retried
// after the next check; a final one (namespace gone) is not, and then no
// DriftResolved is due either. The per-cycle budget defers the rest.
func TestWatchEventRetries(t *testing.T) {
	drifted := func(names ...string) []SourceResult {
		var objs []compare.ObjectReport
		for _, n := range names {
			objs = append(objs, object("ConfigMap", "shop", n, compare.StatusModified))
		}
		return []SourceResult{{Source: "a", Report: report(objs...)}}
	}
	gone := apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "shop")
	rec := &fakeRecorder{fail: map[string]error{"flaky": errors.New("connection reset"), "final": gone}}
	plan := [][]SourceResult{
		drifted("flaky", "final", "x1", "x2"),
		drifted("flaky", "final", "x1", "x2"),
		drifted("flaky", "final", "x1", "x2"),
		drifted(),
	}
	s := start(t, Config{Interval: time.Minute, Recorder: rec, MaxEventsPerCycle: 3}, func(i int) ([]SourceResult, error) {
		if i >= len(plan) {
			return nil, nil
		}
		return plan[i], nil
	})
	want := [][]string{
		{"DriftDetected ConfigMap/x1"},    // flaky failed, final failed for good, the budget of 3 is spent: x2 waits
		{"DriftDetected ConfigMap/x2"},    // flaky failed again
		{"DriftDetected ConfigMap/flaky"}, // recorded at last
		{"DriftResolved ConfigMap/flaky", "DriftResolved ConfigMap/x1", "DriftResolved ConfigMap/x2"}, // final was never announced
	}
	for i := range plan {
		if i == 2 {
			rec.mu.Lock()
			delete(rec.fail, "flaky")
			rec.mu.Unlock()
		}
		if i > 0 {
			s.clk.Step(time.Minute)
		}
		s.waitIdle(i + 1)
		if diff := cmp.Diff(want[i], rec.take()); diff != "" {
			t.Errorf("check %d: events (-want +got):\n%s", i+1, diff)
		}
	}
	s.stop()
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, path, nil))
	return rr.Code, rr.Body.String()
}

// TestWatchHealth: /readyz waits for the first check; /healthz fails when
// no check succeeded for 3 intervals (a hung check) and after
// FailureThreshold failed checks, and recovers with the next success.
func TestWatchHealth(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan int, 1)
	var fail atomic.Bool
	s := start(t, Config{Interval: time.Minute, FailureThreshold: 2}, func(i int) ([]SourceResult, error) {
		if i == 0 || i == 2 {
			entered <- i
			<-release
		}
		if fail.Load() {
			return []SourceResult{{Source: "a", Err: errors.New("git unreachable")}}, nil
		}
		return []SourceResult{{Source: "a", Report: report()}}, nil
	})
	h := s.w.Handler()
	expect := func(path string, code int, body string) {
		t.Helper()
		got, b := get(t, h, path)
		if got != code || !strings.Contains(b, body) {
			t.Errorf("GET %s = %d %q, want %d containing %q", path, got, b, code, body)
		}
	}
	<-entered // the first check hangs
	expect("/healthz", 200, "ok")
	expect("/readyz", 503, "first check")
	s.clk.Step(3*time.Minute + time.Second)
	expect("/healthz", 503, "no successful check since the start 3m1s ago")
	release <- struct{}{}
	s.waitIdle(2) // it took longer than the interval: the second check ran at once
	expect("/healthz", 200, "ok")
	expect("/readyz", 200, "ok")

	s.clk.Step(time.Minute)
	<-entered // the third check hangs
	s.clk.Step(3*time.Minute + time.Second)
	expect("/healthz", 503, "no successful check for 4m1s")
	release <- struct{}{}
	s.waitIdle(4)
	expect("/healthz", 200, "ok")

	fail.Store(true)
	s.clk.Step(time.Minute)
	s.waitIdle(5)
	expect("/healthz", 200, "ok") // one failure is below the threshold
	s.clk.Step(time.Minute)
	s.waitIdle(6)
	expect("/healthz", 503, "the last 2 checks failed: a: git unreachable")
	expect("/readyz", 200, "ok")

	fail.Store(false)
	s.clk.Step(time.Minute)
	s.waitIdle(7)
	expect("/healthz", 200, "ok")
	s.stop()
	expect("/healthz", 503, "shutting down")
	expect("/readyz", 503, "shutting down")
}

// TestWatchFix: the hook runs for sources with drift only and its results
// are counted.
func TestWatchFix(t *testing.T) {
	var mu sync.Mutex
	var called []string
	reg := prometheus.NewRegistry()
	fix := func(_ context.Context, r SourceResult) (FixResult, error) {
		mu.Lock()
		called = append(called, r.Source)
		mu.Unlock()
		switch r.Source {
		case "broken":
			return FixApplied, errors.New("conflict")
		case "human":
			return FixSkipped, nil
		}
		return FixApplied, nil
	}
	drift := report(object("ConfigMap", "shop", "app", compare.StatusModified))
	s := start(t, Config{Interval: time.Minute, Fix: fix, Registry: reg}, func(int) ([]SourceResult, error) {
		return []SourceResult{
			{Source: "clean", Report: report(object("ConfigMap", "shop", "ok", compare.StatusUnchanged))},
			{Source: "drifted", Report: drift},
			{Source: "broken", Report: drift},
			{Source: "human", Report: drift},
			{Source: "failing", Err: errors.New("git unreachable")},
		}, nil
	})
	s.waitIdle(1)
	s.stop()
	sort.Strings(called)
	if diff := cmp.Diff([]string{"broken", "drifted", "human"}, called); diff != "" {
		t.Errorf("fix called for (-want +got):\n%s", diff)
	}
	got := map[string]float64{}
	for l, v := range series(t, reg, MetricRemediations) {
		if v > 0 {
			got[l] = v
		}
	}
	want := map[string]float64{"result=failed,source=broken": 1, "result=applied,source=drifted": 1, "result=skipped,source=human": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", MetricRemediations, diff)
	}
	if n := len(series(t, reg, MetricRemediations)); n != 15 {
		t.Errorf("%d remediation series, want 15 (3 results × 5 sources, from the first check on)", n)
	}
}

// TestWatchServes runs on the real clock with a real listener: checks repeat
// without overlapping, the endpoints answer over HTTP, and cancelling stops
// the loop, shuts the server down and returns nil.
func TestWatchServes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var inFlight, maxInFlight atomic.Int32
	check := func(context.Context) ([]SourceResult, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		if n > maxInFlight.Load() {
			maxInFlight.Store(n)
		}
		time.Sleep(30 * time.Millisecond) // longer than the interval: the next waits
		return []SourceResult{{Source: "a", Report: report(object("ConfigMap", "shop", "app", compare.StatusMissing))}}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Config{Interval: 10 * time.Millisecond, Check: check, Listener: ln}) }()

	base := "http://" + ln.Addr().String()
	deadline := time.Now().Add(20 * time.Second)
	for {
		body := httpGet(t, base+"/metrics")
		if m := checksRE.FindStringSubmatch(body); m != nil && atoi(m[1]) >= 3 {
			if !strings.Contains(body, `kubectl_gitops_drift_objects{classification="unknown",kind="ConfigMap",namespace="shop",source="a",status="missing"} 1`) {
				t.Errorf("drift gauge missing from /metrics:\n%s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 checks ran:\n%s", body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if body := httpGet(t, base+p); body != "ok\n" {
			t.Errorf("GET %s = %q", p, body)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if maxInFlight.Load() != 1 {
		t.Errorf("%d checks ran at once", maxInFlight.Load())
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		_ = c.Close()
		t.Error("the server still accepts connections after Run returned")
	}
}

var checksRE = regexp.MustCompile(`(?m)^` + MetricChecks + ` (\d+)$`)

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWatchConfigErrors(t *testing.T) {
	check := func(context.Context) ([]SourceResult, error) { return nil, nil }
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no interval", Config{Check: check}, "interval must be positive"},
		{"no check", Config{Interval: time.Second}, "no check function"},
		{"jitter", Config{Interval: time.Second, Check: check, Jitter: 2}, "jitter 2 is not between 0 and 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Interval: time.Second, Check: check, Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Interval: time.Second, Check: check, Registry: reg}); err == nil || !strings.Contains(err.Error(), "registering metrics") {
		t.Errorf("second watcher on one registry: %v", err)
	}
}

// TestWatchMetricLabels: MetricLabels, which the docs and the dashboard
// test rely on, says what the registry really exports.
func TestWatchMetricLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := start(t, Config{Interval: time.Minute, Registry: reg, Fix: func(context.Context, SourceResult) (FixResult, error) { return FixApplied, nil }},
		func(int) ([]SourceResult, error) {
			return []SourceResult{{Source: "a", Report: report(object("ConfigMap", "shop", "app", compare.StatusMissing))}}, nil
		})
	s.waitIdle(1)
	s.stop()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range fams {
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		got[f.GetName()] = labels
	}
	want := map[string][]string{}
	for name, labels := range MetricLabels() {
		l := append([]string(nil), labels...)
		sort.Strings(l)
		want[name] = l
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })); diff != "" {
		t.Errorf("exported metrics (-want +got):\n%s", diff)
	}
}

func TestWatchClassification(t *testing.T) {
	tests := []struct {
		name string
		obj  compare.ObjectReport
		want objdiff.Class
	}{
		{"missing object", object("ConfigMap", "a", "b", compare.StatusMissing), objdiff.ClassUnknown},
		{"person beats controller", object("ConfigMap", "a", "b", compare.StatusModified,
			change("data.x", objdiff.Modified, owner("kube-controller-manager", objdiff.ClassController)),
			change("data.y", objdiff.Extra, owner("kubectl-edit", objdiff.ClassHuman))), objdiff.ClassHuman},
		{"unknown beats controller", object("ConfigMap", "a", "b", compare.StatusModified,
			change("data.x", objdiff.Modified, owner("my-script", objdiff.ClassUnknown), owner("x-operator", objdiff.ClassController))), objdiff.ClassUnknown},
		{"controller beats agent", object("ConfigMap", "a", "b", compare.StatusModified,
			change("data.x", objdiff.Modified, owner("argocd-controller", objdiff.ClassAgent), owner("x-operator", objdiff.ClassController))), objdiff.ClassController},
		{"agent only", object("ConfigMap", "a", "b", compare.StatusModified,
			change("data.x", objdiff.Modified, owner("kustomize-controller", objdiff.ClassAgent))), objdiff.ClassAgent},
		{"removed field, no owner", object("ConfigMap", "a", "b", compare.StatusModified, change("data.x", objdiff.Missing)), objdiff.ClassUnknown},
	}
	for _, tt := range tests {
		if got := Classification(&tt.obj); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestWatchMessages(t *testing.T) {
	many := object("ConfigMap", "shop", "app", compare.StatusModified)
	for i := 0; i < 100; i++ {
		many.Changes = append(many.Changes, change(fmt.Sprintf("data.key-number-%03d", i), objdiff.Extra, owner("kubectl-edit", objdiff.ClassHuman)))
	}
	extraNotInGit := change("metadata.labels.old", objdiff.Extra, owner("kustomize-controller", objdiff.ClassAgent))
	extraNotInGit.Note = "not in Git any more"
	tests := []struct {
		name, source string
		obj          compare.ObjectReport
		want         string
	}{
		{"modified", "argocd/argocd/shop", object("Deployment", "shop", "web", compare.StatusModified,
			change("spec.replicas", objdiff.Modified, owner("kubectl", objdiff.ClassHuman), owner("kubectl", objdiff.ClassHuman)),
			change("metadata.labels.hotfix", objdiff.Extra, owner("kubectl-label", objdiff.ClassHuman)),
			change("spec.paused", objdiff.Missing),
			extraNotInGit),
			"Differs from Git (source argocd/argocd/shop, deployment.yaml:1): spec.replicas changed by kubectl (human); metadata.labels.hotfix added by kubectl-label (human); spec.paused removed; metadata.labels.old no longer in Git but still set by kustomize-controller (gitops-agent)"},
		{"missing", "manifests", func() compare.ObjectReport {
			o := object("ConfigMap", "gone", "app", compare.StatusMissing)
			o.Reason = "namespace gone not found"
			return o
		}(), "Missing from the cluster, declared in Git (source manifests, configmap.yaml:1): namespace gone not found"},
		{"extraneous", "", func() compare.ObjectReport {
			o := object("ConfigMap", "shop", "stray", compare.StatusExtraneous)
			o.Source = ""
			return o
		}(), "Extraneous: in the cluster and tracked by source (default source), but not in Git"},
	}
	for _, tt := range tests {
		if got := DetectedMessage(tt.source, &tt.obj); got != tt.want {
			t.Errorf("%s:\n got  %q\n want %q", tt.name, got, tt.want)
		}
	}
	msg := DetectedMessage("a", &many)
	if len(msg) > maxMessage || !strings.HasSuffix(msg, " more") || !strings.Contains(msg, "data.key-number-000 added by kubectl-edit (human)") {
		t.Errorf("long message (%d bytes) not cut at %d with a count of the rest: %q", len(msg), maxMessage, msg)
	}
	if got := truncate(strings.Repeat("é", 600), maxMessage); len(got) > maxMessage || !strings.HasSuffix(got, "é…") {
		t.Errorf("truncate split a character or overflowed: %d bytes, ends %q", len(got), got[len(got)-8:])
	}
	for in, want := range map[string]string{"web": "web.", "system:controller:x": "system-controller-x.", "..": "drift.", "Web_1": "web-1."} {
		if got := eventNamePrefix(in); got != want {
			t.Errorf("eventNamePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
