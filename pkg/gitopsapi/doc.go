// Package gitopsapi provides the desired-state sources that GitOps
// operators describe in their own objects: an Argo CD Application
// (argoproj.io/v1alpha1) or a Flux Kustomization
// (kustomize.toolkit.fluxcd.io/v1) with its GitRepository or OCIRepository
// (source.toolkit.fluxcd.io/v1) or its ExternalArtifact and the
// ArtifactGenerator that produces it (source.extensions.fluxcd.io/v1beta1),
// or a Flux HelmRelease (helm.toolkit.fluxcd.io/v2) with its chart's source,
// its valuesFrom data and its last stored Helm release record (only the
// manifest kept), read through pkg/cluster's Reader into a
// neutral Source: repository, revision and path; how the operator turns the
// path into objects (plain directory, kustomize, its own kustomize options);
// its ignore rules; how it marks the objects it manages (tracking id, labels,
// inventory); whether it is disabled or unsupported; and the operator's own
// view of it (sync, health, Ready, revision).
//
// BuildGitArtifact and BuildExternalArtifact build, from checkouts, the
// artifact trees Flux's source-controller and source-watcher build
// (GitRepository ignore rules and includes; an ArtifactGenerator's copy
// operations), for Render to read a Flux Kustomization's path from.
//
// Render builds a Source's desired objects from a checkout of its revision
// the way the operator does (for Flux: post-build variables substituted
// through Flux's own library; for Argo CD: jsonnet evaluated under a budget
// by pkg/jsonneteval, imports kept inside the checkout, resource hooks left
// out, as Argo CD leaves them out of its comparison), and Source.Track adds the tracking metadata the
// operator writes on every object it applies.
//
// ArgoHelmChart tells whether Argo CD renders an Application's path with
// Helm, and ArgoHelmTemplate resolves the helm template command Argo CD's
// repo-server runs for it (spec.source.helm, value files kept inside the
// checkout); the rendering itself is pkg/helmrender's, through the caller.
//
// It must not import cobra, pflag or the plugins, never writes to stdout or
// stderr, and reaches the cluster only through pkg/cluster's Reader.
package gitopsapi
