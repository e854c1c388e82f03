// Package externalsecrets provides ExternalSecret generation: from a
// Secret's keys (never its values) it builds an external-secrets.io/v1
// ExternalSecret that makes External Secrets Operator create the same
// Secret from a secret store, so Git holds only a reference.
//
// It must not import cobra or pflag, nor write to stdout.
package externalsecrets
