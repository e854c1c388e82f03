package chartsource_test

import (
	"context"
	"fmt"
	"log"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
)

// A renderer fetches the chart of a Flux HelmRelease whose
// spec.chart.spec.sourceRef is a HelmRepository: the HelmRepository gives
// the URL, type and secretRef credentials (read by the caller), the
// HelmRelease the chart name and version. An OCIRepository named by a
// HelmRelease chartRef gives RepoURL (the chart included) and Tag, Semver
// or Digest instead.
func ExampleFetcher_Fetch() {
	f, err := chartsource.New(chartsource.Options{
		// drift passes --repo-override here: ORIGINAL=LOCAL_DIR or =URL.
		Override: func(url string) string { return url },
		// The plugin reads a source's secretRef Secret; this package never does.
		Credentials: func(ctx context.Context, namespace, secret string) (*chartsource.Credentials, error) {
			return nil, nil // the Secret holds nothing for us
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	helmRelease := chartsource.ChartRef{
		RepoURL:         "https://stefanprodan.github.io/podinfo", // HelmRepository spec.url
		Type:            chartsource.TypeHTTP,                     // HelmRepository spec.type
		Chart:           "podinfo",                                // HelmRelease spec.chart.spec.chart
		Version:         "6.x",                                    // HelmRelease spec.chart.spec.version
		SourceKind:      "HelmRepository",
		SourceNamespace: "flux-system",
		SourceName:      "podinfo",
		SecretName:      "", // HelmRepository spec.secretRef.name: Credentials is asked for it
		// Credentials: &chartsource.BasicAuth{...} when the caller has them.
	}
	path, digest, err := f.Fetch(context.Background(), helmRelease)
	if err != nil {
		log.Fatal(err) // credentials never appear in it
	}
	fmt.Println(path, digest) // the .tgz in the cache, sha256:…

	chartRef := chartsource.ChartRef{
		RepoURL:    "oci://ghcr.io/stefanprodan/charts/podinfo", // OCIRepository spec.url
		Semver:     ">=6.0.0",                                   // OCIRepository spec.ref.semver
		SourceKind: "OCIRepository", SourceNamespace: "flux-system", SourceName: "podinfo",
	}
	if _, _, err := f.Fetch(context.Background(), chartRef); err != nil {
		log.Fatal(err)
	}
}
