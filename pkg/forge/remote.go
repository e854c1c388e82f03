package forge

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
)

// Kind names a forge API.
type Kind string

// The forge APIs this package speaks. Forgejo speaks the Gitea API.
const (
	GitHub Kind = "github"
	GitLab Kind = "gitlab"
	Gitea  Kind = "gitea"
)

// ParseKind validates a forge type as written in configuration
// (case-insensitive); "forgejo" is an alias of "gitea".
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "github":
		return GitHub, nil
	case "gitlab":
		return GitLab, nil
	case "gitea", "forgejo":
		return Gitea, nil
	}
	return "", fmt.Errorf("unknown forge type %q (want github, gitlab, gitea or forgejo)", s)
}

// Repo is a repository on a forge.
type Repo struct {
	Kind    Kind
	APIBase string // REST API root, no trailing slash: https://api.github.com, https://gitlab.com/api/v4, http://host:3000/api/v1
	WebBase string // web root, no trailing slash: https://github.com
	Owner   string // user or organisation (GitLab: top-level group)
	Name    string // repository name (GitLab: may include subgroups, "sub/project")
}

// FullName is "owner/name" (GitLab: the project's full path).
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Config overrides what ParseRemote infers from a remote URL.
type Config struct {
	Kind  Kind   // github | gitlab | gitea; empty: inferred from the host name
	URL   string // web or API root of the forge; empty: derived from the remote URL
	Token string // not used by ParseRemote; carried for the caller's convenience
}

// remote is a parsed Git remote URL.
type remote struct {
	scheme string // http, https, ssh, git
	host   string // host name without port
	port   string // "" when absent
	path   string // without leading/trailing "/" and without ".git"
}

// ParseRemote works out the forge repository behind a Git remote URL:
// https://host/owner/name(.git), http://host:port/..., ssh://[user@]host[:port]/owner/name(.git),
// scp-like [user@]host:owner/name(.git), git://host/owner/name. Credentials in
// the URL are ignored and never appear in errors.
//
// github.com is GitHub and gitlab.com GitLab; for other hosts set
// override.Kind, or the kind is guessed from the host name (containing
// "gitlab", "gitea" or "forgejo"; codeberg.org is Forgejo). override.URL sets
// the forge's root (web or API URL) when it differs from the remote's host,
// e.g. GitHub Enterprise, a non-default port or a forge under a sub-path.
func ParseRemote(remoteURL string, override Config) (Repo, error) {
	rem, err := parseRemoteURL(remoteURL)
	if err != nil {
		return Repo{}, err
	}
	var base *url.URL
	if override.URL != "" {
		base, err = url.Parse(strings.TrimRight(strings.TrimSpace(override.URL), "/"))
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return Repo{}, fmt.Errorf("forge URL %q is not an http(s) URL", gitrepo.RedactURL(override.URL))
		}
		base.User = nil
		base.RawQuery, base.Fragment = "", ""
	}

	kind := override.Kind
	if kind != "" {
		if kind, err = ParseKind(string(kind)); err != nil {
			return Repo{}, err
		}
	} else {
		if base != nil {
			kind = guessKind(base.Hostname())
		}
		if kind == "" {
			kind = guessKind(rem.host)
		}
		if kind == "" {
			return Repo{}, fmt.Errorf("cannot tell which forge serves %s: set the forge type (github, gitlab or gitea)", rem.host)
		}
	}

	p := rem.path
	repo := Repo{Kind: kind}
	if base != nil {
		repo.WebBase, repo.APIBase = roots(kind, base)
		// A forge under a sub-path (https://example.com/gitlab) has it in
		// the remote's path too.
		if prefix := strings.Trim(webPath(repo.WebBase), "/"); prefix != "" {
			if rest, ok := strings.CutPrefix(p, prefix+"/"); ok {
				p = rest
			}
		}
	} else {
		web := &url.URL{Scheme: "https", Host: rem.host}
		if rem.scheme == "http" || rem.scheme == "https" {
			web.Scheme = rem.scheme
			if rem.port != "" {
				web.Host = rem.host + ":" + rem.port
			}
		}
		if kind == GitHub && isGitHubDotCom(rem.host) {
			web = &url.URL{Scheme: "https", Host: "github.com"}
		}
		repo.WebBase, repo.APIBase = roots(kind, web)
	}

	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return Repo{}, fmt.Errorf("remote %s: %q is not a repository path", gitrepo.RedactURL(remoteURL), p)
		}
	}
	switch {
	case len(segs) < 2:
		return Repo{}, fmt.Errorf("remote %s: %q is not an owner/name repository path", gitrepo.RedactURL(remoteURL), p)
	case len(segs) > 2 && kind != GitLab:
		return Repo{}, fmt.Errorf("remote %s: %q is not an owner/name repository path (only GitLab has subgroups)", gitrepo.RedactURL(remoteURL), p)
	}
	repo.Owner, repo.Name = segs[0], strings.Join(segs[1:], "/")
	return repo, nil
}

