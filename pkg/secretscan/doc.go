// Package secretscan provides a scanner for plaintext secrets in a GitOps
// repository: Kubernetes Secrets that are not SOPS-encrypted, kustomize
// secretGenerator literals and the env files and files a secretGenerator
// reads (unless SOPS-encrypted), secret-like keys with plaintext values in
// Helm values (values files, any YAML that is not a Kubernetes object, a
// HelmRelease's spec.values, an Argo CD Application's helm values, a
// kustomization's helmCharts valuesInline), and high-confidence credentials
// (PEM private keys, AWS access key ids, GitHub and Slack tokens) in YAML and
// JSON values.
//
// It reads files through io/fs (a Scanner's FS is the repository root, and
// references are never followed out of it) and returns findings as data,
// with file and line; a finding names the key that holds a secret, never the
// value. It must not import cobra or pflag, run git, call os.Exit or write to
// stdout: listing files with git, reading the git index and rendering
// findings are the seal plugin's job.
package secretscan
