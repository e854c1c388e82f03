package promoter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/versionedit"
)

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// prBranch names the branch of a pull-request promotion.
func prBranch(env string, steps []promotion.Step) string {
	parts := make([]string, 0, len(steps))
	for _, s := range steps {
		parts = append(parts, s.App+"-"+sanitizeRef(s.New))
	}
	return "promote/" + env + "/" + strings.Join(parts, "+")
}

func sanitizeRef(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}

// commit writes the steps in a temporary worktree, commits and pushes
// under the target's policy. A rebase conflict (another promotion edited
// the same lines meanwhile) redoes the edits on the new tip.
func (e *Engine) commit(ctx context.Context, out *Outcome, steps []promotion.Step, to *promotion.Environment) error {
	base := e.branchOf(to)
	spec := gitrepo.PushSpec{Remote: e.remote(), Base: base, Retries: e.Retries}
	if spec.Retries == 0 {
		spec.Retries = gitrepo.DefaultRetries
	}
	if to.Policy == promotion.PolicyPullRequest {
		spec.Target = prBranch(to.Name, steps)
	}
	edits := func(wt *gitrepo.Worktree) error {
		for _, s := range steps {
			for i, c := range s.Changes {
				loc := EditLocation(c.Location)
				err := wt.Apply(gitrepo.Change{Path: c.Path, Edit: func(old []byte) ([]byte, error) {
					if old == nil {
						return nil, fmt.Errorf("%s: no such file on %s", c.Path, base)
					}
					if i == 0 {
						// The plan (the old version, the downgrade check, the
						// commit message) was made on the tip fetched before
						// the gates: the branch may have moved since.
						if cur := versionOf(old, loc); cur != s.Old && cur != s.New {
							return nil, fmt.Errorf("%s: %s in %s is %s now, not %s as planned (another promotion landed meanwhile): %w",
								c.Path, s.App, to.Name, orNone(cur), s.Old, ErrChangedMeanwhile)
						}
					}
					b, _, err := versionedit.Set(old, loc, s.New)
					if err != nil {
						return nil, fmt.Errorf("%s: setting %s of %s to %s: %w", c.Path, c.Location, s.App, s.New, err)
					}
					return b, nil
				}})
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	e.logf("committing %s", out.Promotion.Subject())
	var res gitrepo.Result
	var err error
	for attempt := 1; ; attempt++ {
		res, err = e.Repo.CommitAndPush(ctx, spec, out.Promotion.Message(), edits)
		if errors.Is(err, gitrepo.ErrConflict) && attempt < 3 {
			e.logf("another change touched the same lines; redoing the edit on the new tip")
			continue
		}
		break
	}
	if err != nil && spec.Target != base && errors.Is(err, gitrepo.ErrTargetExists) {
		// A second run for the same version: the branch of the first one
		// is reused when it carries this very change.
		tip, same, serr := e.carries(ctx, spec.Target, base, steps)
		switch {
		case serr != nil:
			err = errors.Join(err, serr)
		case same:
			e.logf("%s already carries this promotion (%s): not pushing it again", spec.Target, short(tip))
			res, err = gitrepo.Result{Commit: tip, Remote: spec.Remote, Target: spec.Target}, nil
			out.AlreadyPushed = true
		default:
			err = fmt.Errorf("%w, but not as this promotion's pending change (it has other changes, or was merged already): delete it (git push %s --delete %s) once its pull request is closed, then run again", err, spec.Remote, spec.Target)
		}
	}
	if err != nil {
		return fmt.Errorf("promoting to %s: %w", to.Name, err)
	}
	out.Commit, out.Branch, out.Attempts = res.Commit, res.Target, res.Attempts
	if to.Policy == promotion.PolicyPullRequest {
		return e.openPullRequest(ctx, out, base)
	}
	cur, err := e.Repo.CurrentBranch(ctx)
	if err == nil && cur == base {
		moved, ffErr := e.Repo.FastForward(ctx, base, e.remote())
		if ffErr == nil {
			out.FastForwarded = moved
		} else {
			e.logf("note: your %s was not fast-forwarded: %v", base, ffErr)
		}
	}
	return nil
}

// carries reports whether the remote branch already holds every version
// the steps write (the tip, and true), by fetching it and redoing the edits
// on its files: no edit may change a byte. A branch already merged into
// base (left from an earlier promotion to the same version) does not.
func (e *Engine) carries(ctx context.Context, branch, base string, steps []promotion.Step) (string, bool, error) {
	ref := "refs/remotes/" + e.remote() + "/" + branch
	if err := e.Repo.Fetch(ctx, e.remote(), "+refs/heads/"+branch+":"+ref); err != nil {
		return "", false, err
	}
	tip, err := e.Repo.RevParse(ctx, ref)
	if err != nil {
		return "", false, err
	}
	merged, err := e.Repo.IsAncestor(ctx, tip, "refs/remotes/"+e.remote()+"/"+base)
	if err != nil || merged {
		return tip, false, err
	}
	for _, s := range steps {
		for _, c := range s.Changes {
			data, err := e.Repo.ShowFile(ctx, tip, c.Path)
			if errors.Is(err, gitrepo.ErrNotFound) {
				return tip, false, nil
			}
			if err != nil {
				return "", false, err
			}
			updated, _, err := versionedit.Set(data, EditLocation(c.Location), s.New)
			if err != nil || !bytes.Equal(updated, data) {
				return tip, false, nil
			}
		}
	}
	return tip, true, nil
}

// versionOf is the first version written at loc in data ("" when none).
func versionOf(data []byte, loc versionedit.Location) string {
	found, err := versionedit.Read(data, loc)
	if err != nil || len(found) == 0 {
		return ""
	}
	return found[0].Version
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
