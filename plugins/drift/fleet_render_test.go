package drift

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/fleet"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// TestFleetRenderGolden renders a matrix of two sources on three clusters,
// one of them unreachable, in every format.
func TestFleetRenderGolden(t *testing.T) {
	t.Parallel()
	rep := func(statuses ...compare.Status) *compare.Report {
		r := &compare.Report{}
		for i, s := range statuses {
			r.Objects = append(r.Objects, compare.ObjectReport{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: []string{"web", "api", "db"}[i], Status: s})
		}
		return r
	}
	results := map[string][]fleet.SourceResult{
		"prod-eu": {
			{Source: "argocd/argocd/shop", Report: rep(compare.StatusModified, compare.StatusMissing, compare.StatusUnchanged)},
			{Source: "flux/flux-system/infra", Report: rep(compare.StatusUnchanged)},
		},
		"prod-us": {
			{Source: "argocd/argocd/shop", Report: rep(compare.StatusUnchanged, compare.StatusUnchanged, compare.StatusExtraneous)},
			{Source: "flux/flux-system/infra", Skip: "kustomize.toolkit.fluxcd.io/reconcile: disabled"},
		},
	}
	m := fleet.Run(t.Context(), []string{"prod-eu", "prod-us", "staging"}, fleet.Options{}, func(_ context.Context, cl string) ([]fleet.SourceResult, error) {
		if r, ok := results[cl]; ok {
			return r, nil
		}
		return nil, errors.New(`Get "https://10.0.0.9:6443/api": dial tcp 10.0.0.9:6443: connect: connection refused`)
	})
	for _, format := range []string{"text", "markdown", "json"} {
		var b bytes.Buffer
		if err := renderFleet(&b, m, format); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "fleet."+format+".golden"), b.Bytes())
	}
}
