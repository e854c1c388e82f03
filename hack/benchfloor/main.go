// Command benchfloor is the Go half of hack/bench-drift.sh: it writes the
// benchmark's manifests, loads them into the cluster, measures what the API
// server alone costs (the floors that `kubectl gitops drift` is compared
// with) and prints the results table. It talks to the API server with a bare
// net/http client built by client-go from $KUBECONFIG, and does as little as
// it can per object, so that its times are the server's.
//
//	benchfloor gen -n N -per-namespace P -out DIR        manifests, namespaces, drift lists (-sweep 1,2,5: and the sweep's)
//	benchfloor apply -f PATH [-dry-run] [-concurrency C] server-side apply every object in PATH
//	benchfloor sweep -f PATH -concurrency 1,4,16 …       dry-run apply at each concurrency, print the best
//	benchfloor list [-per-namespace] [-save DIR]         LIST the four kinds, bodies discarded (or kept in DIR)
//	benchfloor check -want K < drift.json                check a drift -o json report's counts
//	benchfloor same SERVER.json HYBRID.json              hybrid's report is server's (but for its mode)
//	benchfloor times FILE.json                           a hyperfine export's times, comma-separated
//	benchfloor report RESULTS.tsv                        the Markdown table and the targets
//	benchfloor driftsweep SWEEP.tsv                      the drift-fraction sweep's table (BENCH_DRIFT_SWEEP)
//
// It is a development tool: it must not be imported, and imports nothing of
// the project.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchfloor gen|apply|sweep|list|check|same|times|report|driftsweep [flags]")
		return 2
	}
	cmds := map[string]func([]string) error{
		"gen": genCmd, "apply": applyCmd, "sweep": sweepCmd, "list": listCmd,
		"check": checkCmd, "times": timesCmd, "report": reportCmd, "same": sameCmd, "driftsweep": driftSweepCmd,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "benchfloor: unknown command %q\n", args[0])
		return 2
	}
	if err := cmd(args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchfloor %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// sameCmd fails unless the two drift -o json reports are identical but for
// their mode and hybrid mode's serverCompared.
func sameCmd(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: same SERVER.json HYBRID.json")
	}
	var reps [2]map[string]any
	for i, p := range args {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &reps[i]); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		delete(reps[i], "mode")
		delete(reps[i], "serverCompared")
	}
	if !reflect.DeepEqual(reps[0], reps[1]) {
		return fmt.Errorf("%s and %s differ", args[0], args[1])
	}
	return nil
}
