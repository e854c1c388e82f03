// Package gitrepo provides Git operations for the GitOps plugins by running
// the real git command line: opening a repository, preflight checks on the
// user's checkout (typed errors such as ErrDirty or ErrDetachedHead), reading
// files and history (with commit trailers) at any revision, and a
// transaction that edits files in a temporary worktree, commits them with
// the user's configuration (identity, signing, hooks) and pushes without
// ever forcing, rebasing and retrying when the remote moved meanwhile.
//
// The user's working tree, index, HEAD and local branches are never changed,
// except by FastForward, which only fast-forwards a clean checkout. Only
// remote-tracking refs (refs/remotes/<remote>/...) are updated by fetches and
// pushes.
//
// Every git process runs with GIT_TERMINAL_PROMPT=0 and LC_ALL=C, is stopped
// (interrupt, then kill) when its context ends, and fails with a *GitError
// whose message holds the command and the first lines of its stderr, with the
// user information of any URL removed.
//
// Git 2.29 or later is needed (fetch --no-write-fetch-head).
//
// It must not import cobra or pflag, nor write to stdout or stderr.
package gitrepo
