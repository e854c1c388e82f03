// Package helmrender provides the objects a Helm release renders, as Flux's
// helm-controller renders them: the chart rendered as the Helm SDK's
// install action renders it in client-only dry-run (as `helm template`
// does), through the SDK's packages beneath the action (engine,
// chartutil, releaseutil), with the cluster's Kubernetes version and API
// versions given as data, hooks left
// out (helm-controller does not track them as release objects), the CRDs of
// crds/ when the release's policy installs them, the kustomize
// post-renderers (patches, images), spec.commonMetadata, helm-controller's
// origin labels and the metadata Helm's install writes on every object
// (app.kubernetes.io/managed-by, meta.helm.sh/release-name|namespace).
// ComposeValues merges valuesFrom data and values as helm-controller does,
// and says which values came from Secrets.
//
// It never fetches a chart (the caller gives a path) and never reaches the
// API server: it must not import pkg/cluster, client-go, cobra, pflag,
// cli-runtime or the plugins, and never writes to stdout or stderr. It
// must not import helm.sh/helm/v4/pkg/action or pkg/kube: they link
// kubectl, cli-utils, controller-runtime and oras, which drift would
// initialise on every start (docs/architecture.md).
package helmrender
