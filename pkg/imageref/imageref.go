package imageref

import (
	"regexp"
	"strings"
)

// Ref is an image reference split into its parts, as written (no
// normalisation: "nginx" stays "nginx").
type Ref struct {
	// Name is the repository, with its registry host and port when
	// written: "localhost:5000/app", "ghcr.io/acme/web", "nginx".
	Name string
	// Tag is the part after a ":" that follows the last "/" of the name;
	// empty when there is none.
	Tag string
	// Digest is the part after the last "@"; empty when there is none. It
	// is not validated: see IsDigest.
	Digest string
}

// Parse splits "name[:tag][@digest]". The last "@" separates the digest; a
// ":" after the last "/" separates the tag, so a registry port
// ("localhost:5000/app") is not a tag. Parse never fails: it splits what is
// written, and callers decide what a part must look like.
func Parse(s string) Ref {
	var r Ref
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s, r.Digest = s[:i], s[i+1:]
	}
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		s, r.Tag = s[:i], s[i+1:]
	}
	r.Name = s
	return r
}

// digestRE is what a runtime accepts after "@" (go-digest's Validate):
// a registered algorithm and its lowercase hex encoding at full length.
var digestRE = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$`)

// IsDigest reports whether s is a content digest a container runtime
// accepts: "sha256:", "sha384:" or "sha512:" followed by the lowercase hex
// of that length. Uppercase hex, other algorithms and short digests are
// refused, as the runtime refuses them.
func IsDigest(s string) bool { return digestRE.MatchString(s) }
