// Command benchhelm is the Go half of hack/bench-helm.sh: it serves real
// charts (test/chartrepo: the sealed-secrets and metrics-server charts of
// their Go modules, from an HTTP chart repository and an in-process OCI
// registry), writes N Flux HelmReleases of them with varied values, loads
// what helm-controller would have applied (rendered by the real helm CLI,
// created by field manager helm-controller, with the release records),
// lists the objects to drift by hand, checks which drifted objects
// `kubectl gitops drift` and `kubectl diff --server-side` report, and
// prints the results table.
//
//	benchhelm serve -dir DIR -env FILE             serve the charts until interrupted
//	benchhelm gen -n N -env FILE -out DIR           HelmReleases, values files, the helm + kubectl diff script
//	benchhelm render -dir DIR -helm PATH -kube-version V  what helm-controller applies, the drift lists
//	benchhelm check -dir DIR -drift FILE.json       the drifted objects drift reported
//	benchhelm checkdiff -dir DIR -diff FILE.txt     the drifted objects kubectl diff reported
//	benchhelm report RESULTS.tsv                    the Markdown table
//
// It is a development tool: it must not be imported, and imports nothing of
// the project but test/chartrepo.
package main

import (
	"fmt"
	"os"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchhelm serve|gen|render|check|checkdiff|report [flags]")
		return 2
	}
	cmds := map[string]func([]string) error{
		"serve": serveCmd, "gen": genCmd, "render": renderCmd, "check": checkCmd, "checkdiff": checkDiffCmd, "report": reportCmd,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "benchhelm: unknown command %q\n", args[0])
		return 2
	}
	if err := cmd(args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchhelm %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
