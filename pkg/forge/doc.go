// Package forge provides what promote and drift need from a Git forge's
// REST API — opening a pull (merge) request idempotently, reading a
// commit's statuses, and keeping one comment per pull request up to date
// (NewCommenter: the comment carrying a hidden <!-- marker --> first line
// is edited, else one is added; bodies over the forge's limit are cut with
// a note) — for GitHub, GitLab and Gitea/Forgejo, with net/http only (no
// forge SDKs). It also works out a forge repository from a Git remote URL
// (ParseRemote) and the web page for opening a pull request by hand
// (CompareURL) when there is no token.
//
// Authentication follows each forge's documentation: GitHub "Authorization:
// Bearer" with "Accept: application/vnd.github+json" and
// "X-GitHub-Api-Version: 2022-11-28"; GitLab "PRIVATE-TOKEN"; Gitea
// "Authorization: token". Tokens never appear in errors, and redirects to
// another host are refused so they never leave the forge. Errors start with
// the forge and the operation, and carry the forge's own message as an
// *APIError:
//
//	github: opening pull request acme/web promote/prod/web-1.2.3 → main: 422 Unprocessable Entity: Validation Failed: ...
//
// CheckTokenTarget says whether a token may be sent to a forge API set by a
// repository's file (not trusted like the user's shell): https (plain http
// only to a loopback address) on the remote's own host, unless the user
// allows more (Trust).
//
// Commit states are normalised to success, pending, failure or error:
// GitHub commit statuses and check runs (not completed → pending; neutral
// and skipped → success; cancelled and stale → error), GitLab commit
// statuses (skipped → success, canceled → error, created/running/manual/...
// → pending), Gitea combined status (skipped → success, warning → failure).
// Unknown states are errors.
//
// Testing: the GitHub and GitLab clients are tested against httptest
// servers implementing their documented REST contracts (methods, paths,
// headers, JSON fields, the already-exists and error answers), not against
// the real services. The Gitea client is tested against a real Gitea server
// (test/gitea).
//
// It must not import cobra, plugin packages or test support.
package forge
