// Package lite is the part of the cluster seam (pkg/cluster) that needs no
// discovery: the suite's client policy (Config), and a client that GETs and
// LISTs resources whose mapping the caller knows, reads through a
// Service's proxy and asks the server's version. pkg/cluster builds its
// clients on it; binaries whose start-up cost matters (seal, called once
// per Secret from scripts) use it alone, so that they do not link
// client-go's discovery, typed clientset and their scheme of every
// built-in kind (its package initialisation was a fifth of a seal call).
//
// It must not import k8s.io/client-go/discovery, k8s.io/client-go/kubernetes
// (nor its scheme), k8s.io/client-go/restmapper, k8s.io/cli-runtime, cobra,
// or any other package of the project.
package lite
