// Package repo provides the `kubectl gitops repo` plugin: init (write a GitOps
// repository skeleton for Argo CD or Flux), lint (check a repository) and
// graph (its app-of-apps / Kustomization tree): cobra commands, options
// (Complete, Validate, Run) and rendering. Engines live in pkg/repolayout,
// pkg/repolint and pkg/repograph; this package must not import sibling
// plugin packages.
package repo
