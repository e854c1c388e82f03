// Package chartlint provides `helm lint` of a chart directory as data:
// the Helm SDK's own chart linter (helm.sh/helm/v4/pkg/chart/v2/lint, what
// `helm lint` runs) with given values and namespace — Chart.yaml metadata,
// values.yaml and values.schema.json, templates rendered and parsed,
// dependencies, crds/ — each message with its severity, the file of the
// chart it is about, the line where Helm's message gives one, and the
// values path of a schema violation. ArgoValues composes the values an
// Argo CD Application's helm source renders a chart of its repository
// with, as Argo CD's repo-server passes them to helm template
// (pkg/gitopsapi resolves the options, pkg/helmrender merges them).
//
// It reads only the chart and the checkout it is given, never reaches the
// API server and runs no command: it must not import pkg/cluster,
// client-go, cobra, pflag, os/exec or the plugins, never writes to stdout
// or stderr, and must not import helm.sh/helm/v4/pkg/action or pkg/kube
// (they link kubectl, cli-utils and oras; docs/architecture.md).
package chartlint
