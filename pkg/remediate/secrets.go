package remediate

import "github.com/kubectl-gitops/kubectl-gitops/pkg/compare"

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
	if err != nil {
		if msg := rep.SweepSecrets(err.Error()); msg != err.Error() {
			err = &sweptError{msg: msg, err: err}
		}
	}
	return outcomes, err
}

// sweptError is an error whose message had secret values masked; the
// original stays reachable for errors.Is and errors.As (a cancelled
// context, an API status), not for printing.
type sweptError struct {
	msg string
	err error
}

func (e *sweptError) Error() string { return e.msg }
func (e *sweptError) Unwrap() error { return e.err }
