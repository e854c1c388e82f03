// Package redact provides the masking of Secret values in everything the
// project shows: Secret data and stringData (as kubectl diff's Masker does:
// "***", "*** (before)", "*** (after)", so a changed key stays visible), the
// kubectl.kubernetes.io/last-applied-configuration annotation that embeds
// them (which kubectl diff leaks, kubernetes/kubectl#1453), and a final sweep
// that replaces any known secret value wherever else it appears (other
// annotations, error messages). HelmValues masks the same way the secret
// values embedded in Helm values (a Flux HelmRelease's spec.values, an Argo
// CD Application's helm values, valuesObject and parameters), by the key
// rule of pkg/secretscan, so that what seal scan flags and what drift masks
// are one definition. MaskError gives an error a masked message while it
// still unwraps to the original, the one such wrapper of the project.
//
// It is pure and must not import the cluster, cobra or the plugins.
package redact
