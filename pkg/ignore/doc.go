// Package ignore provides the rules that say which fields of which objects
// do not count as drift: the builtin ones, and those of a rule file written
// in Argo CD's or Flux's grammar. It matches rules to objects and resolves
// their JSON pointers and jq path expressions to concrete paths; deciding
// who owns a field (managedFieldsManagers, OwnedBy) is the caller's job.
//
// It imports objpath and redact (to recognise Secrets) from the project,
// and no cluster client: it works on unstructured objects only.
//
// # Rule files
//
// One YAML document (by convention .gitops/drift-ignore.yaml; the CLI
// decides) holding either or both grammars:
//
//	# Argo CD's ignoreDifferences grammar
//	ignoreDifferences:
//	- group: apps          # "" or absent: the core group; "*" and "?" are wildcards
//	  kind: Deployment     # required; "*" and "?" are wildcards
//	  name: web            # optional, exact
//	  namespace: prod      # optional, exact
//	  jsonPointers: [/spec/replicas]
//	  jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "istio-proxy")']
//	  managedFieldsManagers: [kube-controller-manager]
//	# Flux's spec.ignore grammar (HelmRelease drift detection, Kustomization)
//	ignore:
//	- paths: [/spec/replicas]       # required, JSON pointers
//	  target:                       # optional; absent: every object
//	    group: apps                 # group, version, kind, name, namespace:
//	    version: v1                 #   regular expressions anchored at both
//	    kind: Deployment            #   ends, ^(?:...)$, as in Flux; "" any
//	    name: "web-.*"
//	    namespace: "prod|staging"
//	    labelSelector: "app=web"    # label selector syntax (labels.Parse)
//	    annotationSelector: "team=a"
//
// An Argo CD entry must ignore something (jsonPointers, jqPathExpressions
// or managedFieldsManagers). Unknown or repeated keys, wrong types, bad
// regular expressions, selectors, JSON pointers and jq expressions that do
// not compile are errors naming file:line and the field. A file rule is
// named after its position, "<file>:<line>".
//
// # Paths
//
// JSON pointers follow RFC 6901 ("~1" is "/", "~0" is "~"); one that does
// not exist in an object resolves to nothing. A jq expression is evaluated
// as path(EXPR) with gojq, each evaluation bounded by DefaultJQTimeout (like
// Argo CD's ignore.normalizer.jq.timeout), by a step and an allocation
// budget, and by a compile-time check admitting only the part of jq that
// addresses fields (see jqguard.go). Strip deletes list items from the
// highest index down, so the indices of the others stay valid.
//
// # Builtin rules
//
//	name                           objects                                         fields
//	hpa-replicas                   apps Deployment, StatefulSet, ReplicaSet        /spec/replicas, only where kube-controller-manager
//	                                                                               owns it (an HPA writing through the scale subresource)
//	webhook-ca-bundle              admissionregistration.k8s.io Mutating- and      .webhooks[]?.clientConfig.caBundle (jq),
//	                               ValidatingWebhookConfiguration; apiextensions   /spec/conversion/webhook/clientConfig/caBundle,
//	                               .k8s.io CustomResourceDefinition;               /spec/caBundle (injected by cert-manager, istiod…)
//	                               apiregistration.k8s.io APIService
//	deployment-revision            apps Deployment, ReplicaSet                     annotation deployment.kubernetes.io/revision
//	last-applied                   every object                                    annotation kubectl.kubernetes.io/last-applied-configuration
//	namespace-name-label           Namespace                                       label kubernetes.io/metadata.name (set by the API server)
//	aggregated-cluster-role-rules  rbac.authorization.k8s.io ClusterRole with an   /rules (filled in by the aggregation controller)
//	                               aggregationRule
//	service-cluster-ip             Service                                         /spec/clusterIP, /spec/clusterIPs (allocated by the server)
//	argocd-refresh                 argoproj.io Application                         annotation argocd.argoproj.io/refresh
//	flux-reconcile-requested       every object                                    annotation reconcile.fluxcd.io/requestedAt
package ignore
