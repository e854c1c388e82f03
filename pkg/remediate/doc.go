// Package remediate provides what to do about drift once a comparison
// (pkg/compare) has found it: Fix applies Git's state to the drifted objects
// with server-side apply, Prune deletes extraneous objects, and Adopt writes
// the live values of drifted fields back into the Git files instead, editing
// only those fields' lines.
//
// Fix applies Git's object as the field manager the report used for the
// object (the GitOps agent's), forcing conflicts only when asked. Fields
// another manager added, which server-side apply keeps whatever Git says,
// are removed with a JSON patch guarded by "test" operations, so a fix never
// removes a field that changed since it was compared; the apply and the
// removal are both dry-run before either is written, so a refused fix
// leaves the object as it was. Objects the report lists in error are never
// written. Every message leaving the package has the comparison's secret
// values masked (compare.Report.SweepSecrets).
//
// It receives the cluster through pkg/cluster's interfaces and returns
// results as data. --adopt edits files in place through pkg/yamlsplice, as
// promote's version edits do. It must not import cobra or the plugins, nor
// print.
package remediate
