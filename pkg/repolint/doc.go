// Package repolint provides the checks of `kubectl gitops repo lint`: every
// kustomization builds, every environment has every application, no
// plaintext secrets (pkg/secretscan), every Argo CD Application and Flux
// Kustomization points at a path that exists, images are pinned, the
// promotion pipeline is valid (pkg/promotion), built-in kinds decode
// strictly, every Helm chart of the repository passes helm lint with its own
// values and each environment's (pkg/chartlint; HelmReleases' values against
// charts of chart repositories through an injected ChartFetcher), and —
// through an injected DryRunner — every object is accepted by
// a real API server's server-side apply dry run. Findings are data with file,
// line, rule and severity.
//
// It reads the repository through pkg/repograph and pkg/manifest and talks
// to no cluster itself. It must not import cobra, pflag, pkg/cluster or the
// plugins, call os.Exit or write to stdout.
package repolint
