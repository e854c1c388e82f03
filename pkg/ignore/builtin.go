package ignore

import "github.com/itchyny/gojq"

// BuiltinSource is the Source of the builtin rules.
const BuiltinSource = "builtin"

// Builtin returns the builtin rules: fields that controllers, admission
// webhooks and the API server set, and that Git therefore never matches.
// They are listed in the package documentation. Every call returns new
// rules.
func Builtin() *Set {
	return builtinSet([]*Rule{
		{
			Name:         "hpa-replicas",
			Description:  "replicas set by a HorizontalPodAutoscaler (through the scale subresource, as kube-controller-manager)",
			Targets:      kinds("apps", "Deployment", "StatefulSet", "ReplicaSet"),
			JSONPointers: []string{"/spec/replicas"},
			OwnedBy:      []string{"kube-controller-manager"},
		},
		{
			Name:        "webhook-ca-bundle",
			Description: "CA bundles injected by cert-manager's cainjector, istiod and the like",
			Targets: append(append(
				kinds("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
				kinds("apiextensions.k8s.io", "CustomResourceDefinition")...),
				kinds("apiregistration.k8s.io", "APIService")...),
			JSONPointers:      []string{"/spec/conversion/webhook/clientConfig/caBundle", "/spec/caBundle"},
			JQPathExpressions: []string{".webhooks[]?.clientConfig.caBundle"},
		},
		{
			Name:         "deployment-revision",
			Description:  "the revision annotation the Deployment controller maintains",
			Targets:      kinds("apps", "Deployment", "ReplicaSet"),
			JSONPointers: []string{"/metadata/annotations/deployment.kubernetes.io~1revision"},
		},
		{
			Name:         "last-applied",
			Description:  "the annotation where client-side kubectl apply keeps the last applied configuration",
			Targets:      []Target{{}},
			JSONPointers: []string{"/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"},
		},
		{
			Name:         "namespace-name-label",
			Description:  "the kubernetes.io/metadata.name label the API server sets on every Namespace",
			Targets:      kinds("", "Namespace"),
			JSONPointers: []string{"/metadata/labels/kubernetes.io~1metadata.name"},
		},
		{
			Name:        "aggregated-cluster-role-rules",
			Description: "rules of an aggregated ClusterRole, which the aggregation controller fills in from the ClusterRoles its aggregationRule selects",
			Targets: []Target{{
				group:    exact("rbac.authorization.k8s.io"),
				kind:     exact("ClusterRole"),
				cond:     hasAggregationRule,
				condText: "has .aggregationRule",
			}},
			JSONPointers: []string{"/rules"},
		},
		{
			Name:         "service-cluster-ip",
			Description:  "cluster IPs the API server allocates to Services",
			Targets:      kinds("", "Service"),
			JSONPointers: []string{"/spec/clusterIP", "/spec/clusterIPs"},
		},
		{
			Name:         "argocd-refresh",
			Description:  "the annotation asking Argo CD to refresh an Application, removed by Argo CD once done",
			Targets:      kinds("argoproj.io", "Application"),
			JSONPointers: []string{"/metadata/annotations/argocd.argoproj.io~1refresh"},
		},
		{
			Name:         "flux-reconcile-requested",
			Description:  "the annotation `flux reconcile` sets to request a reconciliation",
			Targets:      []Target{{}},
			JSONPointers: []string{"/metadata/annotations/reconcile.fluxcd.io~1requestedAt"},
		},
	})
}

// builtinSet fills in what every builtin rule shares, its source and its
// compiled jq, and returns the rules as a set.
func builtinSet(rules []*Rule) *Set {
	for _, r := range rules {
		r.Source = BuiltinSource
		r.jq = make([]*gojq.Code, len(r.JQPathExpressions))
		for i, expr := range r.JQPathExpressions {
			c, err := compileJQ(expr)
			if err != nil {
				panic("ignore: builtin rule " + r.Name + ": " + err.Error())
			}
			r.jq[i] = c
		}
	}
	return &Set{rules: rules}
}

// kinds returns one target per kind of the group.
func kinds(group string, ks ...string) []Target {
	ts := make([]Target, len(ks))
	for i, k := range ks {
		ts[i] = Target{group: exact(group), kind: exact(k)}
	}
	return ts
}

func hasAggregationRule(obj map[string]any) bool {
	ar, ok := obj["aggregationRule"].(map[string]any)
	return ok && ar != nil
}
