package compare

import (
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
)

// Status is an object's drift status.
type Status string

// Statuses.
const (
	StatusUnchanged  Status = "unchanged"
	StatusModified   Status = "modified"
	StatusMissing    Status = "missing"
	StatusExtraneous Status = "extraneous"
	StatusSkipped    Status = "skipped"
	StatusError      Status = "error"
)

// Mode chooses how the engine computes what Git would change.
type Mode string

// Modes.
const (
	ModeServer Mode = "server"
	ModeLocal  Mode = "local"
	// ModeHybrid compares locally, then asks the server about every
	// object the local pass cannot decide exactly (see hybrid.go): the
	// report is server mode's.
	ModeHybrid Mode = "hybrid"
)

// ObjectReport is the result for one object.
type ObjectReport struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// Source is where Git declares the object ("file.yaml:12"), empty for
	// extraneous objects.
	Source string
	Status Status
	// Reason explains an error, a skip or a missing namespace.
	Reason string
	// NoPrune, for an extraneous object, says why the operator's own sync
	// never deletes it although it shows it out of sync (Argo CD's
	// Prune=false, on the object or the application): remediation leaves
	// it too. "" when the operator's sync with pruning deletes it.
	NoPrune string
	// PruneConfirm, for an extraneous object, says why the operator's
	// sync deletes it only once a person confirms the pruning (Argo CD's
	// Prune=confirm, on the object or the application): remediation
	// deletes it only when told the user confirmed. "" when not needed.
	PruneConfirm string
	// FieldManager is the manager Git's state is applied with (detected or
	// given).
	FieldManager string
	Changes      []objdiff.Change
	// OperatorLabels and OperatorAnnotations are the GitOps operator's
	// tracking metadata found on the live object that Git does not declare
	// (see WithOperatorMetadata): compared, and dry-run applied, as Git's.
	OperatorLabels, OperatorAnnotations map[string]string
	// Live and After are the live object and what it would be after applying
	// Git, normalised (no status, managedFields, resourceVersion…), with
	// ignored fields removed and secrets masked: for rendering a diff. Live is
	// nil when missing, After nil when extraneous.
	Live  map[string]any
	After map[string]any
}

// Drifted reports whether the object counts as drift.
func (o *ObjectReport) Drifted() bool {
	switch o.Status {
	case StatusModified, StatusMissing, StatusExtraneous:
		return true
	}
	return false
}

// Report is the result of one comparison.
type Report struct {
	Mode     Mode
	Objects  []ObjectReport
	Warnings []string
	// ServerCompared is, in hybrid mode, how many objects the local pass
	// could not decide and the server compared.
	ServerCompared int
	// ServerReasons counts them by the reason the local pass could not
	// decide (hybrid.go).
	ServerReasons map[string]int

	// secrets masked the report; SweepSecrets uses them for other text.
	secrets *secrets
}

// SweepSecrets replaces in text every secret value the comparison saw (the
// Git and live Secret data, stored and decoded) with "***", as the report
// itself was masked, so that a message quoting one of its objects (a server
// or admission policy refusing a change) hides what the report hides. Text
// is returned unchanged when secrets are shown. Safe for concurrent use.
func (r *Report) SweepSecrets(text string) string {
	if r == nil || r.secrets == nil {
		return text
	}
	return r.secrets.sweep(text)
}

// Counts returns the number of objects per status.
func (r *Report) Counts() map[Status]int {
	out := map[Status]int{}
	for i := range r.Objects {
		out[r.Objects[i].Status]++
	}
	return out
}

// Drifted reports whether any object drifted.
func (r *Report) Drifted() bool {
	for i := range r.Objects {
		if r.Objects[i].Drifted() {
			return true
		}
	}
	return false
}

// Errored reports whether any object could not be compared.
func (r *Report) Errored() bool {
	return r.Counts()[StatusError] > 0
}
