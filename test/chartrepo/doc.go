// Package chartrepo serves real Helm charts for tests and benchmarks as
// Flux's sources find them: charts shipped inside Go modules (ModuleChart)
// packaged with Helm's own code (Package, as helm package does), an HTTP
// chart repository whose index.yaml Helm's SDK generates (ServeHTTP), and
// an OCI registry started in-process (go-containerregistry's
// pkg/registry) that charts are pushed to with Helm's own push code
// (ServeOCI, Push).
//
// It is test support: only _test.go files and the programs under hack/
// and test/cmd import it. It must not import cobra, the plugins or pkg/
// engines (it serves what they fetch), and writes nothing to stdout.
package chartrepo
