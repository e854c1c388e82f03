package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/hack/internal/benchstat"
)

// reportCmd prints the Markdown results of a run from its results file:
// lines "meta KEY VALUE", "load - VALUE", "time ID LABEL WALLS",
// "cpu ID CPUS", "rss ID KBS" (tab-separated, lists comma-separated), in
// the order the commands were timed. Ratios are against the id "helm".
func reportCmd(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: report RESULTS.tsv")
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var ids []string
	meta := map[string]string{}
	var metaKeys []string
	label, walls, cpus, rsss := map[string]string{}, map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	var loads []float64
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) < 3 {
			continue
		}
		switch f[0] {
		case "meta":
			if _, ok := meta[f[1]]; !ok {
				metaKeys = append(metaKeys, f[1])
			}
			meta[f[1]] = f[2]
		case "load":
			loads = append(loads, floats(f[2])...)
		case "time":
			ids = append(ids, f[1])
			label[f[1]], walls[f[1]] = f[2], floats(f[3])
		case "cpu":
			cpus[f[1]] = floats(f[2])
		case "rss":
			rsss[f[1]] = floats(f[2])
		}
	}
	for _, k := range metaKeys {
		fmt.Printf("- %s: %s\n", k, meta[k])
	}
	if len(loads) > 0 {
		sort.Float64s(loads)
		fmt.Printf("- load average (1 min) during the rounds: %.1f–%.1f\n", loads[0], loads[len(loads)-1])
	}
	fmt.Println()
	fmt.Println("| command | wall (median) | runs | client CPU | peak RSS | helm + kubectl diff ÷ this |")
	fmt.Println("|---|--:|--:|--:|--:|--:|")
	base := benchstat.Median(walls["helm"])
	for _, id := range ids {
		w := benchstat.Median(walls[id])
		rss := "–"
		if len(rsss[id]) > 0 {
			sort.Float64s(rsss[id])
			rss = fmt.Sprintf("%.0f MB", rsss[id][len(rsss[id])-1]/1024)
		}
		ratio := "–"
		if base > 0 && w > 0 && id != "helm" {
			ratio = fmt.Sprintf("**%.1f×**", base/w)
		}
		fmt.Printf("| %s | %.2f s | %d | %.2f s | %s | %s |\n", label[id], w, len(walls[id]), benchstat.Median(cpus[id]), rss, ratio)
	}
	return nil
}

// floats is the series s, its items that are not numbers left out.
func floats(s string) []float64 {
	v, _ := benchstat.Floats(s)
	return v
}
