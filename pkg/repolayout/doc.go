// Package repolayout provides the skeleton of a GitOps repository that
// `kubectl gitops repo init` writes: for Argo CD (a root app-of-apps
// Application per environment, AppProjects, one Application per application
// and environment) or Flux (clusters/<env> with a GitRepository and
// Kustomizations separating infrastructure, tenants and applications with
// dependsOn), in a mono-repo or per-team layout, with environments as
// directories or branches. Both operators get the same application tree
// (a base and one overlay per environment), the promotion pipeline
// (.gitops/pipeline.yaml), the tenants directory, .sops.yaml, the drift
// ignore file, the lint configuration and a README explaining the layout.
//
// Generate is pure: it returns files as data, with deterministic bytes.
// Plan and Write compare them with a directory and write them atomically
// (pkg/safefile), never over a changed file unless forced.
//
// It must not import cobra, pflag, client-go or the plugins, call os.Exit or
// write to stdout.
package repolayout
