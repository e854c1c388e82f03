// Package controlplane provides a real, throwaway Kubernetes control plane
// for tests and the demo: etcd, kube-apiserver and (optionally)
// kube-controller-manager, built from the Go module proxy by
// hack/control-plane.sh and started here on free 127.0.0.1 ports with RBAC,
// an admin kubeconfig and the pinned Argo CD, Flux and Sealed Secrets CRDs.
//
// Children are started in their own process group and, on Linux, with
// Pdeathsig, so a test process killed outright takes them with it; temp
// directories left by a killed process are swept by the next Start.
//
// Use RunTests from TestMain and ForTest in tests. It is test support: pkg/
// and plugins/ must not import it.
package controlplane
