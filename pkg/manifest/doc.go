// Package manifest provides the desired Kubernetes objects read from local
// manifests the way `kubectl apply/diff -f` and `-k` read them: files,
// directories (optionally recursive) and stdin holding multi-document YAML,
// JSON or JSON streams, with List kinds flattened into their items, or the
// output of a kustomize build. Every object carries its Source (file, line,
// document) so that a report can point at the line to edit, and every bad
// manifest is a ParseError naming its file and line.
//
// It must not import cobra, pflag or anything that talks to the cluster
// (client-go, pkg/cluster): it reads local files and data and returns results
// as data. It never prints.
//
// YAML values are decoded as kubectl -f decodes them (sigs.k8s.io/yaml, a
// YAML 1.1 parser, then JSON), not with yaml.v3's YAML 1.2 rules: unquoted
// yes/no/on/off/y/n are booleans, 0644 is octal, 2.0 is int64(2). The top of
// yamlvalue.go lists the rules. Kustomize output is read the same way, as
// kubectl -k reads it (kustomize itself quotes such strings).
package manifest
