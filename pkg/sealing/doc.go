// Package sealing provides the Sealed Secrets format (bitnami.com/v1alpha1
// SealedSecret): seal a Secret for a controller's public certificate in the
// strict, namespace-wide or cluster-wide scope, seal raw values, merge keys
// into an existing SealedSecret, unseal with the controller's private keys
// (PEM or its key Secret backup), re-encrypt offline to a new certificate,
// and load and check certificates (file, URL, or the controller through the
// API server's service proxy).
//
// The format is implemented with the standard library (RSA-OAEP SHA-256 and
// AES-256-GCM), byte-compatible with kubeseal and the sealed-secrets
// controller; it must not import sealed-secrets, cobra or pflag, nor write to
// stdout. It builds no client: FetchCertificate reads through its
// ControllerClient interface (a GET and the service proxy, which both
// pkg/cluster's and pkg/cluster/lite's clients provide), so it imports no
// k8s.io/client-go, nor pkg/cluster (whose discovery would link client-go's
// scheme of every built-in kind into seal).
package sealing
