// Package chartsource provides Helm chart archives for rendering, fetched
// as Flux's source-controller fetches them: from an HTTP chart repository
// (a HelmRepository: index.yaml, then the chart it names), from an OCI
// registry (a HelmRepository of type oci, or an OCIRepository whose layer
// is a Helm chart), or from a local directory a repository override
// (--repo-override) points at. Versions are resolved as source-controller
// resolves them (an exact version first, then the highest version matching
// a semantic-version range; no version is the latest stable one).
//
// Fetched charts are cached by the SHA-256 digest of the archive in the
// user cache directory; an entry whose content does not match its digest is
// refetched. A fetch with credentials always asks the repository (index or
// manifest) with the run's own credentials before a cached archive is used,
// so a run the repository refuses gets nothing from the cache. Repository and registry responses are untrusted: the index,
// the tag list, manifests and layers are size-bounded, chart URLs must be
// http or https, and cache paths are built from validated digests only.
// Credentials (a HelmRepository's secretRef, passed in as data; Docker and
// Helm registry configurations) go only to the host they are for, never
// over plain http except to a loopback address, and never appear in errors.
//
// It must not import cobra, pflag, cli-runtime or pkg/cluster (credentials
// and Secrets are passed in as data), and never writes to stdout or stderr.
package chartsource
