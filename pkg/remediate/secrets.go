package remediate

import (
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// sweepSecrets masks, in every message that leaves the package, the secret
// values rep's comparison saw (see compare.Report.SweepSecrets): a server or
// an admission policy refusing a change may quote the object, Git's values
// and the live ones, which the report itself shows as "***".
func sweepSecrets(rep *compare.Report, outcomes []Outcome, err error) ([]Outcome, error) {
	for i := range outcomes {
		o := &outcomes[i]
		o.Message = rep.SweepSecrets(o.Message)
		for j := range o.Removed {
			o.Removed[j] = rep.SweepSecrets(o.Removed[j])
		}
	}
	// The original stays reachable for errors.Is and errors.As (a
	// cancelled context, an API status), not for printing.
	return outcomes, redact.MaskError(err, rep.SweepSecrets)
}
