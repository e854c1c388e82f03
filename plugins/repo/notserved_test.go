package repo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolint"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestLintNamesAnUnservedVersion checks lint --kubeconfig against a kind
// whose CRD is installed but no longer serves the object's apiVersion
// (HelmRelease helm.toolkit.fluxcd.io/v2beta1): the finding keeps the
// server's versions and does not tell the user to install the CRD, which
// is still the advice for a kind served at no version.
func TestLintNamesAnUnservedVersion(t *testing.T) {
	cp := controlplane.ForTest(t)
	if err := cp.InstallCRDs(t.Context()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("helmrelease.yaml", `apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: old
  namespace: default
spec:
  interval: 5m
`)
	write("widget.yaml", `apiVersion: widgets.example.com/v1
kind: Widget
metadata:
  name: w
  namespace: default
`)
	r := runRepo(t, cp.Kubeconfig, "lint", dir, "-o", "json")
	if r.code != 1 {
		t.Fatalf("want findings: %s", r)
	}
	var rep repolint.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v: %s", err, r)
	}
	var hr, widget *repolint.Finding
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Rule != repolint.RuleDryRun {
			continue
		}
		switch {
		case strings.Contains(f.File, "helmrelease.yaml"):
			hr = f
		case strings.Contains(f.File, "widget.yaml"):
			widget = f
		}
	}
	if hr == nil || widget == nil {
		t.Fatalf("want a dry-run finding for each file: %s", r)
	}
	if strings.Contains(hr.Message, "install its CRD") || !strings.Contains(hr.Message, "apiVersion not served") ||
		!strings.Contains(hr.Message, "it serves HelmRelease at v2") {
		t.Errorf("HelmRelease v2beta1: %q, want the versions served and no advice to install the CRD", hr.Message)
	}
	if !strings.Contains(widget.Message, "install its CRD") {
		t.Errorf("Widget: %q, want the advice to install its CRD", widget.Message)
	}
}
