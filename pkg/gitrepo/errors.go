package gitrepo

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, to be tested with errors.Is. The typed errors below match
// their sentinel with errors.Is and carry the details for errors.As.
var (
	// ErrNotRepo: the directory is not inside a Git working tree.
	ErrNotRepo = errors.New("not a git repository")
	// ErrDetachedHead: HEAD is not on a branch.
	ErrDetachedHead = errors.New("HEAD is detached (not on a branch)")
	// ErrDirty: the working tree or index has changes (see *DirtyError).
	ErrDirty = errors.New("working tree is not clean")
	// ErrNoRemote: the remote is not configured (see *NoRemoteError).
	ErrNoRemote = errors.New("no such remote")
	// ErrWrongBranch: the checkout is on another branch (see *WrongBranchError).
	ErrWrongBranch = errors.New("wrong branch checked out")
	// ErrUnknownRevision: a revision does not name a commit.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrNotFound: a path at a revision, a remote branch or a
	// commit touching a path does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a rebase stopped on conflicts (see *ConflictError).
	ErrConflict = errors.New("rebase conflict")
	// ErrRejected: the remote still rejected the push after every retry, or
	// rejected it for a reason a rebase cannot fix (see *RejectedError).
	ErrRejected = errors.New("push rejected")
	// ErrTargetExists: the pushed-to branch already exists and updating it
	// was not allowed.
	ErrTargetExists = errors.New("target branch already exists")
	// ErrNoChanges: the edits changed nothing, or the same change is already
	// on the remote branch; nothing was pushed.
	ErrNoChanges = errors.New("no changes to commit")
	// ErrDiverged: the local branch is not an ancestor of the remote one, so
	// it cannot be fast-forwarded.
	ErrDiverged = errors.New("local branch has diverged from the remote branch")
)

// maxListed bounds the paths listed in an error message.
const maxListed = 10

func listPaths(paths []string) string {
	if len(paths) <= maxListed {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s (and %d more)", strings.Join(paths[:maxListed], ", "), len(paths)-maxListed)
}

// DirtyError reports uncommitted changes: modified, staged, deleted,
// conflicted or untracked (not ignored) paths.
type DirtyError struct {
	// Root is the working tree.
	Root string
	// Paths are the changed paths, relative to Root, slash-separated.
	Paths []string
}

func (e *DirtyError) Error() string {
	return fmt.Sprintf("working tree %s has uncommitted changes (commit or stash them first): %s", e.Root, listPaths(e.Paths))
}

// Is reports whether target is ErrDirty.
func (e *DirtyError) Is(target error) bool { return target == ErrDirty }

// NoRemoteError reports a remote that is not configured.
type NoRemoteError struct {
	Name string
	// Known are the configured remotes.
	Known []string
}

func (e *NoRemoteError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no remote named %q (the repository has no remotes)", e.Name)
	}
	return fmt.Sprintf("no remote named %q (remotes: %s)", e.Name, strings.Join(e.Known, ", "))
}

// Is reports whether target is ErrNoRemote.
func (e *NoRemoteError) Is(target error) bool { return target == ErrNoRemote }

// WrongBranchError reports that another branch than the wanted one is
// checked out.
type WrongBranchError struct {
	Want, Got string
}

func (e *WrongBranchError) Error() string {
	return fmt.Sprintf("on branch %q, want %q (git switch %s)", e.Got, e.Want, e.Want)
}

// Is reports whether target is ErrWrongBranch.
func (e *WrongBranchError) Is(target error) bool { return target == ErrWrongBranch }

// ConflictError reports a rebase that stopped on conflicts; the rebase was
// aborted.
type ConflictError struct {
	// Onto is the ref the commit was rebased onto.
	Onto string
	// Paths are the conflicting paths.
	Paths []string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("rebasing onto %s: conflicting changes in %s", e.Onto, listPaths(e.Paths))
}

// Is reports whether target is ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// RejectedError reports a push the remote refused.
type RejectedError struct {
	Remote, Target string
	// Reason is git's reason, such as "fetch first" or "pre-receive hook declined".
	Reason string
	// Attempts is the number of pushes tried.
	Attempts int
	// Err is the git error of the last push.
	Err error
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("pushing to branch %s of %s: rejected (%s) after %d attempt(s): %v", e.Target, e.Remote, e.Reason, e.Attempts, e.Err)
}

// Is reports whether target is ErrRejected.
func (e *RejectedError) Is(target error) bool { return target == ErrRejected }

// Unwrap returns the git error.
func (e *RejectedError) Unwrap() error { return e.Err }
