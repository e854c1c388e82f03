// Package yamlpos is the one way the suite reads a YAML configuration file
// of its own (a promotion pipeline, tenants.yaml, drift ignore rules) with
// positions: Load decodes exactly one document into a yaml.Node tree
// (refusing syntax errors at their line, a second document at its
// line:column, and aliases that expand beyond go.yaml.in/yaml/v3's own
// limits or contain themselves), and a Walker checks the tree strictly as
// it fills the caller's Go structs: mappings (unknown, repeated and
// non-string keys), lists and strings of the wrong kind, each mistake an
// *Error at file:line:column and a field path such as
// "environments[2].policy". Every mistake is collected, not just the first.
//
// Walker.Decode fills a struct by its json field names in one call (string
// kinds, []string, map[string]string, nested structs), reporting the
// position of every key and list item for the caller's later checks;
// Mapping, List and String are the steps for parsers that check values as
// they go. Callers keep their own wording where their messages are pinned
// (Words).
// pkg/yamlsplice is its counterpart for editing YAML in place.
//
// It imports nothing from the project and no cluster client, cobra or
// pflag: only the standard library and go.yaml.in/yaml/v3.
package yamlpos
