package drift

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// TestCRDPolicy is the policy helm-controller applies the chart's crds/
// by (internal/action/crds.go), per case: the install's until the release
// was upgraded, then the upgrade's, "" meaning Create for both.
func TestCRDPolicy(t *testing.T) {
	tests := []struct {
		install, upgrade string
		stored           int // newest release record; 0: none
		want             string
	}{
		{"", "", 0, "Create"},
		{"", "", 1, "Create"},
		{"Skip", "", 1, "Skip"},
		{"Skip", "", 2, "Create"},
		{"CreateReplace", "", 1, "CreateReplace"},
		{"CreateReplace", "", 3, "Create"},
		{"CreateReplace", "Skip", 2, "Skip"},
		{"Create", "CreateReplace", 1, "Create"},
		{"Create", "CreateReplace", 2, "CreateReplace"},
		{"Skip", "Skip", 0, "Skip"},
	}
	for _, tt := range tests {
		h := &gitopsapi.HelmRelease{InstallCRDs: tt.install, UpgradeCRDs: tt.upgrade}
		if tt.stored > 0 {
			h.Stored = &gitopsapi.StoredRelease{Version: tt.stored}
		}
		if got := crdPolicy(h); got != tt.want {
			t.Errorf("install %q, upgrade %q, record v%d: policy %q, want %q", tt.install, tt.upgrade, tt.stored, got, tt.want)
		}
	}
}

