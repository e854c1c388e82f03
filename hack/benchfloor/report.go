package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/hack/internal/benchstat"
)

// checkCmd reads a drift -o json report on stdin and checks that it has
// -total objects, -want of them modified and the rest unchanged. It prints
// "ok", or what the report holds instead (and fails).
func checkCmd(args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	want := fs.Int("want", 0, "modified objects expected")
	total := fs.Int("total", 0, "objects expected in the report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var rep struct {
		Summary map[string]int `json:"summary"`
		Objects []struct {
			Kind   string `json:"kind"`
			Status string `json:"status"`
		} `json:"objects"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&rep); err != nil {
		return fmt.Errorf("reading the drift report: %w", err)
	}
	s := rep.Summary
	sum := 0
	for _, n := range s {
		sum += n
	}
	if s["modified"] == *want && sum == *total && s["unchanged"] == *total-*want {
		fmt.Println("ok")
		return nil
	}
	byKind := map[string]int{}
	for _, o := range rep.Objects {
		if o.Status == "modified" {
			byKind[o.Kind]++
		}
	}
	var kinds []string
	for _, k := range []string{"ConfigMap", "Deployment", "Service", "RoleBinding"} {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, byKind[k]))
	}
	fmt.Printf("**%d of %d drifted objects reported** (modified: %s; %d unchanged, %d missing, %d extraneous, %d error)\n",
		s["modified"], *want, strings.Join(kinds, ", "), s["unchanged"], s["missing"], s["extraneous"], s["error"])
	return errors.New("the report does not match the drift made")
}

// timesCmd prints the wall, user and system time in seconds of the first
// run in a hyperfine --export-json file, after checking its exit code.
func timesCmd(args []string) error {
	fs := flag.NewFlagSet("times", flag.ContinueOnError)
	want := fs.Int("want", 0, "the exit code the command must have had")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: benchfloor times [-want CODE] FILE.json")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var h struct {
		Results []struct {
			Command   string    `json:"command"`
			Times     []float64 `json:"times"`
			User      float64   `json:"user"`
			System    float64   `json:"system"`
			ExitCodes []*int    `json:"exit_codes"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if len(h.Results) == 0 || len(h.Results[0].Times) == 0 || len(h.Results[0].ExitCodes) == 0 {
		return fmt.Errorf("%s: no run", fs.Arg(0))
	}
	r := h.Results[0]
	if c := r.ExitCodes[0]; c == nil || *c != *want {
		code := "a signal"
		if c != nil {
			code = strconv.Itoa(*c)
		}
		return fmt.Errorf("%s exited with %s, not %d", r.Command, code, *want)
	}
	fmt.Printf("%.4f %.4f %.4f\n", r.Times[0], r.User, r.System)
	return nil
}

// A results file has one record per line, tab-separated, first field N:
//
//	N  meta  KEY  VALUE
//	N  time  ID   LABEL  WALL,WALL,…   (seconds)
//	N  cpu   ID   CPU,CPU,…            (user+system seconds of the command)
//	N  rss   ID   KB,KB,…              (peak RSS)
//	N  load  -    LOADAVG              (1 minute, sampled between rounds)
//
// IDs: kdiff, fluxdiff, server, local, hybrid, kget, list, listns, dryrun.
type results struct {
	ns    []int
	order []string
	label map[string]string
	meta  map[int]map[string]string
	load  map[int][]float64
	// series[kind][n][id]: kind is time, cpu or rss.
	series map[string]map[int]map[string][]float64
}

func readResults(r io.Reader) (*results, error) {
	res := &results{label: map[string]string{}, meta: map[int]map[string]string{}, load: map[int][]float64{},
		series: map[string]map[int]map[string][]float64{"time": {}, "cpu": {}, "rss": {}}}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 4 {
			return nil, fmt.Errorf("line %d: too few fields", line)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: bad N %q", line, f[0])
		}
		if !slices.Contains(res.ns, n) {
			res.ns = append(res.ns, n)
			res.meta[n] = map[string]string{}
			for _, m := range res.series {
				m[n] = map[string][]float64{}
			}
		}
		kind, id, value := f[1], f[2], f[len(f)-1]
		switch {
		case kind == "meta":
			res.meta[n][id] = value
		case kind == "load":
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad load %q", line, value)
			}
			res.load[n] = append(res.load[n], v)
		case res.series[kind] != nil:
			if res.series[kind][n][id], err = benchstat.Floats(value); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			if kind == "time" && len(f) == 5 {
				if _, ok := res.label[id]; !ok {
					res.order = append(res.order, id)
				}
				res.label[id] = f[3]
			}
		default:
			return nil, fmt.Errorf("line %d: unknown record %q", line, kind)
		}
	}
	slices.Sort(res.ns)
	return res, sc.Err()
}

