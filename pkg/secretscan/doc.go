// Package secretscan provides a scanner for plaintext secrets in a GitOps
// repository: Kubernetes Secrets that are not SOPS-encrypted, kustomize
// secretGenerator literals, and high-confidence credentials (PEM private keys,
// AWS access key ids, GitHub and Slack tokens) in YAML and JSON values.
//
// It reads files through io/fs and returns findings as data, with file and
// line; a finding names the key that holds a secret, never the value. It must
// not import cobra or pflag, run git, call os.Exit or write to stdout: listing
// files with git and rendering findings are the seal plugin's job.
package secretscan
