package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultRetries is a sensible PushSpec.Retries.
const DefaultRetries = 10

// PushSpec says where CommitAndPush starts from and pushes to.
type PushSpec struct {
	// Remote is the configured remote to fetch from and push to.
	Remote string
	// Base is the remote branch the change starts from.
	Base string
	// Target is the remote branch pushed to; empty means Base. When it
	// differs from Base (a pull-request branch), it must not exist on the
	// remote unless UpdateExisting is set.
	Target string
	// UpdateExisting allows pushing to an existing Target other than Base:
	// the change then starts from Target's tip and fast-forwards it.
	UpdateExisting bool
	// Retries is how many times a push rejected because the remote branch
	// moved is retried (after a fetch and a rebase); 0 means one attempt.
	Retries int
}

// Result describes a landed change.
type Result struct {
	// Commit is the hash of the pushed commit.
	Commit string
	// Parent is the remote branch tip the commit was pushed onto (for a
	// created branch, the Base tip it starts from).
	Parent string
	// Remote and Target name the updated remote branch.
	Remote, Target string
	// Created is set when the push created Target.
	Created bool
	// Attempts is the number of pushes made (1 when none was rejected).
	Attempts int
}

// PushInterruptedError: the context ended while git push ran. The remote
// may have received and accepted the commit anyway (a push is not undone
// by stopping the client), or not. errors.Is finds the context's error.
type PushInterruptedError struct {
	Remote, Target string
	// Commit is the commit being pushed ("" when it could not be read).
	Commit string
	Err    error
}

func (e *PushInterruptedError) Error() string {
	return fmt.Sprintf("interrupted while pushing %s to %s/%s (it may have landed): %v", e.Commit, e.Remote, e.Target, e.Err)
}

// Unwrap returns the git error, which wraps the context's.
func (e *PushInterruptedError) Unwrap() error { return e.Err }

// cleanupTimeout bounds the removal of the temporary worktree, which runs
// even when the caller's context has ended.
const cleanupTimeout = time.Minute

