package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/hack/internal/benchstat"
)

// sweepRow is one step of the drift-fraction sweep (hack/bench-drift.sh,
// BENCH_DRIFT_SWEEP) for one mode.
type sweepRow struct {
	n, percent, drifted int
	mode                string
	wall, cpu, api      []float64
	check               string
	load                []float64
}

// driftSweepCmd prints the Markdown table of a drift-fraction sweep: per N
// and drift percentage, local and hybrid mode's median wall time, their
// ratio, drift's CPU and the API server's.
func driftSweepCmd(args []string) error {
	return tableCmd(args, "usage: benchfloor driftsweep SWEEP.tsv", func(r io.Reader, w *bufio.Writer) error {
		rows, err := readSweep(r)
		if err != nil {
			return err
		}
		writeSweep(w, rows)
		return nil
	})
}

// readSweep reads records of N, P, DRIFTED, MODE, WALL,…, CPU,…,
// APISERVER-CPU,…, CHECK, LOAD,… (tab-separated).
func readSweep(r io.Reader) ([]sweepRow, error) {
	var rows []sweepRow
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 9 {
			return nil, fmt.Errorf("line %d: %d fields, want 9", line, len(f))
		}
		var row sweepRow
		var err error
		for i, p := range []*int{&row.n, &row.percent, &row.drifted} {
			if *p, err = strconv.Atoi(f[i]); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
		}
		row.mode, row.check = f[3], f[7]
		for i, p := range []*[]float64{&row.wall, &row.cpu, &row.api, &row.load} {
			if *p, err = benchstat.Floats(f[[]int{4, 5, 6, 8}[i]]); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// maxRatio is issue 17's target: hybrid mode within 1.5× local mode's time.
const maxRatio = 1.5

func writeSweep(w io.Writer, rows []sweepRow) {
	type step struct{ local, hybrid sweepRow }
	var ns []int
	steps := map[int][]*step{} // by N, in the order recorded (ascending percentages)
	for _, r := range rows {
		if !slices.Contains(ns, r.n) {
			ns = append(ns, r.n)
		}
		l := steps[r.n]
		if len(l) == 0 || l[len(l)-1].local.percent != r.percent && l[len(l)-1].hybrid.percent != r.percent {
			l = append(l, &step{})
			steps[r.n] = l
		}
		if r.mode == "hybrid" {
			l[len(l)-1].hybrid = r
		} else {
			l[len(l)-1].local = r
		}
	}
	for _, n := range ns {
		fmt.Fprintf(w, "### Drift-fraction sweep, N = %d\n\n", n)
		fmt.Fprintln(w, "| drifted | objects | local | hybrid | hybrid ÷ local | drift CPU local / hybrid | API server CPU local / hybrid | runs | reports |")
		fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|---|")
		// within: the largest percentage up to which every step is
		// within the target (0: not even the first).
		within, exceeded := 0, false
		var loads []float64
		for _, s := range steps[n] {
			l, h := s.local, s.hybrid
			if len(l.wall) == 0 || len(h.wall) == 0 {
				continue
			}
			loads = append(append(loads, l.load...), h.load...)
			ratio := benchstat.Median(h.wall) / benchstat.Median(l.wall)
			if ratio > maxRatio {
				exceeded = true
			} else if !exceeded {
				within = h.percent
			}
			fmt.Fprintf(w, "| %d%% | %d | %.2f s | %.2f s | %.2f× | %.2f / %.2f s | %.2f / %.2f s | %d | %s |\n",
				h.percent, h.drifted, benchstat.Median(l.wall), benchstat.Median(h.wall), ratio,
				benchstat.Median(l.cpu), benchstat.Median(h.cpu), benchstat.Median(l.api), benchstat.Median(h.api), len(h.wall), h.check)
		}
		fmt.Fprintln(w)
		if len(loads) > 0 {
			fmt.Fprintf(w, "Load average (1 min) between rounds: %.1f–%.1f. ", slices.Min(loads), slices.Max(loads))
		}
		if within > 0 {
			fmt.Fprintf(w, "Hybrid mode's median wall time is within %.1f× local mode's up to %d%% drifted.\n\n", maxRatio, within)
		} else {
			fmt.Fprintf(w, "Hybrid mode's median wall time is not within %.1f× local mode's at any drift fraction measured.\n\n", maxRatio)
		}
	}
}
