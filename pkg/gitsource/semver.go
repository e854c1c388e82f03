package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// ResolveSemver returns the tag of url with the highest version matching
// the semantic-version range (Masterminds syntax, as Flux's GitRepository
// spec.ref.semver: ">=1.0.0 <2.0.0", "~1.2", "1.x"…). Tags that are not
// versions are ignored; a leading "v" is allowed.
func ResolveSemver(ctx context.Context, url, constraint string) (string, error) {
	return ResolveSemverAuth(ctx, url, constraint, nil)
}

// ResolveSemverAuth is ResolveSemver listing the tags with auth's
// credentials (nil for none; see Auth).
func ResolveSemverAuth(ctx context.Context, url, constraint string, auth *Auth) (string, error) {
	safe := RedactURL(url)
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("resolving semver range %q: %w", constraint, err)
	}
	if strings.HasPrefix(url, "-") {
		return "", fmt.Errorf("listing tags: invalid repository URL %q", safe)
	}
	env, cleanup, err := auth.prepare(url, "")
	if err != nil {
		return "", fmt.Errorf("listing the tags of %s: %w", safe, err)
	}
	defer cleanup()
	g := &git{dir: os.TempDir(), env: env}
	out, err := g.run(ctx, "ls-remote", "--tags", "--refs", url)
	if err != nil {
		return "", fmt.Errorf("listing the tags of %s: %w", safe, auth.hostKeyError(url, err))
	}
	tag, err := pickSemver(out, c)
	if err != nil {
		return "", fmt.Errorf("resolving semver range %q in %s: %w", constraint, safe, err)
	}
	return tag, nil
}

// pickSemver picks, from `git ls-remote --tags --refs` output, the tag with
// the highest version the constraint allows.
func pickSemver(lsRemote string, c *semver.Constraints) (string, error) {
	var best *semver.Version
	var bestTag string
	for line := range strings.Lines(lsRemote) {
		_, ref, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok {
			continue
		}
		tag, ok := strings.CutPrefix(ref, "refs/tags/")
		if !ok {
			continue
		}
		v, err := semver.NewVersion(tag)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestTag = v, tag
		}
	}
	if best == nil {
		return "", errors.New("no tag matches")
	}
	return bestTag, nil
}
