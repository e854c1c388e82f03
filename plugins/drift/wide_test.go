package drift

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// TestStatusWide: 'drift status -o wide' is the table with REVISION, COMMIT,
// APPLIED and PATH added before NOTE (free text, kept last); the default
// table is unchanged.
func TestStatusWide(t *testing.T) {
	st := JSONStatus{Sources: []JSONStatusSource{{
		Name: "flux/flux-system/apps", Type: "flux", Revision: "main", Commit: "0123abcd", Path: "apps/prod",
		Operator: &JSONOperator{Ready: "True", Revision: "main@sha1:0123abcd"}, Drift: driftDrifted,
		Summary: map[string]int{"modified": 2}, Reason: "two objects could not be compared",
	}}}
	lines := func(format string) [][]string {
		var b bytes.Buffer
		if err := writeStatus(&b, st, format, false); err != nil {
			t.Fatal(err)
		}
		var out [][]string
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			out = append(out, strings.Fields(l))
		}
		return out
	}
	wide := lines("wide")
	if got, want := strings.Join(wide[0], " "), "SOURCE SYNC HEALTH READY DRIFT MODIFIED MISSING EXTRANEOUS WHO REVISION COMMIT APPLIED PATH NOTE"; got != want {
		t.Errorf("wide header:\n got %s\nwant %s", got, want)
	}
	if got, want := strings.Join(wide[1], " "), "flux/flux-system/apps - - True drifted 2 0 0 - main 0123abcd main@sha1:0123abcd apps/prod two objects could not be compared"; got != want {
		t.Errorf("wide row:\n got %s\nwant %s", got, want)
	}
	table := lines("table")
	if got, want := strings.Join(table[0], " "), "SOURCE SYNC HEALTH READY DRIFT MODIFIED MISSING EXTRANEOUS WHO NOTE"; got != want {
		t.Errorf("table header:\n got %s\nwant %s", got, want)
	}
	if got, want := strings.Join(table[1], " "), "flux/flux-system/apps - - True drifted 2 0 0 - two objects could not be compared"; got != want {
		t.Errorf("table row:\n got %s\nwant %s", got, want)
	}
}

// TestSummaryWide: 'drift -o wide' is the -o summary table with SOURCE
// (where Git declares the object) added on the right; -o summary is
// unchanged.
func TestSummaryWide(t *testing.T) {
	rep := &compare.Report{Mode: compare.ModeLocal, Objects: []compare.ObjectReport{
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "prod", Name: "x", Status: compare.StatusUnchanged, Source: "deploy/app.yaml:12"},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web", Status: compare.StatusMissing},
	}}
	lines := func(format string) []string {
		var b, e bytes.Buffer
		if err := render(&b, &e, rep, format, false, false); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
		return out
	}
	wide, summary := lines("wide"), lines("summary")
	want := []string{
		"KIND NAMESPACE NAME STATUS CHANGED WHO SOURCE",
		"ConfigMap prod x unchanged - - deploy/app.yaml:12",
		"Deployment.apps prod web missing - - -",
	}
	if len(wide) != 4 || strings.Join(wide[:3], "\n") != strings.Join(want, "\n") || wide[3] != summary[3] {
		t.Errorf("-o wide:\n%s\nwant:\n%s\n(and the totals line %q)", strings.Join(wide, "\n"), strings.Join(want, "\n"), summary[len(summary)-1])
	}
	if len(summary) != 4 || summary[0] != "KIND NAMESPACE NAME STATUS CHANGED WHO" || summary[1] != "ConfigMap prod x unchanged - -" {
		t.Errorf("-o summary changed:\n%s", strings.Join(summary, "\n"))
	}
}

// TestOutputCompletionAndHelp: shell completion of -o offers name and wide
// for drift and drift status, and --help lists them.
func TestOutputCompletionAndHelp(t *testing.T) {
	run := func(args ...string) string {
		var out, errOut bytes.Buffer
		streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		if code := cli.Run(context.Background(), append([]string{"kubectl-gitops-drift", "--kubeconfig", os.DevNull}, args...), streams, NewCmd); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out.String(), errOut.String())
		}
		return out.String()
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "-o", ""}, []string{"diff", "summary", "wide", "json", "yaml", "markdown", "name"}},
		{[]string{"__complete", "status", "-o", ""}, []string{"table", "wide", "json", "yaml", "name"}},
	} {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(run(tt.args...)), "\n") {
			if !strings.HasPrefix(l, ":") {
				got = append(got, l)
			}
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%v: completions %v, want %v", tt.args, got, tt.want)
		}
	}
	if help := run("--help"); !strings.Contains(help, "diff, summary, wide, json, yaml, markdown, name") {
		t.Errorf("drift --help does not list -o wide and name:\n%s", help)
	}
	if help := run("status", "--help"); !strings.Contains(help, "table, wide, json, yaml, name") {
		t.Errorf("drift status --help does not list -o wide and name:\n%s", help)
	}
}

// TestNameAndWideRefused: -o name and -o wide are about one cluster's
// objects: with --contexts, and -o name with --list-ignore-rules, they are a
// usage error (exit 2) rather than an output in another shape.
func TestNameAndWideRefused(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {}}]
contexts: [{name: a, context: {cluster: c, user: u}}, {name: b, context: {cluster: c, user: u}}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-f", dir, "--contexts", "a,b", "-o", "name"},
		{"-f", dir, "--contexts", "a,b", "-o", "wide"},
		{"--list-ignore-rules", "-o", "name"},
	} {
		var out, errOut bytes.Buffer
		streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		code := cli.Run(context.Background(), append([]string{"kubectl-gitops-drift", "--kubeconfig", kubeconfig}, args...), streams, NewCmd)
		if code != 2 || !strings.Contains(errOut.String(), "-o ") || out.Len() != 0 {
			t.Errorf("%v: exit %d, want 2 and a usage error\nstdout:\n%s\nstderr:\n%s", args, code, out.String(), errOut.String())
		}
	}
}
