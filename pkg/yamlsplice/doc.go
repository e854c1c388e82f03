// Package yamlsplice provides the one way the suite edits YAML in place:
// a line index that counts lines and columns as go.yaml.in/yaml/v3 reports
// node positions (CRLF, CR, LF, NEL, LS and PS breaks; a leading BOM not
// counted), splices of replacement text into the original bytes (so
// comments, quoting, key order and the other documents stay byte for byte;
// overlapping splices are refused, new line breaks are written as the
// file's), and the one rule for what may be written unquoted: only what
// both YAML 1.1 readers (kubectl, Flux and Argo CD through sigs.k8s.io/yaml)
// and YAML 1.2 readers (yaml.v3, kustomize) read back as the same string.
//
// Used by pkg/versionedit (promote's version edits) and pkg/remediate
// (drift --adopt). It works on bytes and imports nothing from the project,
// no cluster client, cobra or pflag.
package yamlsplice
