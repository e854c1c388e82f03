package remediate

import (
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
)

// TestToPruneCountsWhatPruneDeletes: the question drift --prune asks ("Delete
// N extraneous objects?") counts only what Prune deletes: an extraneous object
// the operator keeps (NoPrune: Flux prune: false, Helm's keep, Argo CD's
// Prune=false) is left with its reason, so it is not in N; one marked Argo
// CD Prune=confirm is, and ToConfirm names it.
func TestToPruneCountsWhatPruneDeletes(t *testing.T) {
	obj := func(s compare.Status, noPrune, confirm string) compare.ObjectReport {
		return compare.ObjectReport{Status: s, NoPrune: noPrune, PruneConfirm: confirm}
	}
	for _, tc := range []struct {
		name             string
		objects          []compare.ObjectReport
		prune, toConfirm int
	}{
		{"none", nil, 0, 0},
		{"extraneous", []compare.ObjectReport{obj(compare.StatusExtraneous, "", "")}, 1, 0},
		{"kept by the operator", []compare.ObjectReport{obj(compare.StatusExtraneous, "Prune=false", ""), obj(compare.StatusExtraneous, "", "")}, 1, 0},
		{"only kept", []compare.ObjectReport{obj(compare.StatusExtraneous, "helm.sh/resource-policy: keep", "")}, 0, 0},
		{"Prune=confirm", []compare.ObjectReport{obj(compare.StatusExtraneous, "", "Prune=confirm"), obj(compare.StatusExtraneous, "", "")}, 2, 1},
		{"not extraneous", []compare.ObjectReport{obj(compare.StatusModified, "", ""), obj(compare.StatusUnchanged, "", "")}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &compare.Report{Objects: tc.objects}
			if got := ToPrune(rep); got != tc.prune {
				t.Errorf("ToPrune = %d, want %d", got, tc.prune)
			}
			if got := ToConfirm(rep); got != tc.toConfirm {
				t.Errorf("ToConfirm = %d, want %d", got, tc.toConfirm)
			}
		})
	}
}
