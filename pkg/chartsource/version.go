package chartsource

import (
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// Version resolution, as source-controller's
// internal/helm/repository.ChartRepository.GetChartVersion and
// getLastMatchingVersionOrConstraint do it: an exact match of the string
// first; then, among the versions that parse as strict semantic versions
// (a leading "v" allowed, as fluxcd/pkg/version.ParseVersion), the highest
// one matching the constraint. An empty version or "*" means the latest
// stable version (Masterminds' "*" excludes prereleases; a range such as
// ">=1.0.0-alpha" includes them). Equal versions (differing only in build
// metadata) are ordered by the index's creation time.

// parseVersion accepts strict semantic versions with an optional leading v.
func parseVersion(s string) (*semver.Version, error) {
	if _, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v")); err != nil {
		return nil, err
	}
	return semver.NewVersion(s)
}

func constraintFor(ver string) (*semver.Constraints, error) {
	if ver == "" {
		ver = "*"
	}
	c, err := semver.NewConstraint(ver)
	if err != nil {
		return nil, fmt.Errorf("invalid version %q: %w", ver, err)
	}
	return c, nil
}

// isExactVersion says whether ver names one version (not a range): such a
// resolution can be remembered.
func isExactVersion(ver string) bool {
	_, err := parseVersion(ver)
	return err == nil
}

// pickIndexVersion resolves ver among an index's versions of a chart.
func pickIndexVersion(cvs repo.ChartVersions, name, ver string) (*repo.ChartVersion, error) {
	if len(cvs) == 0 {
		return nil, fmt.Errorf("chart %q: %w", name, repo.ErrNoChartName)
	}
	if ver != "" {
		for _, cv := range cvs {
			if cv != nil && cv.Metadata != nil && cv.Version == ver {
				return cv, nil
			}
		}
	}
	c, err := constraintFor(ver)
	if err != nil {
		return nil, err
	}
	type match struct {
		v  *semver.Version
		cv *repo.ChartVersion
	}
	var ms []match
	for _, cv := range cvs {
		if cv == nil || cv.Metadata == nil {
			continue
		}
		v, err := parseVersion(cv.Version)
		if err != nil || !c.Check(v) {
			continue
		}
		ms = append(ms, match{v, cv})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no %q chart with version matching %q", name, ver)
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if !ms[i].v.Equal(ms[j].v) {
			return ms[j].v.LessThan(ms[i].v)
		}
		return ms[j].cv.Created.Before(ms[i].cv.Created)
	})
	return ms[0].cv, nil
}

// pickTag resolves ver among an OCI repository's tags. Helm writes a
// version's "+" as "_" in a tag; the tag is returned as the registry has it.
func pickTag(tags []string, ver string) (string, error) {
	if ver != "" {
		for _, t := range tags {
			if t == ver || strings.ReplaceAll(t, "_", "+") == ver {
				return t, nil
			}
		}
	}
	c, err := constraintFor(ver)
	if err != nil {
		return "", err
	}
	var best *semver.Version
	bestTag := ""
	for _, t := range tags {
		v, err := parseVersion(strings.ReplaceAll(t, "_", "+"))
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestTag = v, t
		}
	}
	if best == nil {
		return "", fmt.Errorf("no tag matching version %q among %d tags", ver, len(tags))
	}
	return bestTag, nil
}
