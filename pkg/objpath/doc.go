// Package objpath provides paths into unstructured Kubernetes objects
// (map[string]any / []any trees as decoded from JSON): their kubectl-style
// and JSON Pointer spellings, lookup, deletion and walking. It is shared by
// the ignore rules, the object comparison and the renderers; it imports
// nothing from the project.
package objpath
