// Package ocisource provides the artifacts of Flux OCIRepository sources,
// pulled from an OCI registry and unpacked the way source-controller and
// kustomize-controller unpack them: Pull resolves spec.ref (digest, then
// semver with its semverFilter, then tag, "latest" by default) to Flux's
// revision "<tag>@sha256:<hex>", selects a layer (layerSelector mediaType,
// the first layer by default), and extracts it into a temporary directory —
// with source-controller's ignore rules (.sourceignore files, its default
// exclusions, spec.ignore) for operation "extract", as is for "copy".
//
// The registry is untrusted: manifest, layer and decompressed sizes and the
// number of tags listed are bounded; tar entries that leave the directory,
// symbolic links pointing out of it, hard links and devices are refused;
// every request ends with its context. Credentials (a docker config JSON,
// the user's docker config) are sent only to the registry they are for and
// never appear in errors.
//
// It must not import cobra, pflag, pkg/cluster or anything that talks to
// the API server, nor any other package of this project, and never writes
// to stdout or stderr.
package ocisource
