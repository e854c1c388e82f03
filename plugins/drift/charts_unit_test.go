package drift

import (
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
)

// TestChartRef checks the adapter from pkg/desired's chart reference to
// pkg/chartsource's: a HelmRepository's chart and version range, an
// OCIRepository's spec.ref (its URL names the chart).
func TestChartRef(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   desired.ChartRef
		want chartsource.ChartRef
	}{
		{"HelmRepository", desired.ChartRef{SourceKind: "HelmRepository", SourceNamespace: "flux", SourceName: "charts",
			URL: "https://charts.example.com", Type: "default", Chart: "podinfo", Version: ">=6.0.0 <7.0.0", PassCredentials: true},
			chartsource.ChartRef{SourceKind: "HelmRepository", SourceNamespace: "flux", SourceName: "charts",
				RepoURL: "https://charts.example.com", Type: "default", Chart: "podinfo", Version: ">=6.0.0 <7.0.0", PassCredentials: true}},
		{"HelmRepository OCI", desired.ChartRef{SourceKind: "HelmRepository", URL: "oci://ghcr.io/org/charts", Type: "oci", Chart: "podinfo", Version: "6.x", Insecure: true},
			chartsource.ChartRef{SourceKind: "HelmRepository", RepoURL: "oci://ghcr.io/org/charts", Type: "oci", Chart: "podinfo", Version: "6.x", Insecure: true}},
		{"OCIRepository", desired.ChartRef{SourceKind: "OCIRepository", SourceNamespace: "flux", SourceName: "podinfo", URL: "oci://ghcr.io/org/charts/podinfo",
			OCIRef: map[string]string{"tag": "6.5.0", "semver": ">=6.0.0", "digest": "sha256:abc"}, Insecure: true},
			chartsource.ChartRef{SourceKind: "OCIRepository", SourceNamespace: "flux", SourceName: "podinfo", RepoURL: "oci://ghcr.io/org/charts/podinfo",
				Tag: "6.5.0", Semver: ">=6.0.0", Digest: "sha256:abc", Insecure: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := chartRef(tt.in); got != tt.want {
				t.Errorf("chartRef(%+v)\n= %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}
