package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// The drift exit-code contract, through kubectl's plugin lookup and the
// real binary: 0 in sync, 1 drift, 2 error.
func TestDriftExitCodes(t *testing.T) {
	cp := controlplane.ForTest(t)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Namespace
metadata: {name: exit-codes}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: exit-codes}
data: {mode: production}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "broken.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := kubectl(cp)
	path := []string{binDir}
	if r := run(t, cp, path, k, "apply", "--server-side", "-f", manifest); r.code != 0 {
		t.Fatalf("apply: %s", r.stderr)
	}
	steps := []struct {
		name     string
		setup    []string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"in sync", nil, []string{"gitops", "drift", "-f", manifest}, 0, ""},
		{"in sync, local", nil, []string{"gitops", "drift", "-f", manifest, "--mode=local"}, 0, ""},
		{"drift", []string{"patch", "-n", "exit-codes", "configmap/settings", "-p", `{"data":{"mode":"debug"}}`},
			[]string{"gitops", "drift", "-f", manifest}, 1, ""},
		{"drift with --exit-code=false", nil, []string{"gitops", "drift", "-f", manifest, "--exit-code=false"}, 0, ""},
		{"bad manifest", nil, []string{"gitops", "drift", "-f", bad}, 2, "broken.yaml:5: yaml: did not find expected node content"},
		{"no input", nil, []string{"gitops", "drift"}, 2, "must specify one of -f, -k, --repo"},
		{"bad mode", nil, []string{"gitops", "drift", "-f", manifest, "--mode=fast"}, 2, `--mode must be server, local or hybrid, not "fast"`},
		{"unreachable server", nil, []string{"gitops", "drift", "-f", manifest, "-s", "https://127.0.0.1:1"}, 2,
			"The connection to the server 127.0.0.1:1 was refused"},
	}
	for _, s := range steps {
		if s.setup != nil {
			if r := run(t, cp, path, k, s.setup...); r.code != 0 {
				t.Fatalf("%s: setup: %s", s.name, r.stderr)
			}
		}
		r := run(t, cp, path, k, s.args...)
		if r.code != s.wantCode {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", s.name, r.code, s.wantCode, r.stdout, r.stderr)
		}
		if s.wantErr != "" && !strings.Contains(r.stderr, s.wantErr) {
			t.Errorf("%s: stderr lacks %q:\n%s", s.name, s.wantErr, r.stderr)
		}
		if s.wantCode == 2 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("%s: more than a message and a hint on stderr:\n%s", s.name, r.stderr)
		}
	}
}
