package versionedit

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/imageref"
)

// Version is a version string as understood by promotion: an image or chart
// tag, an OCI digest, or both as "tag@digest".
type Version struct {
	// Raw is the string as given.
	Raw string
	// Tag is the tag part; empty for a bare digest.
	Tag string
	// Digest is the "sha256:…" part; empty when there is none.
	Digest string
	// Semver is the parsed Tag when it is semver-ish ("1.4.2", "v1.4",
	// "2.0.0-rc.1"); nil otherwise.
	Semver *semver.Version
}

// imageTagRE is the OCI distribution grammar of a tag.
var imageTagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// IsDigest reports whether s is an OCI digest such as "sha256:<64 hex>"
// (imageref.IsDigest).
func IsDigest(s string) bool { return imageref.IsDigest(s) }

// ParseVersion splits s into tag and digest and parses the tag as semver
// when it can. It never fails: a string that is neither semver nor a digest
// is a plain tag.
func ParseVersion(s string) Version {
	v := Version{Raw: s, Tag: s}
	if IsDigest(s) {
		v.Tag, v.Digest = "", s
	} else if i := strings.LastIndexByte(s, '@'); i >= 0 && IsDigest(s[i+1:]) {
		v.Tag, v.Digest = s[:i], s[i+1:]
	}
	if v.Tag != "" {
		if sv, err := semver.NewVersion(v.Tag); err == nil {
			v.Semver = sv
		}
	}
	return v
}

// IsRange reports whether s is a semver range (a constraint such as "6.x",
// ">=1.0.0-alpha", "~1.2", "^1.2.3", "1.2 - 1.4", "*") and not a single
// version: what a HelmRelease's spec.chart.spec.version, a HelmChart's
// spec.version or an OCIRepository's spec.ref.semver may hold, and what
// Helm and Flux resolve to the newest matching chart at reconcile time. A
// string that parses as a version ("1.4", "v2", "1.2.3-rc.1") is not a
// range; neither is one that is no constraint at all ("latest", a branch,
// a digest, a bare "x").
func IsRange(s string) bool {
	s = strings.TrimSpace(s)
	// A bare wildcard ("x") is a plausible tag; a range names a number or *.
	if s == "" || IsDigest(s) || !strings.ContainsAny(s, "0123456789*") {
		return false
	}
	if _, err := semver.NewVersion(s); err == nil {
		return false
	}
	_, err := semver.NewConstraint(s)
	return err == nil
}

// InRange reports whether version is a semver version that satisfies the
// range rng (false when either does not parse).
func InRange(version, rng string) bool {
	v, err := semver.NewVersion(version)
	if err != nil {
		return false
	}
	c, err := semver.NewConstraint(rng)
	return err == nil && c.Check(v)
}

// String returns Raw.
func (v Version) String() string { return v.Raw }

// joinVersion is the inverse of ParseVersion's split.
func joinVersion(tag, digest string) string {
	switch {
	case tag != "" && digest != "":
		return tag + "@" + digest
	case digest != "":
		return digest
	}
	return tag
}

// Compare orders two versions by semver precedence: cmp is -1, 0 or +1 as a
// is older than, as old as, or newer than b. comparable is false when either
// tag is not semver (a bare digest, "latest", a branch name) or when the
// tags have the same precedence but the digests differ; identical strings
// are always comparable and equal. Semver-equal spellings such as "v1.4" and
// "1.4.0" compare equal.
func Compare(a, b string) (cmp int, comparable bool) {
	if a == b {
		return 0, true
	}
	va, vb := ParseVersion(a), ParseVersion(b)
	if va.Semver == nil || vb.Semver == nil {
		return 0, false
	}
	c := va.Semver.Compare(vb.Semver)
	if c == 0 && va.Digest != vb.Digest {
		return 0, false
	}
	return c, true
}

// checkValue rejects strings that cannot be written as a one-line YAML
// scalar: empty, not UTF-8, control or line-break characters, or leading or
// trailing white space. Anything else is quoted as needed when written.
func checkValue(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	}
	for _, r := range s {
		if !printable(r) {
			return fmt.Errorf("%s %q contains a control or line-break character", what, s)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%s %q has leading or trailing white space", what, s)
	}
	return nil
}

// printable is YAML's printable set minus tab, the line breaks and the BOM.
func printable(r rune) bool {
	switch {
	case r == 0x2028 || r == 0x2029 || r == 0xfeff:
		return false
	case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// checkImageVersion additionally requires what goes into an image reference
// to be a valid tag, digest or tag@digest.
func checkImageVersion(v Version) error {
	if v.Tag != "" && !imageTagRE.MatchString(v.Tag) {
		return fmt.Errorf("version %q is not a valid image tag or digest", v.Raw)
	}
	if v.Tag == "" && v.Digest == "" {
		return errors.New("empty version")
	}
	return nil
}
