package repograph

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanYAMLErrorLine: a YAML error points at the 1-based line of the
// construct that is broken, for yaml.v3's parser errors (whose own line is
// 0-based) as for its scanner errors.
func TestScanYAMLErrorLine(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
	}{
		{"flow sequence left open", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  key: [unclosed\n", 6},
		{"flow mapping left open", "a: 1\nb: 2\nc: {x: 1\n", 3},
		{"sequence then key", "a: 1\nb:\n  - x\n  y: 2\n", 3},
		{"sequence at the top, then a key", "- a\n- b\nc: 1\n", 3},
		{"bad indentation", "a:\n  b: 1\n c: 2\n", 3},
		// Scanner errors were right already.
		{"tab", "a: 1\nb:\n\tc: 2\n", 3},
		{"unterminated quote", "a: 1\nb: \"open\nc: 2\n", 2},
		{"mapping in a scalar", "a: 1\nb: 2\n  c: 3\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "f.yaml"), []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Scan(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Errors) != 1 {
				t.Fatalf("errors %v, want one", r.Errors)
			}
			if got := r.Errors[0].Line; got != tt.line {
				t.Errorf("line %d, want %d (%v)", got, tt.line, r.Errors[0].Err)
			}
		})
	}
}

// TestDOTShowsUnknownDependency: a dependsOn naming a Kustomization that is
// not in the repository is drawn (the text says "(not found)"), not dropped.
func TestDOTShowsUnknownDependency(t *testing.T) {
	dir := t.TempDir()
	ks := `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  path: ./apps
  sourceRef: {kind: GitRepository, name: flux-system}
  dependsOn:
    - name: infra
    - name: crds
      namespace: other
`
	for _, env := range []string{"dev", "prod"} {
		p := filepath.Join(dir, "clusters", env, "apps.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(ks), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "apps"), 0o755); err != nil {
		t.Fatal(err)
	}
	g, err := Load(dir, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.WriteDOT(&buf); err != nil {
		t.Fatal(err)
	}
	dot := buf.String()
	for _, want := range []string{
		`u1 [label="Kustomization flux-system/infra\n(not found)"`,
		`u2 [label="Kustomization other/crds\n(not found)"`,
		`n1 -> u1 [style=dashed, label="dependsOn"];`,
		`n1 -> u2 [style=dashed, label="dependsOn"];`,
		// The other cluster's Kustomization has its own placeholders: no
		// edge crosses clusters.
		`n2 -> u3 [style=dashed, label="dependsOn"];`,
		`n2 -> u4 [style=dashed, label="dependsOn"];`,
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %s:\n%s", want, dot)
		}
	}
}
