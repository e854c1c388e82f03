// Package repograph provides the structure of a GitOps repository as data:
// every Kubernetes object found in its YAML files with file and line (Scan),
// every kustomization with its resources and images, and the graph of the
// operators' objects (Build): Argo CD Applications pointing at paths that
// hold more Applications (app of apps), and Flux Kustomizations with their
// paths and dependsOn (through an OCIRepository whose artifact
// Options.Artifacts says is pushed from one of its directories; other
// OCIRepositories are external, shown by URL without credentials). The
// graph renders as a text tree and as Graphviz DOT.
//
// A Helm chart an Application points at is rendered only through an
// injected Options.RenderChart (pkg/chartlint.GraphRenderer): repograph
// links no Helm SDK.
//
// It reads source files, not kustomize output: an object renamed by a
// namePrefix or a patch is shown as written. It must not import cobra,
// pflag, client-go or the plugins, call os.Exit or write to stdout.
package repograph