// CommitAndPush makes one commit on top of a remote branch without touching
// the user's checkout, and pushes it:
//
//  1. fetch Base (and Target) from Remote into refs/remotes/<Remote>/...;
//  2. check the tip out, detached, in a new worktree in a private temporary
//     directory (mode 0700, outside the user's working tree and .git);
//  3. run edits, which changes files through the Worktree's methods;
//  4. `git add` the changed paths and `git commit -F -` with message, under
//     the user's configuration: identity, signing and hooks apply;
//  5. `git push <Remote> HEAD:refs/heads/<Target>`, never forced; when the
//     remote branch moved meanwhile, fetch it, rebase the commit onto it and
//     push again, with a small random backoff, up to Retries times.
//
// The worktree is removed in every case (error, cancelled context, panic in
// edits); no local branch is created. A rebase that conflicts is aborted and
// reported as a *ConflictError (ErrConflict) naming the paths; edits that
// change nothing, or a change already on the remote, give ErrNoChanges; an
// existing Target that may not be updated gives ErrTargetExists; a push
// still rejected after the retries, or refused by the remote (a hook), gives
// a *RejectedError (ErrRejected); a context ending while git push runs gives
// a *PushInterruptedError (the push may have landed).
func (r *Repo) CommitAndPush(ctx context.Context, spec PushSpec, message string, edits func(wt *Worktree) error) (res Result, err error) {
	if spec.Target == "" {
		spec.Target = spec.Base
	}
	res = Result{Remote: spec.Remote, Target: spec.Target}
	if err := r.validatePush(ctx, spec, message, edits); err != nil {
		return res, err
	}
	wrap := func(err error) error {
		return fmt.Errorf("committing to %s/%s: %w", spec.Remote, spec.Target, err)
	}

	baseTip, ok, err := r.fetchBranch(ctx, spec.Remote, spec.Base)
	if err != nil {
		return res, wrap(err)
	}
	if !ok {
		return res, wrap(fmt.Errorf("branch %s: %w on remote %s", spec.Base, ErrNotFound, spec.Remote))
	}
	start, targetExists := baseTip, true
	if spec.Target != spec.Base {
		tip, exists, err := r.fetchBranch(ctx, spec.Remote, spec.Target)
		if err != nil {
			return res, wrap(err)
		}
		if exists && !spec.UpdateExisting {
			return res, wrap(fmt.Errorf("branch %s on remote %s: %w", spec.Target, spec.Remote, ErrTargetExists))
		}
		if exists {
			start = tip
		}
		targetExists = exists
	}

	wt, cleanup, err := r.addWorktree(ctx, start)
	if err != nil {
		return res, wrap(err)
	}
	defer func() {
		if cerr := cleanup(); cerr != nil {
			if err == nil {
				err = fmt.Errorf("pushed %s to %s/%s, but %w", res.Commit, spec.Remote, spec.Target, cerr)
			} else {
				err = errors.Join(err, cerr)
			}
		}
	}()
	wto := cmdOpts{dir: wt.dir}

	if err := edits(wt); err != nil {
		return res, wrap(err)
	}
	if len(wt.changed) == 0 {
		return res, wrap(ErrNoChanges)
	}
	pathspecs := strings.Join(wt.changed, "\x00") + "\x00"
	if _, err := git(ctx, cmdOpts{dir: wt.dir, stdin: strings.NewReader(pathspecs), env: []string{"GIT_LITERAL_PATHSPECS=1"}},
		"add", "--all", "--pathspec-from-file=-", "--pathspec-file-nul"); err != nil {
		return res, wrap(fmt.Errorf("staging changes: %w", err))
	}
	if _, err := git(ctx, wto, "diff", "--cached", "--quiet"); err == nil {
		return res, wrap(ErrNoChanges)
	} else if exitCode(err) != 1 {
		return res, wrap(fmt.Errorf("checking staged changes: %w", err))
	}
	if _, err := git(ctx, cmdOpts{dir: wt.dir, stdin: strings.NewReader(message)}, "commit", "--quiet", "-F", "-"); err != nil {
		return res, wrap(fmt.Errorf("committing: %w", err))
	}

	parent := start
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		reason, retryable, perr := r.push(ctx, wt.dir, spec.Remote, spec.Target)
		if perr == nil {
			break
		}
		if ctx.Err() != nil {
			// The remote may have taken the commit before git was stopped.
			head, _ := git(context.WithoutCancel(ctx), wto, "rev-parse", "--verify", "HEAD")
			if !errors.Is(perr, ctx.Err()) {
				perr = errors.Join(perr, ctx.Err())
			}
			return res, &PushInterruptedError{Remote: spec.Remote, Target: spec.Target, Commit: strings.TrimSpace(string(head)), Err: perr}
		}
		if reason == "" {
			return res, wrap(fmt.Errorf("pushing: %w", perr))
		}
		if !retryable || attempt > spec.Retries {
			return res, &RejectedError{Remote: spec.Remote, Target: spec.Target, Reason: reason, Attempts: attempt, Err: perr}
		}
		if err := backoff(ctx, attempt); err != nil {
			return res, wrap(err)
		}
		tip, exists, err := r.fetchBranch(ctx, spec.Remote, spec.Target)
		if err != nil {
			return res, wrap(err)
		}
		if !exists {
			if spec.Target == spec.Base {
				return res, wrap(fmt.Errorf("branch %s: %w on remote %s (deleted meanwhile)", spec.Base, ErrNotFound, spec.Remote))
			}
			continue // still absent: the rejection was a lock race; push again
		}
		if !targetExists && !spec.UpdateExisting {
			return res, wrap(fmt.Errorf("branch %s on remote %s (created meanwhile): %w", spec.Target, spec.Remote, ErrTargetExists))
		}
		targetExists = true
		if err := rebase(ctx, wt.dir, tip, "refs/remotes/"+spec.Remote+"/"+spec.Target); err != nil {
			return res, wrap(err)
		}
		parent = tip
	}
	head, err := git(ctx, wto, "rev-parse", "--verify", "HEAD")
	if err != nil {
		return res, wrap(err)
	}
	res.Commit = strings.TrimSpace(string(head))
	res.Parent = parent
	res.Created = !targetExists
	r.advanceTracking(ctx, spec.Remote, spec.Target, res.Commit)
	return res, nil
}

