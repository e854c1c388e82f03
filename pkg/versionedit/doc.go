// Package versionedit provides reading and in-place editing of an
// application's version in the YAML files of a GitOps repository: a kustomize
// images entry, a path in a Helm values file, a Flux HelmRelease chart
// version, the ref of a Flux OCIRepository or the version of a HelmChart (the
// sources a HelmRelease's chartRef names), an Argo CD Application target
// revision and Flux image-automation setter markers. It also parses and
// orders versions (semver tags, other tags, OCI digests) and tells semver
// ranges, which it never writes nor overwrites, from versions.
//
// Edits never re-marshal a file. The scalar holding the version is located
// with the go.yaml.in/yaml/v3 node API and only its bytes are replaced, in the
// quoting style it was written in, so comments, key order, indentation, blank
// lines, document separators and line endings stay as they were. The one
// structural edit is a kustomize images entry gaining or losing its newTag,
// digest or newName line.
//
// The package works on bytes and imports nothing from the project but
// pkg/imageref (the image reference rule it shares with pkg/health) and
// pkg/yamlsplice (the in-place YAML editor it shares with drift --adopt:
// positions, splices, what may be written unquoted); callers read and write
// the files.
package versionedit
