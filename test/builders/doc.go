// Package builders builds the fixtures tests compare, apply and
// evaluate: Object with an identity and modifiers (Labels, Annotations,
// Set, Unset), and FromYAML / YAMLMap for objects written as YAML, decoded
// as kubectl decodes them; WriteTree writes a tree of files.
//
// It is test support: only _test.go files import it. It must not import
// cobra, the plugins or pkg/ engines (their tests import it), and writes
// nothing to stdout.
package builders
