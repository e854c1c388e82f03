// Package sarif provides SARIF 2.1.0 logs (OASIS Static Analysis Results
// Interchange Format), as code-scanning services read them: one run of one
// tool, its rules with their help, and results at file and line regions.
// Results carry what the caller gives (a rule, a message, a location), so a
// caller that never puts a secret value in a message never writes one.
//
// It is pure: it must not import cobra, pflag, the cluster or the plugins,
// nor print (Write takes an io.Writer).
package sarif
