// Package sopsfile provides the SOPS file format for YAML with age recipients:
// encrypt, decrypt, updatekeys (re-wrap the data key) and rotate (new data
// key), creation rules from .sops.yaml, and a MAC computed exactly as sops
// computes it, so that files written here decrypt with `sops -d` and files
// written by sops decrypt here.
//
// It implements the format with the standard library, filippo.io/age and
// go.yaml.in/yaml/v3; it must not import sops, cobra, pflag or os.Exit, and it
// never writes to stdout. Only age key entries are used; other master keys
// (PGP, KMS, Vault…) found in a file are carried over untouched when the data
// key stays the same, and refused with an error when it would change.
package sopsfile