// parseRemoteURL splits URL-style and scp-like remotes.
func parseRemoteURL(raw string) (remote, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return remote{}, errors.New("empty remote URL")
	}
	var r remote
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return remote{}, fmt.Errorf("parsing remote URL %s: not a URL", gitrepo.RedactURL(raw))
		}
		switch u.Scheme {
		case "http", "https", "ssh", "git":
			r.scheme = u.Scheme
		case "git+ssh", "ssh+git":
			r.scheme = "ssh"
		default:
			return remote{}, fmt.Errorf("remote %s: %s URLs do not point at a forge", gitrepo.RedactURL(raw), u.Scheme)
		}
		r.host, r.port, r.path = u.Hostname(), u.Port(), u.Path
	} else {
		// scp-like: [user@]host:path, the colon before any slash.
		colon := strings.Index(s, ":")
		slash := strings.Index(s, "/")
		if colon <= 0 || (slash >= 0 && slash < colon) {
			return remote{}, fmt.Errorf("remote %s is a local path, not a forge URL", gitrepo.RedactURL(raw))
		}
		hostPart := s[:colon]
		if at := strings.LastIndex(hostPart, "@"); at >= 0 {
			hostPart = hostPart[at+1:]
		}
		r.scheme, r.host, r.path = "ssh", strings.Trim(hostPart, "[]"), s[colon+1:]
	}
	if r.host == "" {
		return remote{}, fmt.Errorf("remote %s has no host", gitrepo.RedactURL(raw))
	}
	r.host = strings.ToLower(r.host)
	p := strings.Trim(r.path, "/")
	p = strings.TrimSuffix(p, ".git")
	r.path = strings.TrimRight(p, "/")
	return r, nil
}

// guessKind recognises a forge from its host name, or returns "".
func guessKind(host string) Kind {
	host = strings.ToLower(host)
	switch {
	case isGitHubDotCom(host):
		return GitHub
	case host == "gitlab.com" || strings.Contains(host, "gitlab"):
		return GitLab
	case host == "codeberg.org" || strings.Contains(host, "gitea") || strings.Contains(host, "forgejo"):
		return Gitea
	}
	return ""
}

func isGitHubDotCom(host string) bool {
	switch host {
	case "github.com", "www.github.com", "ssh.github.com", "api.github.com":
		return true
	}
	return false
}

// apiSuffix is where each forge serves its REST API under the web root
// (GitHub Enterprise Server: /api/v3; github.com uses api.github.com).
var apiSuffix = map[Kind]string{GitHub: "/api/v3", GitLab: "/api/v4", Gitea: "/api/v1"}

// roots returns the web and API roots for a forge URL given as either.
func roots(kind Kind, u *url.URL) (web, api string) {
	s := strings.TrimRight(u.String(), "/")
	if kind == GitHub {
		h := u.Hostname()
		if h == "github.com" || h == "www.github.com" || h == "api.github.com" {
			return "https://github.com", "https://api.github.com"
		}
		// GitHub Enterprise Cloud with data residency: api.<sub>.ghe.com.
		if rest, ok := strings.CutPrefix(h, "api."); ok && strings.HasSuffix(h, ".ghe.com") {
			return "https://" + rest, "https://" + h
		}
	}
	if web, ok := strings.CutSuffix(s, apiSuffix[kind]); ok {
		return web, s
	}
	return s, s + apiSuffix[kind]
}

func webPath(web string) string {
	u, err := url.Parse(web)
	if err != nil {
		return ""
	}
	return u.Path
}

// CompareURL is the web page where a person can open the pull (merge)
// request from head into base by hand.
func CompareURL(repo Repo, base, head string) string {
	web := repo.WebBase + "/" + escapePath(repo.FullName())
	switch repo.Kind {
	case GitLab:
		return web + "/-/merge_requests/new?merge_request[source_branch]=" + escapeQuery(head) +
			"&merge_request[target_branch]=" + escapeQuery(base)
	case GitHub:
		return web + "/compare/" + escapePath(base) + "..." + escapePath(head) + "?expand=1"
	default:
		return web + "/compare/" + escapePath(base) + "..." + escapePath(head)
	}
}

// escapePath escapes each "/"-separated segment of a path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// escapeQuery escapes a query value, keeping "/" readable.
func escapeQuery(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "%2F", "/")
}
