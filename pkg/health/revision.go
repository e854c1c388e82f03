package health

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

var hexRE = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)

// isCommit reports whether s looks like a (possibly abbreviated) Git commit.
func isCommit(s string) bool { return hexRE.MatchString(s) }

// fluxRevisionSHA extracts the commit or digest from a Flux source revision:
// "main@sha1:<sha>", "v1.0@sha1:<sha>", "sha1:<sha>", "latest@sha256:<hex>",
// and the pre-v2.0 "main/<sha>". Anything else is returned unchanged.
func fluxRevisionSHA(rev string) string {
	s := rev
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	if algo, sum, ok := strings.Cut(s, ":"); ok && (algo == "sha1" || algo == "sha256") {
		return sum
	}
	if i := strings.LastIndex(s, "/"); i >= 0 && isCommit(s[i+1:]) {
		return s[i+1:]
	}
	return s
}

// sameCommit reports whether a and b name the same commit, one possibly
// abbreviated (at least 7 hex digits).
func sameCommit(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if !isCommit(a) || !isCommit(b) {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return strings.EqualFold(a, b[:len(a)])
}

// containsRevision reports whether applied contains want: equal commits, or,
// when applied looks like a commit and e.Contains is set, what it answers.
func containsRevision(ctx context.Context, e Expect, applied string) (bool, error) {
	want := e.Revision
	if sameCommit(applied, want) {
		return true, nil
	}
	if e.Contains == nil || !isCommit(applied) {
		return false, nil
	}
	ok, err := e.Contains(ctx, applied, want)
	if err != nil {
		return false, fmt.Errorf("checking whether %s contains %s: %w", short(applied), short(want), err)
	}
	return ok, nil
}

// short abbreviates a commit for messages.
func short(rev string) string {
	if isCommit(rev) && len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
