package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// The sweep's drifted apps accumulate (each step's include the previous
// step's) and are P of every 100 consecutive apps.
func TestSweepStepsAccumulate(t *testing.T) {
	steps, err := sweepSteps("1,2,5,10,20")
	if err != nil {
		t.Fatal(err)
	}
	drifted := map[int]int{} // percentage: apps drifted by then
	for app := range 1000 {
		s := sweepStep(steps, app)
		for _, p := range steps {
			if s > 0 && s <= p {
				drifted[p]++
			}
			if (s > 0 && s <= p) != (sweepRank(app) < p) {
				t.Fatalf("app %d: first drifted at %d%%, rank %d", app, s, sweepRank(app))
			}
		}
	}
	for _, p := range steps {
		if drifted[p] != p*10 {
			t.Errorf("%d%%: %d of 1000 apps drifted, want %d", p, drifted[p], p*10)
		}
	}
	for _, bad := range []string{"0", "101", "5,2", "2,2", "x"} {
		if _, err := sweepSteps(bad); err == nil {
			t.Errorf("sweepSteps(%q): no error", bad)
		}
	}
}

// The table says up to which step hybrid mode stays within 1.5× local
// mode, counting only the steps before the first that is not.
func TestDriftSweepTable(t *testing.T) {
	rec := func(p, drifted int, mode, wall string) string {
		return strings.Join([]string{"5000", itoa(p), itoa(drifted), mode, wall, "1.0", "0.3", "local: ok; hybrid: ok", "2.0"}, "\t") + "\n"
	}
	in := rec(1, 52, "local", "1.0,1.0,1.0") + rec(1, 52, "hybrid", "1.2,1.3,9") +
		rec(2, 100, "local", "1.0") + rec(2, 100, "hybrid", "1.5") +
		rec(5, 252, "local", "1.0") + rec(5, 252, "hybrid", "1.6") +
		rec(10, 500, "local", "1.0") + rec(10, 500, "hybrid", "1.4")
	rows, err := readSweep(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	writeSweep(&out, rows)
	for _, want := range []string{"| 1% | 52 | 1.00 s | 1.30 s | 1.30× |", "| 5% | 252 | 1.00 s | 1.60 s | 1.60× |", "within 1.5× local mode's up to 2% drifted"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
