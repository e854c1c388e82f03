package driftwatch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	metricRE      = regexp.MustCompile(`\bkubectl_gitops_drift_[a-z_]+\b`)
	selectorRE    = regexp.MustCompile(`(kubectl_gitops_drift_[a-z_]+)\{([^}]*)\}`)
	matcherRE     = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"[^"]*"\s*$`)
	groupingRE    = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	labelValuesRE = regexp.MustCompile(`label_values\((kubectl_gitops_drift_[a-z_]+)(?:\{[^}]*\})?,\s*([a-z_]+)\)`)
)

// metricOf resolves a series name to the metric it belongs to (a
// histogram's _bucket, _sum and _count series) and the labels it has.
func metricOf(series string) (string, []string, bool) {
	if labels, ok := MetricLabels()[series]; ok {
		return series, labels, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base := strings.TrimSuffix(series, suffix)
		if base == series || base != MetricCheckDuration {
			continue
		}
		labels := MetricLabels()[base]
		if suffix == "_bucket" {
			labels = append(slices.Clone(labels), "le")
		}
		return base, labels, true
	}
	return "", nil, false
}

// queries collects every PromQL expression of the dashboard: the panels'
// targets and the template variables' queries.
func queries(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "definition" || k == "query") && strings.Contains(s, "kubectl_gitops") {
				*out = append(*out, s)
			}
			queries(x, out)
		}
	case []any:
		for _, x := range v {
			queries(x, out)
		}
	}
}

// TestWatchDashboard checks the shipped Grafana dashboard: it parses, and
// every query refers to metrics and labels the watcher exports, balanced,
// and every metric is shown somewhere.
func TestWatchDashboard(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "drift-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	if dash["uid"] == "" || dash["title"] == "" {
		t.Error("dashboard has no uid or title")
	}
	panels, _ := dash["panels"].([]any)
	ids := map[float64]bool{}
	for _, p := range panels {
		id := p.(map[string]any)["id"].(float64)
		if ids[id] {
			t.Errorf("panel id %v twice", id)
		}
		ids[id] = true
	}

	var exprs []string
	queries(dash, &exprs)
	if len(exprs) < len(MetricLabels()) {
		t.Fatalf("only %d queries found", len(exprs))
	}
	used := map[string]bool{}
	for _, expr := range exprs {
		if strings.Count(expr, "(") != strings.Count(expr, ")") || strings.Count(expr, "{") != strings.Count(expr, "}") {
			t.Errorf("unbalanced: %s", expr)
		}
		names := metricRE.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("no kubectl_gitops_drift metric in %s", expr)
		}
		var known []string // the labels of the metrics the query reads
		for _, n := range names {
			base, labels, ok := metricOf(n)
			if !ok {
				t.Errorf("unknown metric %s in %s", n, expr)
				continue
			}
			used[base] = true
			known = append(known, labels...)
		}
		for _, m := range selectorRE.FindAllStringSubmatch(expr, -1) {
			_, labels, _ := metricOf(m[1])
			for _, matcher := range strings.Split(m[2], ",") {
				mm := matcherRE.FindStringSubmatch(matcher)
				if mm == nil {
					t.Errorf("bad matcher %q in %s", matcher, expr)
					continue
				}
				if !slices.Contains(labels, mm[1]) {
					t.Errorf("%s has no label %q (%s)", m[1], mm[1], expr)
				}
			}
		}
		for _, g := range groupingRE.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(g[1], ",") {
				if l = strings.TrimSpace(l); !slices.Contains(known, l) {
					t.Errorf("grouping by %q, a label none of its metrics has: %s", l, expr)
				}
			}
		}
		for _, m := range labelValuesRE.FindAllStringSubmatch(expr, -1) {
			if _, labels, _ := metricOf(m[1]); !slices.Contains(labels, m[2]) {
				t.Errorf("label_values of %q, which %s lacks", m[2], m[1])
			}
		}
	}
	for name := range MetricLabels() {
		if !used[name] {
			t.Errorf("the dashboard does not show %s", name)
		}
	}
}
