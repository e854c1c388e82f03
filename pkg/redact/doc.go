// Package redact provides the masking of Secret values in everything the
// project shows: Secret data and stringData (as kubectl diff's Masker does:
// "***", "*** (before)", "*** (after)", so a changed key stays visible), the
// kubectl.kubernetes.io/last-applied-configuration annotation that embeds
// them (which kubectl diff leaks, kubernetes/kubectl#1453), and a final sweep
// that replaces any known secret value wherever else it appears (other
// annotations, error messages).
//
// It is pure and must not import the cluster, cobra or the plugins.
package redact
