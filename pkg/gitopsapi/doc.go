// Package gitopsapi provides the desired-state sources that GitOps
// operators describe in their own objects: an Argo CD Application
// (argoproj.io/v1alpha1) or a Flux Kustomization
// (kustomize.toolkit.fluxcd.io/v1) with its GitRepository
// (source.toolkit.fluxcd.io/v1), read through pkg/cluster's Reader into a
// neutral Source: repository, revision and path; how the operator turns the
// path into objects (plain directory, kustomize, its own kustomize options);
// its ignore rules; how it marks the objects it manages (tracking id, labels,
// inventory); whether it is disabled or unsupported; and the operator's own
// view of it (sync, health, Ready, revision).
//
// Render builds a Source's desired objects from a checkout of its revision
// the way the operator does (for Flux: post-build variables substituted
// through Flux's own library; for Argo CD: jsonnet evaluated under a budget
// by pkg/jsonneteval, imports kept inside the checkout, resource hooks left
// out, as Argo CD leaves them out of its comparison), and Source.Track adds the tracking metadata the
// operator writes on every object it applies.
//
// It must not import cobra, pflag or the plugins, never writes to stdout or
// stderr, and reaches the cluster only through pkg/cluster's Reader.
package gitopsapi