// TestFluxHelmReleaseCRDPolicies: the real sealed-secrets chart, which
// ships its CRD in crds/, served by an HTTP chart repository and applied
// as helm-controller would (the CRD created apart with the origin labels),
// on a control plane of its own (the CRD is cluster-wide). A label added
// to the CRD by hand is drift only where helm-controller would replace the
// CRD (CreateReplace); under Create only its presence counts (skipped
// while it exists, missing once deleted); under Skip it is not compared.
// Which policy counts follows the release's record: install's at v1,
// upgrade's once upgraded.
func TestFluxHelmReleaseCRDPolicies(t *testing.T) {
	cp, err := controlplane.Start(t.Context(), controlplane.Options{CRDs: true})
	if err != nil {
		t.Fatalf("starting a control plane: %v", err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	peertools.Require(t, peertools.Helm, "helm")
	tmp := t.TempDir()
	src, archive, repoSrv := serveSealedSecrets(t, tmp)

	const crdName = "sealedsecrets.bitnami.com"
	const hrNS, relNS, hr = "crd-flux", "crd-apps", "sealed"
	const release = relNS + "-" + hr
	// The suite's CRDs include this one: helm-controller creates it here.
	kubectl(t, cp, "", "delete", "crd", crdName, "--wait=true")
	createCRD := func() {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(src, "crds", "bitnami.com_sealedsecrets.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.Replace(string(data), "\n  name: "+crdName+"\n",
			"\n  name: "+crdName+"\n  labels: {helm.toolkit.fluxcd.io/name: "+hr+", helm.toolkit.fluxcd.io/namespace: "+hrNS+"}\n", 1)
		if doc == string(data) {
			t.Fatalf("the chart's CRD file does not name %s as expected:\n%.400s", crdName, data)
		}
		kubectl(t, cp, doc, "create", "--field-manager=helm-controller", "-f", "-")
	}
	createCRD()
	for _, ns := range []string{hrNS, relNS} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	kubectl(t, cp, `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: `+hrNS+`}
spec: {interval: 10m, url: "`+repoSrv.URL+`"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: `+hr+`, namespace: `+hrNS+`}
spec:
  interval: 10m
  targetNamespace: `+relNS+`
  values: {rbac: {clusterRoleName: `+relNS+`-unsealer}}
  chart:
    spec:
      chart: sealed-secrets
      sourceRef: {kind: HelmRepository, name: charts}
`, "apply", "-f", "-")
	values := map[string]any{"rbac": map[string]any{"clusterRoleName": relNS + "-unsealer"}}
	manifest := helmControllerApplyChart(t, cp, archive, "", release, relNS, hrNS, hr, values)
	helmRecord(t, cp, hrNS, release, 1, manifest, values)
	kubectl(t, cp, "", "label", "crd", crdName, "hand=made")

	name := "helmrelease/" + hrNS + "/" + hr
	crd := "CustomResourceDefinition/" + crdName
	// check runs drift in server mode (runDrift holds hybrid mode, the
	// default, to the same report) and local mode; local mode reports the
	// chart's zero values on other objects (docs/drift.md), so only the
	// CRD's lines are compared there.
	check := func(t *testing.T, want string, reason string) {
		t.Helper()
		r := runDrift(t, cp, "--flux-helmrelease", hrNS+"/"+hr, "--mode", "server", "-o", "json")
		s := parseSources(t, r)
		if got := driftBySource(s)[name]; got != want {
			t.Errorf("server mode: drift\n%s\nwant\n%s\nstderr: %s", got, want, r.stderr)
		}
		wantCode := cli.ExitOK
		if want != "" && !strings.HasSuffix(want, " skipped") {
			wantCode = cli.ExitFindings
		}
		if r.code != wantCode {
			t.Errorf("server mode: exit %d, want %d\nstderr: %s", r.code, wantCode, r.stderr)
		}
		if reason != "" && !strings.Contains(r.stdout, reason) {
			t.Errorf("server mode: the CRD's reason %q is not in the report:\n%s", reason, r.stdout)
		}
		r = runDrift(t, cp, "--flux-helmrelease", hrNS+"/"+hr, "--mode", "local", "-o", "json")
		var lines []string
		for _, l := range strings.Split(driftBySource(parseSources(t, r))[name], "\n") {
			if strings.HasPrefix(l, crd+" ") {
				lines = append(lines, l)
			}
		}
		if got := strings.Join(lines, "\n"); got != want {
			t.Errorf("local mode: the CRD's lines\n%s\nwant\n%s", got, want)
		}
	}
	policies := func(install, upgrade string) {
		t.Helper()
		kubectl(t, cp, "", "patch", "-n", hrNS, "helmrelease/"+hr, "--type=merge", "-p",
			`{"spec":{"install":{"crds":`+jsonOrNull(install)+`},"upgrade":{"crds":`+jsonOrNull(upgrade)+`}}}`)
	}
	const createReason = "CRD policy Create"
	edited := crd + " extra metadata.labels.hand kubectl-label(Update)"

	t.Run("installed, policy Create (the default): presence only", func(t *testing.T) {
		check(t, crd+" skipped", createReason)
	})
	t.Run("installed, install.crds CreateReplace: compared", func(t *testing.T) {
		policies("CreateReplace", "")
		check(t, edited, "")
	})
	helmRecord(t, cp, hrNS, release, 2, manifest, values)
	t.Run("upgraded, upgrade.crds unset (Create in helm-controller's code)", func(t *testing.T) {
		check(t, crd+" skipped", createReason)
	})
	t.Run("upgraded, upgrade.crds Skip: not compared", func(t *testing.T) {
		policies("CreateReplace", "Skip")
		check(t, "", "")
	})
	t.Run("upgraded, upgrade.crds CreateReplace: compared", func(t *testing.T) {
		policies("Skip", "CreateReplace")
		check(t, edited, "")
	})
	t.Run("upgraded, upgrade.crds Create, the CRD deleted: missing", func(t *testing.T) {
		policies("Skip", "Create")
		kubectl(t, cp, "", "delete", "crd", crdName, "--wait=true")
		check(t, crd+" missing", "")
	})
}

// jsonOrNull is s as a JSON string, or null (a merge patch removing the
// field) when empty.
func jsonOrNull(s string) string {
	if s == "" {
		return "null"
	}
	return `"` + s + `"`
}
