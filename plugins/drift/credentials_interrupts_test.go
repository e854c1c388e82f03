package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/fleet"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestReviewRepoOverrideIgnoresCredentials: reports show repository URLs
// without their credentials, so an override written from a report must
// match the URL the cluster holds, credentials included.
func TestReviewRepoOverrideIgnoresCredentials(t *testing.T) {
	tests := []struct {
		name      string
		overrides []string
		url, want string
	}{
		{"exact, credentials in the cluster's URL", []string{"https://git.example.com/org/fleet.git=file:///m/fleet.git"},
			"https://bot:tok3n@git.example.com/org/fleet.git", "file:///m/fleet.git"},
		{"exact, without .git", []string{"https://git.example.com/org/fleet=file:///m/fleet.git"},
			"https://tok3n@git.example.com/org/fleet.git", "file:///m/fleet.git"},
		{"prefix, credentials in the cluster's URL", []string{"https://git.example.com/org/=file:///m/"},
			"https://bot:tok3n@git.example.com/org/fleet.git", "file:///m/fleet.git"},
		{"credentials in the override", []string{"https://bot:tok3n@git.example.com/org/fleet.git=file:///m/fleet.git"},
			"https://bot:tok3n@git.example.com/org/fleet.git", "file:///m/fleet.git"},
		{"prefix as given, unchanged", []string{"https://git.example.com/org/=file:///m/"},
			"https://git.example.com/org/fleet.git", "file:///m/fleet.git"},
		{"another repository", []string{"https://git.example.com/org/fleet.git=file:///m/fleet.git"},
			"https://bot:tok3n@git.example.com/org/other.git", "https://bot:tok3n@git.example.com/org/other.git"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &Options{RepoOverrides: tt.overrides}
			if got := o.overrideURL(tt.url); got != tt.want {
				t.Errorf("overrideURL(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

// TestReviewAdoptRefusesOutputFormats: --adopt prints the patch it
// writes; -o json (or any format but the default) is refused before
// anything is written, rather than silently ignored.
func TestReviewAdoptRefusesOutputFormats(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "review-adopt-o"
	kubectl(t, cp, "", "create", "namespace", ns)
	t.Cleanup(func() { _ = cp.Kubectl(context.Background(), "delete", "namespace", ns, "--wait=false").Run() })
	kubectl(t, cp, "", "-n", ns, "create", "configmap", "app", "--from-literal=level=debug")
	manifest := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: %s\ndata:\n  level: info\n", ns)
	dir := writeFiles(t, map[string]string{"app.yaml": manifest})
	file := filepath.Join(dir, "app.yaml")
	for _, format := range []string{"json", "yaml", "summary", "markdown"} {
		r := runDrift(t, cp, "-f", file, "--adopt", "-o", format)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--adopt") || r.stdout != "" {
			t.Errorf("--adopt -o %s: exit %d, want 2 with a usage error\nstdout:\n%s\nstderr:\n%s", format, r.code, r.stdout, r.stderr)
		}
		if got, _ := os.ReadFile(file); string(got) != manifest {
			t.Fatalf("--adopt -o %s changed the file:\n%s", format, got)
		}
	}
	// The default (and -o diff) still adopts.
	if r := runDrift(t, cp, "-f", file, "--adopt", "-o", "diff"); r.code != 0 || !strings.Contains(r.stdout, "+  level: debug") {
		t.Errorf("--adopt -o diff: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestReviewInterruptedFetchPrintsNoReport: a run interrupted while
// fetching a Git source says it was interrupted; it does not print a
// report in which the source failed.
func TestReviewInterruptedFetchPrintsNoReport(t *testing.T) {
	cp := controlplane.ForTest(t)
	repo := newFleetRepo(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := cli.Run(ctx, []string{"kubectl-gitops-drift", "--kubeconfig", cp.Kubeconfig, "--repo", "file://" + repo.bare, "--path", "apps/web", "-o", "json"}, streams, NewCmd)
	if code != cli.ExitInterrupted || out.Len() != 0 || !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("exit %d, want %d, no report and 'interrupted'\nstdout:\n%s\nstderr:\n%s", code, cli.ExitInterrupted, out.String(), errOut.String())
	}
	assertNoCheckouts(t, tmp)
}

// TestReviewFleetTimeoutLeavesNoClone: a cluster whose check is stopped at
// --context-timeout while its Git source is still being fetched (here an
// SSH transport slow to die) becomes an error cell; the clone its check had
// started is removed before drift exits.
func TestReviewFleetTimeoutLeavesNoClone(t *testing.T) {
	cp := controlplane.ForTest(t)
	script := filepath.Join(t.TempDir(), "slow-ssh")
	// An SSH command that ignores interrupts and holds git's output open.
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntrap '' INT TERM\nexec sleep 8\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("GIT_SSH_COMMAND", script)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")

	r := runDrift(t, cp, "--repo", "ssh://git@127.0.0.1/fleet.git", "--contexts", controlplane.ContextName,
		"--context-timeout", "2s", "-o", "json")
	if r.code != cli.ExitError {
		t.Errorf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	cells := fleetCells(t, r.stdout)
	if c := cells[controlplane.ContextName]; c.State != "error" || !strings.Contains(c.Error, "--context-timeout") {
		t.Errorf("cell: %+v", c)
	}
	assertNoCheckouts(t, tmp)
}

// TestReviewArgoCredentialsNeverShown: an Argo CD Application whose
// repoURL carries a token, and whose status quotes it (as a failed
// comparison does): no output of drift or drift status shows the token.
func TestReviewArgoCredentialsNeverShown(t *testing.T) {
	cp := controlplane.ForTest(t)
	const token = "ghp-r3view-t0ken"
	ns := "review-argo-creds"
	kubectl(t, cp, "", "create", "namespace", ns)
	t.Cleanup(func() { _ = cp.Kubectl(context.Background(), "delete", "namespace", ns, "--wait=false").Run() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String() // nothing listens there once closed
	l.Close()
	url := "https://bot:" + token + "@" + closed + "/org/fleet.git"
	kubectl(t, cp, fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: %s}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: %s}
  source: {repoURL: '%s', targetRevision: main, path: apps/web}
`, ns, ns, url), "apply", "-f", "-")
	status, _ := json.Marshal(map[string]any{"status": map[string]any{
		"sync":       map[string]any{"status": "Unknown"},
		"conditions": []any{map[string]any{"type": "ComparisonError", "message": "failed to list refs of " + url + ": connection refused"}},
	}})
	kubectl(t, cp, "", "-n", ns, "patch", "application", "web", "--type=merge", "-p", string(status))

	for _, args := range [][]string{
		{"--argocd-app", ns + "/web", "-o", "json"},
		{"--argocd-app", ns + "/web", "-o", "yaml"},
		{"--argocd-app", ns + "/web", "-o", "markdown"},
		{"--argocd-app", ns + "/web", "-o", "summary"},
		{"--argocd-app", ns + "/web"},
		{"--all-argocd-apps", "-n", ns, "-o", "json"},
		{"status", "-n", ns, "-o", "json"},
		{"status", "-n", ns, "-o", "yaml"},
		{"status", "-n", ns},
	} {
		r := runDrift(t, cp, args...)
		if r.code != cli.ExitError {
			t.Errorf("%v: exit %d, want 2 (the repository cannot be fetched)", args, r.code)
		}
		if strings.Contains(r.stdout+r.stderr, token) {
			t.Errorf("%v: the token is shown:\n%s\n%s", args, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout+r.stderr, closed+"/org/fleet.git") {
			t.Errorf("%v: the repository is not named:\n%s\n%s", args, r.stdout, r.stderr)
		}
	}
}

// TestReviewFleetFlagsNeedContexts: --parallel and --context-timeout tune
// a fleet run; without --contexts or --all-contexts they are refused, as
// other flags that do not apply are (--force-conflicts without --fix…),
// instead of being silently ignored.
func TestReviewFleetFlagsNeedContexts(t *testing.T) {
	cp := controlplane.ForTest(t)
	dir := writeFiles(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: review-fleet-flags, namespace: default}\ndata: {a: b}\n"})
	for _, args := range [][]string{{"--parallel", "2"}, {"--context-timeout", "5s"}, {"--parallel=4", "--context-timeout=2m"}} {
		r := runDrift(t, cp, append([]string{"-f", dir}, args...)...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "apply to --contexts or --all-contexts") || r.stdout != "" {
			t.Errorf("%v: exit %d, want 2\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	// With --contexts they are fine.
	r := runDrift(t, cp, "-f", dir, "--contexts", controlplane.ContextName, "--parallel", "2", "--context-timeout", "1m")
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "1 missing") {
		t.Errorf("with --contexts: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestReviewFleetSourceNotOnCluster: with --all-argocd-apps or --all-flux
// each cluster has its own Applications and Kustomizations; one a cluster
// does not have is shown as "-" there, not as an error, and the fleet does
// not fail for it.
func TestReviewFleetSourceNotOnCluster(t *testing.T) {
	t.Parallel()
	inSync := &compare.Report{Objects: []compare.ObjectReport{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "a", Status: compare.StatusUnchanged}}}
	m := fleet.Run(t.Context(), []string{"eu", "us"}, fleet.Options{}, func(_ context.Context, cl string) ([]fleet.SourceResult, error) {
		out := []fleet.SourceResult{{Source: "argocd/argocd/shop", Report: inSync}}
		if cl == "eu" {
			out = append(out, fleet.SourceResult{Source: "argocd/argocd/eu-only", Report: inSync})
		}
		return out, nil
	})
	var b bytes.Buffer
	if err := renderFleet(&b, m, "text"); err != nil {
		t.Fatal(err)
	}
	var row string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "argocd/argocd/eu-only") {
			row = l
		}
	}
	if f := strings.Fields(row); len(f) != 4 || f[1] != "in" || f[2] != "sync" || f[3] != "-" {
		t.Errorf("row %q, want in sync on eu and - on us:\n%s", row, b.String())
	}
	if strings.Contains(b.String(), "Errors:") {
		t.Errorf("an error is listed:\n%s", b.String())
	}
	if err := fleetResult(m, true); err != nil {
		t.Errorf("exit status: %v, want 0", err)
	}
}
