// Package objdiff provides the field-level comparison of a desired object
// with a live one, and attribution of live fields to the managers that own
// them in metadata.managedFields (who changed what, with which operation and
// subresource, and when).
//
// Objects are plain unstructured content (map[string]any). The package is
// pure: it must not import the cluster, cobra, or the plugins.
package objdiff
