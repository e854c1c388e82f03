// Package tenancy provides the multi-tenancy engine behind `kubectl gitops
// tenant`: the tenant spec (built from flags or read from a declarative
// tenants.yaml, validated with errors that name the file, line and field),
// the hardened objects generated for a tenant (Namespaces with Pod Security
// labels, owner and reconciler RBAC, ResourceQuota, LimitRange,
// NetworkPolicies, an Argo CD AppProject, Flux sources), their rendering into
// one directory per tenant with deterministic bytes, and the isolation check
// that runs SubjectAccessReviews and reads guard objects through injected
// interfaces.
//
// It is pure: no cobra, no pflag, no os.Exit, no standard output, no client
// construction: of pkg/cluster it uses only the kind-not-served error its
// Getter returns. It must not import the plugins.
package tenancy
