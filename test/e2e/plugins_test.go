package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/version"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func kubectl(cp *controlplane.ControlPlane) string {
	return filepath.Join(cp.Paths.BinDir, "kubectl")
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestKubectlPluginLookup(t *testing.T) {
	cp := controlplane.ForTest(t)
	path := []string{binDir}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"verb binary found by kubectl", []string{"gitops", "drift", "--help"}, 0,
			[]string{`Use "kubectl gitops drift <command> --help"`, `Use "kubectl gitops drift options"`}, nil},
		{"each verb", []string{"gitops", "seal", "--help"}, 0, []string{`Use "kubectl gitops seal <command> --help"`}, nil},
		{"kubeconfig flags listed by options", []string{"gitops", "drift", "options"}, 0,
			[]string{"    --context='':\n\t", "    -n, --namespace='':\n\t"}, nil},
		{"dispatcher lists verbs", []string{"gitops"}, 0, []string{"drift ", "promote ", "repo ", "seal ", "tenant "}, nil},
		{"server version through the plugin and kubeconfig", []string{"gitops", "drift", "version"}, 0,
			[]string{"kubectl gitops drift version ", "Server Version: v1.37.2"}, nil},
		{"kubeconfig flags after the verb", []string{"gitops", "tenant", "version", "--context", controlplane.ContextName, "-n", "kube-system"}, 0,
			[]string{"Server Version: v1.37.2"}, nil},
		{"unknown context", []string{"gitops", "promote", "version", "--context", "nope"}, 2,
			nil, []string{`error: loading kubeconfig: context "nope" does not exist`}},
		{"unknown flag", []string{"gitops", "drift", "--frobnicate"}, 2,
			nil, []string{"error: unknown flag: --frobnicate\nSee 'kubectl gitops drift --help' for usage.\n"}},
		{"unknown verb", []string{"gitops", "frobnicate"}, 2,
			nil, []string{`error: unknown verb "frob…"`, "See 'kubectl gitops --help' for usage."}},
		{"unknown subcommand", []string{"gitops", "drift", "frobnicate"}, 2,
			nil, []string{`error: unknown command "frob…" for "kubectl gitops drift"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, cp, path, kubectl(cp), tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			// A usage error is one line and a hint (an unknown verb also
			// lists the verbs there are).
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); strings.Contains(r.stderr, "See '") &&
				!strings.Contains(r.stderr, "Verbs found") && len(lines) != 2 {
				t.Errorf("usage error is not a message and a hint:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("stack trace:\n%s", r.stderr)
			}
		})
	}
}

func TestDispatcherVersionJSONThroughKubectl(t *testing.T) {
	cp := controlplane.ForTest(t)
	r := run(t, cp, []string{binDir}, kubectl(cp), "gitops", "version", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rep version.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if rep.ClientVersion.Version == "" || rep.ClientVersion.GoVersion == "" {
		t.Errorf("incomplete version: %+v", rep)
	}
}

// krew names a plugin called "gitops-drift" kubectl-gitops_drift; kubectl
// runs it as `kubectl gitops-drift`.
func TestKrewStyleNaming(t *testing.T) {
	cp := controlplane.ForTest(t)
	dir := t.TempDir()
	copyFile(t, filepath.Join(binDir, "kubectl-gitops-drift"), filepath.Join(dir, "kubectl-gitops_drift"))
	r := run(t, cp, []string{dir}, kubectl(cp), "gitops-drift", "--help")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "Usage:\n  kubectl gitops-drift (-f FILENAME") {
		t.Errorf("display name not derived from the krew name:\n%s", r.stdout)
	}
}

// As krew installs the suite: only the dispatcher is linked onto PATH; the
// verb binaries sit beside the real dispatcher in the store directory.
func TestDispatcherFindsSiblingsThroughSymlink(t *testing.T) {
	cp := controlplane.ForTest(t)
	store := t.TempDir()
	for _, b := range []string{"kubectl-gitops", "kubectl-gitops-drift", "kubectl-gitops-seal"} {
		copyFile(t, filepath.Join(binDir, b), filepath.Join(store, b))
	}
	linked := t.TempDir()
	if err := os.Symlink(filepath.Join(store, "kubectl-gitops"), filepath.Join(linked, "kubectl-gitops")); err != nil {
		t.Fatal(err)
	}
	r := run(t, cp, []string{linked}, kubectl(cp), "gitops", "drift", "version")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "kubectl gitops drift version") || !strings.Contains(r.stdout, "Server Version: v1.37.2") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	// The verb's own exit code passes through the dispatcher and kubectl.
	r = run(t, cp, []string{linked}, kubectl(cp), "gitops", "seal", "--bogus")
	if r.code != 2 {
		t.Errorf("exit %d, want 2: %s", r.code, r.stderr)
	}
	// Only the verbs that exist are listed.
	r = run(t, cp, []string{linked}, kubectl(cp), "gitops")
	if !strings.Contains(r.stdout, "drift ") || strings.Contains(r.stdout, "promote ") {
		t.Errorf("listing:\n%s", r.stdout)
	}
}

func TestCompletionThroughDispatcher(t *testing.T) {
	cp := controlplane.ForTest(t)
	r := run(t, cp, []string{binDir}, filepath.Join(binDir, "kubectl-gitops"), "__complete", "drift", "--context", "")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, controlplane.ContextName+"\n") {
		t.Errorf("context completion lacks %s:\n%s", controlplane.ContextName, r.stdout)
	}
	r = run(t, cp, []string{binDir}, filepath.Join(binDir, "kubectl-gitops"), "__complete", "drift", "-n", "")
	if !strings.Contains(r.stdout, "kube-system\n") {
		t.Errorf("namespace completion from the live server lacks kube-system:\n%s", r.stdout)
	}
}