func (r *Repo) validatePush(ctx context.Context, spec PushSpec, message string, edits func(*Worktree) error) error {
	if edits == nil {
		return errors.New("committing: no edit function")
	}
	if strings.TrimSpace(message) == "" {
		return errors.New("committing: empty commit message")
	}
	if spec.Retries < 0 {
		return fmt.Errorf("committing: negative retries %d", spec.Retries)
	}
	if err := r.RequireRemote(ctx, spec.Remote); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	for _, b := range []string{spec.Base, spec.Target} {
		if err := checkArg("branch", b); err != nil {
			return fmt.Errorf("committing: %w", err)
		}
		if _, err := r.git(ctx, "check-ref-format", "refs/heads/"+b); err != nil {
			return fmt.Errorf("committing: invalid branch name %q", b)
		}
	}
	return nil
}

// fetchBranch fetches one remote branch into its remote-tracking ref and
// returns its tip, or exists=false when the remote has no such branch.
func (r *Repo) fetchBranch(ctx context.Context, remote, branch string) (tip string, exists bool, err error) {
	tracking := "refs/remotes/" + remote + "/" + branch
	if err := r.Fetch(ctx, remote, "+refs/heads/"+branch+":"+tracking); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", false, nil
		}
		return "", false, err
	}
	tip, err = r.RevParse(ctx, tracking)
	if err != nil {
		return "", false, err
	}
	return tip, true, nil
}

// addWorktree checks commit out, detached, in a new private temporary
// directory. The temporary directory is outside the user's working tree and
// .git: a crash leaves nothing that `git status`, editors or file watchers
// of the repository see, the operating system reclaims it, and `git worktree
// prune` (run by git gc) drops the stale entry. cleanup removes it all.
func (r *Repo) addWorktree(ctx context.Context, commit string) (wt *Worktree, cleanup func() error, err error) {
	parent, err := os.MkdirTemp("", "kubectl-gitops-")
	if err != nil {
		return nil, nil, fmt.Errorf("creating temporary worktree: %w", err)
	}
	if real, err := filepath.EvalSymlinks(parent); err == nil {
		parent = real
	}
	// A unique base name gives the worktree a unique administrative
	// directory (.git/worktrees/<name>).
	dir := filepath.Join(parent, filepath.Base(parent))
	cleanup = func() error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		r.mu.Lock()
		defer r.mu.Unlock()
		_, rerr := r.git(cctx, "worktree", "remove", "--force", dir)
		if err := os.RemoveAll(parent); err != nil {
			return fmt.Errorf("removing temporary worktree %s: %w", dir, err)
		}
		if rerr != nil {
			// The directory is gone now; drop git's record of it.
			if _, err := r.git(cctx, "worktree", "prune"); err != nil {
				return fmt.Errorf("removing temporary worktree %s: %w", dir, err)
			}
		}
		return nil
	}
	r.mu.Lock()
	_, err = r.git(ctx, "worktree", "add", "--detach", "--quiet", dir, commit)
	r.mu.Unlock()
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("creating temporary worktree: %w", err), cleanup())
	}
	return &Worktree{dir: dir, base: commit}, cleanup, nil
}

