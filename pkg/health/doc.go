// Package health provides the promotion gate's view of the live cluster:
// whether an application version is deployed and healthy in an environment,
// and since when, read from a workload (Deployment, StatefulSet, DaemonSet)
// as `kubectl rollout status` judges it, from an Argo CD Application, or from
// a Flux Kustomization or HelmRelease.
//
// It only reads, through pkg/cluster's Reader, on unstructured objects, so no
// client or controller type leaks into its API. Git questions ("does the
// applied commit contain the wanted one?") are answered by the caller through
// Expect.Contains. It must not import cobra, the plugins, or another engine
// package.
package health
