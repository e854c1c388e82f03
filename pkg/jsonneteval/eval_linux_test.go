//go:build linux

package jsonneteval

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	Worker()
	os.Exit(m.Run())
}

const canary = "canary-s3cr3t-7f3a"

// request writes the Jsonnet files into a new root and evaluates the first
// one named.
func request(t *testing.T, main string, files map[string]string) Request {
	t.Helper()
	root := t.TempDir()
	for name, code := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(code), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Request{Root: root, File: filepath.Join(root, main), Paths: []string{filepath.Join(root, filepath.Dir(main))}}
}

// children lists the processes whose parent is this one.
func children(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid …: comm may hold spaces, so after the last ')'.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) && f[0] != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// peakRSS is this process's peak resident set size (VmHWM).
func peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// cpuLoop runs for minutes in 20 MiB: 10^9 additions in three nested
// folds over one 1000-element range.
const cpuLoop = "// " + canary + "\nlocal r = std.range(1, 1000);\n" +
	"std.foldl(function(a, i) a + std.foldl(function(b, j) b + std.foldl(function(c, k) c + 1, r, 0), r, 0), r, 0)\n"

// TestEvaluate: the worker gives what go-jsonnet in this process gives,
// imports, libraries, TLAs and external variables included, byte for byte.
func TestEvaluate(t *testing.T) {
	req := request(t, "app/main.jsonnet", map[string]string{
		"app/main.jsonnet": `local lib = import 'lib.libsonnet';
function(n) {a: lib.x, n: n, e: std.extVar('e'), c: std.extVar('c'), s: importstr 'data.txt', u: '\u00e9\n'}`,
		"app/data.txt":        "line\n",
		"lib/lib.libsonnet":   "{x: [1, 2.5, {y: null}]}",
		"app/other.libsonnet": "{}",
	})
	req.Paths = append(req.Paths, filepath.Join(req.Root, "lib"))
	req.TLAs = []Var{{Name: "n", Value: "3", Code: true}}
	req.ExtVars = []Var{{Name: "e", Value: "prod"}, {Name: "c", Value: "{a: 1}", Code: true}}
	want, err := req.evaluate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Evaluate(t.Context(), req, Limits{})
	if err != nil || got != want {
		t.Errorf("Evaluate = %q, %v; want %q", got, err, want)
	}

	req.File = filepath.Join(req.Root, "app", "missing.jsonnet")
	_, want1 := req.evaluate()
	_, err = Evaluate(t.Context(), req, Limits{})
	if err == nil || want1 == nil || err.Error() != want1.Error() || strings.Contains(err.Error(), req.Root) {
		t.Errorf("a Jsonnet error: %v, want %v (without the root)", err, want1)
	}
	if len(children(t)) != 0 {
		t.Errorf("workers left: %v", children(t))
	}
}

// TestMemoryBomb: Jsonnet that allocates without end stops at the memory
// budget in the worker, with an error that names the limit and not the
// code; this process stays small.
func TestMemoryBomb(t *testing.T) {
	bombs := map[string]string{
		"makeArray": "// " + canary + "\nstd.length(std.makeArray(1e9, function(i) i))\n",
		"doubling":  "// " + canary + "\nlocal f(s, n) = if n == 0 then std.length(s) else f(s + s, n - 1);\nf('" + canary + "', 40)\n",
	}
	for name, code := range bombs {
		t.Run(name, func(t *testing.T) {
			req := request(t, "app/bomb.jsonnet", map[string]string{"app/bomb.jsonnet": code})
			out, err := Evaluate(t.Context(), req, Limits{})
			var budget *BudgetError
			if !errors.As(err, &budget) || budget.Limit != "memory" || err.Error() != "exceeded the 512 MiB memory budget" {
				t.Fatalf("Evaluate = %.100q, %v; want the memory budget", out, err)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error quotes the Jsonnet: %v", err)
			}
			if peak := peakRSS(t); peak > 200<<20 {
				t.Errorf("this process's peak RSS is %d MiB", peak>>20)
			}
			if len(children(t)) != 0 {
				t.Errorf("workers left: %v", children(t))
			}
		})
	}
}

