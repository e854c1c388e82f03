// Package desired provides desired state: it turns a source into the
// objects to compare with the cluster, with the ignore rules in force, the
// provenance of every object and the tracking metadata its operator adds.
// The sources are the -f/-k manifests, a directory of a Git checkout
// (--repo, promote's drift gate), an Argo CD Application or Flux
// Kustomization (pkg/gitopsapi), fetched each repository and revision once,
// and a Flux HelmRelease: its chart fetched (from a GitRepository checkout,
// or through an injected ChartFetcher for HelmRepository and
// OCIRepository charts) and rendered by an injected HelmRenderer, so that
// this package links no Helm SDK (pkg/helmrender is the plugin's); Argo
// CD chart paths and spec.source.chart charts go through the same
// renderer and fetcher.
// LoadIgnore is the one loader of a repository's ignore rules.
//
// Every plugin that needs desired state goes through it: drift (and its
// watch, fleet and status), promote's drift gate, and a new source kind
// (Helm) lands here once; Flux OCIRepository artifacts come through
// pkg/ocisource.
//
// It must not import cobra, pflag, cli-runtime or the plugins, never writes
// to stdout or stderr (warnings are returned as data), and does not reach
// the API server: it does not import pkg/cluster; what it needs to know of
// the cluster (whether a kind is namespaced, the Helm renderer with the
// cluster's capabilities) is passed in as a function.
package desired
