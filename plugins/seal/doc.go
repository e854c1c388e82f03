// Package seal provides the `kubectl gitops seal` plugin: encrypt Secrets
// for Git as Sealed Secrets or SOPS (age) files, generate ExternalSecrets,
// and decrypt, unseal, update keys, rotate and re-encrypt them. Its cobra
// commands, options (Complete, Validate, Run) and rendering live here; the
// formats live in pkg/sealing, pkg/sopsfile and pkg/externalsecrets. It
// must not import sibling plugin packages.
package seal
