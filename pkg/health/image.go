package health

import (
	"regexp"
	"strings"
)

// imageRef is a parsed container image reference.
type imageRef struct {
	raw    string
	repo   string // as written, e.g. "ghcr.io/acme/web", "nginx"
	tag    string
	digest string // "sha256:<hex>"
}

// parseImage splits "repo[:tag][@digest]"; a registry port
// ("localhost:5000/web") is not a tag.
func parseImage(s string) imageRef {
	ref := imageRef{raw: s}
	if i := strings.Index(s, "@"); i >= 0 {
		ref.digest, s = s[i+1:], s[:i]
	}
	if c := strings.LastIndex(s, ":"); c > strings.LastIndex(s, "/") {
		ref.tag, s = s[c+1:], s[:c]
	}
	ref.repo = s
	return ref
}

// version returns the tag or digest to report, preferring the form of want.
func (r imageRef) version(want string) string {
	if (isDigest(want) || r.tag == "") && r.digest != "" {
		return r.digest
	}
	return r.tag
}

// matches reports whether the image is repo (when set) at version (when set).
func (r imageRef) matches(repo, version string) bool {
	if repo != "" && !sameRepo(r.repo, repo) {
		return false
	}
	switch {
	case version == "":
		return true
	case isDigest(version):
		return strings.EqualFold(r.digest, version)
	default:
		return r.tag == version
	}
}

var digestRE = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$`)

// isDigest reports whether v is a content digest such as "sha256:<hex>".
func isDigest(v string) bool { return digestRE.MatchString(v) }

// sameRepo compares repositories as a container runtime resolves them:
// "nginx", "library/nginx" and "docker.io/library/nginx" are the same.
func sameRepo(a, b string) bool { return canonicalRepo(a) == canonicalRepo(b) }

func canonicalRepo(repo string) string {
	first, rest, found := strings.Cut(repo, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		first, rest = "docker.io", repo
	}
	if first == "index.docker.io" {
		first = "docker.io"
	}
	if first == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	return strings.ToLower(first) + "/" + rest
}