// push pushes HEAD of the worktree. On failure, reason is the reason of a
// rejection ("" when the push failed otherwise) and retryable tells whether
// the remote branch moved (a fetch and rebase may help).
func (r *Repo) push(ctx context.Context, dir, remote, target string) (reason string, retryable bool, err error) {
	// The push updates the remote-tracking ref too, so it must not run
	// while this process fetches.
	// It runs in the main working tree, pushing the worktree's commit by
	// hash: a remote given as a relative path is relative to the main
	// working tree, not to the temporary one.
	head, err := git(ctx, cmdOpts{dir: dir}, "rev-parse", "--verify", "HEAD^{commit}")
	if err != nil {
		return "", false, err
	}
	r.mu.Lock()
	out, err := git(ctx, cmdOpts{dir: r.root}, "push", "--porcelain", remote, strings.TrimSpace(string(head))+":refs/heads/"+target)
	r.mu.Unlock()
	if err == nil {
		return "", false, nil
	}
	if ctx.Err() != nil {
		return "", false, err
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) < 3 || f[0] != "!" {
			continue
		}
		reason = strings.TrimSpace(f[2])
		if i := strings.Index(reason, "("); i >= 0 {
			reason = strings.TrimSuffix(reason[i+1:], ")")
		}
		reason = RedactURL(reason)
		return reason, isRaceReason(reason), err
	}
	return "", false, err
}

// isRaceReason tells whether a push was rejected because the remote branch
// changed between the fetch and the push.
func isRaceReason(reason string) bool {
	for _, s := range []string{"fetch first", "non-fast-forward", "cannot lock ref", "failed to lock",
		"failed to update ref", "incorrect old value", "stale info", "reference already exists"} {
		if strings.Contains(reason, s) {
			return true
		}
	}
	return false
}

// backoff sleeps a random time, growing with attempt up to 3.2 s, or until
// ctx ends. (With a 1.6 s ceiling, 20 promotions racing on one branch of a
// loaded 2-core machine ran out of retries: TestConcurrentPromotions.)
func backoff(ctx context.Context, attempt int) error {
	limit := 50 * time.Millisecond << min(attempt-1, 6)
	t := time.NewTimer(rand.N(limit) + 10*time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// rebase rebases the worktree's commit onto commit (named ontoName in
// messages). A conflict aborts the rebase and gives a *ConflictError; a
// commit whose change is already there gives ErrNoChanges.
func rebase(ctx context.Context, dir, onto, ontoName string) error {
	o := cmdOpts{dir: dir}
	if _, err := git(ctx, o, "rebase", "--quiet", onto); err != nil {
		var paths []string
		if ctx.Err() == nil {
			if out, derr := git(ctx, o, "diff", "--name-only", "-z", "--diff-filter=U"); derr == nil {
				for p := range strings.SplitSeq(string(out), "\x00") {
					if p != "" {
						paths = append(paths, p)
					}
				}
			}
		}
		// Abort even when the context ended, so that the worktree is left
		// in a state `git worktree remove` accepts.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		_, _ = git(actx, o, "rebase", "--abort")
		cancel()
		if len(paths) > 0 {
			return &ConflictError{Onto: ontoName, Paths: paths}
		}
		return fmt.Errorf("rebasing onto %s: %w", ontoName, err)
	}
	head, err := git(ctx, o, "rev-parse", "--verify", "HEAD")
	if err != nil {
		return fmt.Errorf("rebasing onto %s: %w", ontoName, err)
	}
	if strings.TrimSpace(string(head)) == onto {
		return fmt.Errorf("rebasing onto %s: the change is already there: %w", ontoName, ErrNoChanges)
	}
	return nil
}

// advanceTracking moves refs/remotes/<remote>/<branch> to commit after a
// push, unless it is already there or has moved past it (git push does this
// itself when the remote's fetch refspec covers the branch). It is best
// effort: a failure only leaves the ref for the next fetch to update.
func (r *Repo) advanceTracking(ctx context.Context, remote, branch, commit string) {
	ref := "refs/remotes/" + remote + "/" + branch
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, err := r.RevParse(ctx, ref)
	switch {
	case err == nil && cur == commit:
		return
	case err == nil:
		if ok, err := r.IsAncestor(ctx, cur, commit); err != nil || !ok {
			return
		}
		_, _ = r.git(ctx, "update-ref", "-m", "push", ref, commit, cur)
	case errors.Is(err, ErrUnknownRevision):
		_, _ = r.git(ctx, "update-ref", "-m", "push", ref, commit, "")
	}
}