// reportCmd prints, for each N, the Markdown table of times and the targets
// of the drift issue, then how time per object scales.
func reportCmd(args []string) error {
	return tableCmd(args, "usage: benchfloor report RESULTS.tsv", func(r io.Reader, w *bufio.Writer) error {
		res, err := readResults(r)
		if err != nil {
			return err
		}
		for _, n := range res.ns {
			res.writeN(w, n)
		}
		res.writeScaling(w)
		return nil
	})
}

// tableCmd reads the one TSV file args names and writes what table makes
// of it to stdout (the report and driftsweep commands).
func tableCmd(args []string, usage string, table func(r io.Reader, w *bufio.Writer) error) error {
	if len(args) != 1 {
		return errors.New(usage)
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(os.Stdout)
	if err := table(f, w); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return w.Flush()
}

// med returns the median of a series.
func (r *results) med(kind string, n int, id string) (float64, bool) {
	v := r.series[kind][n][id]
	return benchstat.Median(v), len(v) > 0
}

func (r *results) writeN(w io.Writer, n int) {
	m := r.meta[n]
	fmt.Fprintf(w, "### N = %d\n\n", n)
	fmt.Fprintf(w, "%d objects in %s namespace(s), %s of them drifted. ", n, m["namespaces"], m["drifted"])
	if l := r.load[n]; len(l) > 0 {
		fmt.Fprintf(w, "Load average (1 min) between rounds: %.1f–%.1f", slices.Min(l), slices.Max(l))
		if m["nice"] != "" && m["nice"] != "0" {
			fmt.Fprintf(w, " (benchmark at nice %s)", m["nice"])
		}
		fmt.Fprint(w, ". ")
	}
	fmt.Fprintf(w, "Dry-run floor at concurrency %s. What drift reported: server mode %s; local mode %s",
		m["dryrun-concurrency"], m["check-server"], m["check-local"])
	if m["check-hybrid"] != "" {
		fmt.Fprintf(w, "; hybrid mode %s, its report the same as server mode's: %s", m["check-hybrid"], m["check-hybrid-same"])
	}
	fmt.Fprint(w, ".\n\n")
	if v := m["check-fluxdiff"]; v != "" {
		fmt.Fprintf(w, "What flux diff kustomization reported: %s.\n\n", v)
	}
	fmt.Fprintln(w, "| command | median | min – max | runs | per object | client CPU | peak RSS |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for _, id := range r.order {
		t := r.series["time"][n][id]
		if len(t) == 0 {
			continue
		}
		cpu, rss := "–", "–"
		if c, ok := r.med("cpu", n, id); ok {
			cpu = fmt.Sprintf("%.2f s", c)
		}
		if kb := r.series["rss"][n][id]; len(kb) > 0 {
			rss = fmt.Sprintf("%.0f MB", slices.Max(kb)/1024)
		}
		med := benchstat.Median(t)
		fmt.Fprintf(w, "| %s | %.2f s | %.2f – %.2f s | %d | %.3f ms | %s | %s |\n",
			r.label[id], med, slices.Min(t), slices.Max(t), len(t), med/float64(n)*1000, cpu, rss)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| target | measured | met |")
	fmt.Fprintln(w, "|---|--:|---|")
	kdiff, okDiff := r.med("time", n, "kdiff")
	server, okServer := r.med("time", n, "server")
	local, okLocal := r.med("time", n, "local")
	hybrid, okHybrid := r.med("time", n, "hybrid")
	dry, okDry := r.med("time", n, "dryrun")
	kget, okGet := r.med("time", n, "kget")
	list, okList := 0.0, false
	for _, id := range []string{"list", "listns"} {
		if v, ok := r.med("time", n, id); ok && (!okList || v < list) {
			list, okList = v, true
		}
	}
	row := func(ok bool, name string, value float64, unit string, met bool) {
		switch {
		case !ok:
			fmt.Fprintf(w, "| %s | not measured | – |\n", name)
		case met:
			fmt.Fprintf(w, "| %s | %.2f%s | yes |\n", name, value, unit)
		default:
			fmt.Fprintf(w, "| %s | %.2f%s | **no** |\n", name, value, unit)
		}
	}
	row(okDiff && okServer, "server mode ≥ 5× faster than kubectl diff", kdiff/server, "×", kdiff/server >= 5)
	row(okDry && okServer, "server mode ≤ 1.5× the dry-run floor", server/dry, "×", server/dry <= 1.5)
	row(okDiff && okLocal, "local mode ≥ 20× faster than kubectl diff", kdiff/local, "×", kdiff/local >= 20)
	if flux, ok := r.med("time", n, "fluxdiff"); ok {
		row(okServer, "server mode faster than flux diff kustomization", flux/server, "×", flux/server > 1)
		row(okLocal, "local mode faster than flux diff kustomization", flux/local, "×", flux/local > 1)
	}
	row(okList && okLocal, "local mode ≤ 1.5× the LIST floor (raw, benchfloor)", local/list, "×", local/list <= 1.5)
	row(okGet && okLocal, "local mode ≤ 1.5× the LIST floor (kubectl get)", local/kget, "×", local/kget <= 1.5)
	if okHybrid {
		row(okDiff, "hybrid mode ≥ 15× faster than kubectl diff", kdiff/hybrid, "×", kdiff/hybrid >= 15)
		row(okLocal, "hybrid mode ≤ 1.5× local mode", hybrid/local, "×", hybrid/local <= 1.5)
	}
	for _, id := range []string{"server", "local", "hybrid"} {
		kb := r.series["rss"][n][id]
		mb := 0.0
		if len(kb) > 0 {
			mb = slices.Max(kb) / 1024
		}
		row(len(kb) > 0, "peak RSS < 300 MB, "+id+" mode", mb, " MB", mb < 300)
	}
	fmt.Fprintln(w)
}

// writeScaling compares the time per object at the largest N with the
// smallest (the target: at 20000 within 20% of 2000).
func (r *results) writeScaling(w io.Writer) {
	if len(r.ns) < 2 {
		return
	}
	lo, hi := r.ns[0], r.ns[len(r.ns)-1]
	fmt.Fprintf(w, "### Time per object, N = %d against N = %d\n\n", hi, lo)
	fmt.Fprintf(w, "| command | at N = %d | at N = %d | ratio | within 20%% |\n", lo, hi)
	fmt.Fprintln(w, "|---|--:|--:|--:|---|")
	for _, id := range r.order {
		a, okA := r.med("time", lo, id)
		b, okB := r.med("time", hi, id)
		if !okA || !okB {
			continue
		}
		pa, pb := a/float64(lo)*1000, b/float64(hi)*1000
		verdict := "yes"
		switch {
		case id != "server" && id != "local" && id != "hybrid":
			verdict = "(reference)"
		case pb/pa > 1.2:
			verdict = "**no**"
		}
		fmt.Fprintf(w, "| %s | %.3f ms | %.3f ms | %.2f | %s |\n", r.label[id], pa, pb, pb/pa, verdict)
	}
	fmt.Fprintln(w)
}
