package gitrepo

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrCredentialsInURL is what CheckNoCredentials wraps.
var ErrCredentialsInURL = errors.New("credentials do not belong in the URL")

// CheckNoCredentials returns an error wrapping ErrCredentialsInURL when the
// repository URL s carries a secret in its user information: a password
// (https://user:token@host/…, ssh://git:pw@host/…, user:pw@host:path) or,
// outside SSH, a user name alone (https://token@host/…, which is how forges
// take tokens). An SSH user name alone (ssh://git@host/…, git@host:org/repo)
// is not a secret. Nor may its query hold a value RedactURL would mask
// (?token=, access_token, private_token, X-Amz-Signature, …: any but ref,
// version and a few like them). A URL that is written into files (a
// repository skeleton, a tenant's AppProject or GitRepository) must not
// hold one: the credentials belong in the operator's Secret.
//
// The error shows s redacted (RedactURL).
func CheckNoCredentials(s string) error {
	scheme, rest, hasScheme := strings.Cut(s, "://")
	if !hasScheme {
		// scp-like [user@]host:path: a secret if the user part holds one.
		user, _, ok := strings.Cut(s, "@")
		if ok && !strings.Contains(user, "/") && strings.Contains(user, ":") {
			return fmt.Errorf("%q: %w", s[strings.LastIndex(s, "@")+1:], ErrCredentialsInURL)
		}
		return nil
	}
	if redactQuery(s) != s {
		return fmt.Errorf("%q: %w (a token in the query)", RedactURL(s), ErrCredentialsInURL)
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if !strings.Contains(authority, "@") {
		return nil
	}
	redacted := fmt.Errorf("%q: %w", RedactURL(s), ErrCredentialsInURL)
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		// Not a URL Go reads (a bad escape in the password, say): refuse
		// rather than guess.
		return redacted
	}
	if _, ok := u.User.Password(); ok {
		return redacted
	}
	switch strings.ToLower(scheme) {
	case "ssh", "git+ssh", "ssh+git":
		return nil
	}
	return redacted
}

// CheckOverrides checks repository overrides (--repo-override): each is
// ORIGINAL=LOCAL with neither side empty.
func CheckOverrides(overrides []string) error {
	for _, ov := range overrides {
		if from, to, ok := strings.Cut(ov, "="); !ok || from == "" || to == "" {
			return fmt.Errorf("invalid --repo-override %q: want ORIGINAL_URL=LOCAL_URL", RedactURL(ov))
		}
	}
	return nil
}

// OverrideURL applies repository overrides (--repo-override): ORIG=LOCAL
// replaces a repository URL equal to ORIG (ignoring a trailing "/" or
// ".git"), or, when ORIG ends with "/", every URL starting with it.
// Credentials in either URL do not matter: reports show URLs without
// them, and that is what users copy.
func OverrideURL(overrides []string, url string) string {
	plain := RedactURL(url)
	for _, ov := range overrides {
		from, to, _ := strings.Cut(ov, "=")
		plainFrom := RedactURL(from)
		if strings.HasSuffix(from, "/") {
			if strings.HasPrefix(url, from) {
				return to + strings.TrimPrefix(url, from)
			}
			if strings.HasPrefix(plain, plainFrom) {
				return to + strings.TrimPrefix(plain, plainFrom)
			}
		}
		if TrimRepoURL(plainFrom) == TrimRepoURL(plain) {
			return to
		}
	}
	return url
}

// TrimRepoURL is a repository URL without a trailing "/" or ".git".
func TrimRepoURL(u string) string {
	return strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
}
