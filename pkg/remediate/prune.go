package remediate

import (
	"context"
	"errors"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
)

// Deleter is the cluster extraneous objects are deleted from.
type Deleter interface {
	cluster.Mapper
	cluster.Deleter
}

// Prune deletes every extraneous object of rep (in the cluster, tracked by
// the source, not in Git), with background propagation; nothing else. An
// object already gone is skipped. Namespaces and CRDs go last, after what
// they hold. An object Git declares with an error is never deleted, even if
// reported extraneous, nor is one the comparison found the operator's sync
// never deletes (its NoPrune: Argo CD's Prune=false on an object Argo CD
// tracks; skipped, as Argo CD's sync skips it), nor one it deletes only
// once a person confirms (its PruneConfirm: Argo CD's Prune=confirm)
// unless opts.PruneConfirmed. Per-object problems are Outcomes; the error
// is for the run as a whole, with the outcomes so far. Messages and the error have the secret
// values of the comparison masked, as the report has.
func Prune(ctx context.Context, d Deleter, rep *compare.Report, opts Options) ([]Outcome, error) {
	out, err := prune(ctx, d, rep, opts)
	return sweepSecrets(rep, out, err)
}

func prune(ctx context.Context, d Deleter, rep *compare.Report, opts Options) ([]Outcome, error) {
	var first, last []int
	for i := range rep.Objects {
		r := &rep.Objects[i]
		if r.Status != compare.StatusExtraneous {
			continue
		}
		if isFoundation(r) {
			last = append(last, i)
		} else {
			first = append(first, i)
		}
	}
	var out []Outcome
	inError := errored(rep)
	for _, i := range append(first, last...) {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r := &rep.Objects[i]
		o := newOutcome(r)
		// The comparison decided which operator's rule applies to r
		// (Argo CD's sync options only to what Argo CD tracks).
		if r.NoPrune != "" {
			o.Action, o.Message = ActionSkipped, "not deleted: "+r.NoPrune+", as Argo CD's sync leaves it"
			out = append(out, *o)
			continue
		}
		if r.PruneConfirm != "" && !opts.PruneConfirmed {
			o.Action, o.Message = ActionSkipped, "not deleted: "+r.PruneConfirm+": Argo CD deletes it only once a person confirms the pruning, and this run was not confirmed"
			out = append(out, *o)
			continue
		}
		if reason, bad := inError[identity(r)]; bad {
			o.Action, o.Message = ActionFailed, "not deleted: Git declares it, in error: "+reason
			out = append(out, *o)
			continue
		}
		gv, err := schema.ParseGroupVersion(r.APIVersion)
		if err != nil {
			o.Action, o.Message = ActionFailed, err.Error()
			out = append(out, *o)
			continue
		}
		m, err := d.Mapping(ctx, gv.WithKind(r.Kind))
		if err != nil {
			if !errors.Is(err, cluster.ErrKindNotServed) {
				return out, err
			}
			o.Action, o.Message = ActionFailed, err.Error()
			out = append(out, *o)
			continue
		}
		switch err := d.Delete(ctx, m, r.Namespace, r.Name); {
		case err == nil:
			o.Action = ActionDeleted
		case cluster.IsNotFound(err):
			o.Action, o.Message = ActionSkipped, "already deleted"
		case fatal(err):
			return out, err
		default:
			o.Action, o.Message = ActionFailed, "deleting: "+strings.TrimSpace(err.Error())
		}
		out = append(out, *o)
	}
	return out, nil
}