// TestCPULoop: a loop stops at the CPU budget, another at the time budget;
// no worker is left.
func TestCPULoop(t *testing.T) {
	req := request(t, "app/loop.jsonnet", map[string]string{"app/loop.jsonnet": cpuLoop})
	_, err := Evaluate(t.Context(), req, Limits{CPU: 2 * time.Second})
	var budget *BudgetError
	if !errors.As(err, &budget) || budget.Limit != "CPU" || err.Error() != "exceeded the 2s CPU budget" {
		t.Errorf("CPU: %v, want the CPU budget", err)
	}
	_, err = Evaluate(t.Context(), req, Limits{Wall: time.Second})
	if !errors.As(err, &budget) || budget.Limit != "time" || err.Error() != "exceeded the 1s time budget" {
		t.Errorf("time: %v, want the time budget", err)
	}
	if len(children(t)) != 0 {
		t.Errorf("workers left: %v", children(t))
	}
}

// TestCancelKillsTheWorker: when the context ends, Evaluate returns the
// context's error and the worker, which was running, is gone.
func TestCancelKillsTheWorker(t *testing.T) {
	req := request(t, "app/loop.jsonnet", map[string]string{"app/loop.jsonnet": cpuLoop})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	seen := make(chan []int, 1)
	go func() {
		for ctx.Err() == nil {
			if pids := children(t); len(pids) > 0 {
				seen <- pids
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	_, err := Evaluate(ctx, req, Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Evaluate: %v, want the context's error", err)
	}
	pids := <-seen
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("worker %d still there after Evaluate returned", pid)
		}
	}
}

// TestWorkersAtOnce: evaluations beyond MaxWorkers wait for a worker to
// end, so that the memory of them all stays within MaxWorkers budgets.
func TestWorkersAtOnce(t *testing.T) {
	req := request(t, "app/loop.jsonnet", map[string]string{"app/loop.jsonnet": cpuLoop})
	ctx, cancel := context.WithCancel(t.Context())
	const n = MaxWorkers + 2
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := Evaluate(ctx, req, Limits{})
			errs <- err
		}()
	}
	most := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		most = max(most, len(children(t)))
	}
	cancel()
	for range n {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("Evaluate: %v, want the context's error", err)
		}
	}
	if most != MaxWorkers {
		t.Errorf("%d workers at most at once, want %d", most, MaxWorkers)
	}
	if len(children(t)) != 0 {
		t.Errorf("workers left: %v", children(t))
	}
}

// TestOutputBudget: output past the budget is an error, not a copy in
// this process.
func TestOutputBudget(t *testing.T) {
	req := request(t, "app/big.jsonnet", map[string]string{"app/big.jsonnet": "local f(s, n) = if n == 0 then s else f(s + s, n - 1);\nf('x', 21)\n"})
	_, err := Evaluate(t.Context(), req, Limits{Output: 1 << 20})
	var budget *BudgetError
	if !errors.As(err, &budget) || budget.Limit != "output" || err.Error() != "exceeded the 1 MiB output budget" {
		t.Errorf("Evaluate: %v, want the output budget", err)
	}
}

// BenchmarkEvaluate is the cost of one small evaluation in the worker
// (start of this test binary included) and in this process.
func BenchmarkEvaluate(b *testing.B) {
	root := b.TempDir()
	file := filepath.Join(root, "cm.jsonnet")
	if err := os.WriteFile(file, []byte("{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'x'}, data: {a: 'b'}}"), 0o600); err != nil {
		b.Fatal(err)
	}
	req := Request{Root: root, File: file, Paths: []string{root}}
	b.Run("worker", func(b *testing.B) {
		for b.Loop() {
			if _, err := Evaluate(b.Context(), req, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			if _, err := req.evaluate(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
