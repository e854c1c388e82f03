// Package promotion provides the data side of `kubectl gitops promote`: the
// pipeline file (.gitops/pipeline.yaml) parsed and validated with every error
// at file:line:column, the commit message and trailers that record a
// promotion, the history read back from those trailers, and the pure planning
// of a promotion (which version goes where, which files change, downgrade and
// no-op refusal).
//
// Everything here is pure: it must not import cobra, pflag, client-go,
// pkg/cluster, or run git or talk to a forge. Callers read Git and the cluster
// and hand the results in as data (versions per environment, commits with
// trailers); this package returns data and never prints.
package promotion
