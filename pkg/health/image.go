package health

import (
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/imageref"
)

// imageRef is a parsed container image reference.
type imageRef struct {
	raw    string
	repo   string // as written, e.g. "ghcr.io/acme/web", "nginx"
	tag    string
	digest string // "sha256:<hex>"
}

// parseImage splits "repo[:tag][@digest]" by imageref's rule: the last "@"
// separates the digest, a registry port ("localhost:5000/web") is not a tag.
func parseImage(s string) imageRef {
	r := imageref.Parse(s)
	return imageRef{raw: s, repo: r.Name, tag: r.Tag, digest: r.Digest}
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

// isDigest reports whether v is a content digest a container runtime
// accepts, such as "sha256:<64 lowercase hex>" (imageref.IsDigest).
func isDigest(v string) bool { return imageref.IsDigest(v) }

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
