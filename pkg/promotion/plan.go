package promotion

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/versionedit"
)

// Planning errors, for errors.Is. Each comes wrapped in a *PlanError that
// names the application and environment.
var (
	ErrUnknownEnv     = errors.New("unknown environment")
	ErrUnknownApp     = errors.New("unknown application")
	ErrNotUpstream    = errors.New("not a source of the target environment")
	ErrNoSource       = errors.New("no source environment")
	ErrNoVersion      = errors.New("no version")
	ErrInvalidVersion = errors.New("invalid version")
	ErrDowngrade      = errors.New("downgrade")
	ErrNoChange       = errors.New("nothing to change")
	// ErrRange: the source or the target holds a semver range ("6.x",
	// ">=1.0.0", "^1.2"), which is not a version to promote nor one to
	// replace.
	ErrRange = errors.New("semver range")
)

// PlanError is one reason a promotion cannot be planned.
type PlanError struct {
	// Err is one of the Err* values above.
	Err      error
	App, Env string
	Msg      string
}

func (e *PlanError) Error() string { return e.Msg }

// Unwrap returns Err.
func (e *PlanError) Unwrap() error { return e.Err }

func planErr(kind error, app, env, format string, args ...any) *PlanError {
	return &PlanError{Err: kind, App: app, Env: env, Msg: fmt.Sprintf(format, args...)}
}

// Versions is what Git holds: environment → application → version of
// record. A missing entry means the version could not be read there.
type Versions map[string]map[string]string

// Get is the version of app in env ("" when unknown).
func (v Versions) Get(env, app string) string { return v[env][app] }

// Origins says where each version of record was read: environment →
// application → "file:line:column" (relative to the branch root), for
// messages.
type Origins map[string]map[string]string

// at is " at file:line:column", or "" when unknown.
func (o Origins) at(env, app string) string {
	if w := o[env][app]; w != "" {
		return " at " + w
	}
	return ""
}

var versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+/@:-]{0,254}$`)

// ValidVersion accepts an image tag, a digest (sha256:…), a chart version
// or a Git revision: one word of letters, digits and . _ + / @ : -.
// A semver range such as 6.x is not a version.
func ValidVersion(v string) error {
	if versionedit.IsRange(v) {
		return fmt.Errorf("%w %q: a semver range, not a version (give one version, such as 1.4.2)", ErrInvalidVersion, v)
	}
	if !versionRE.MatchString(v) {
		return fmt.Errorf("%w %q: want a tag, digest or revision (letters, digits and . _ + / @ : -)", ErrInvalidVersion, v)
	}
	return nil
}

// Relation is how one version compares with another.
type Relation int

// Relations.
const (
	// Missing: one of the versions is unknown.
	Missing Relation = iota
	// Same: the very same string.
	Same
	// Newer: both are semantic versions and the first is greater.
	Newer
	// Older: both are semantic versions and the first is smaller.
	Older
	// Unordered: different, and not both semantic versions (a digest, a
	// branch, "latest"), or equal as versions but spelt apart (v1.2 and 1.2.0
	// are different tags).
	Unordered
)

func (r Relation) String() string {
	switch r {
	case Same:
		return "same"
	case Newer:
		return "newer"
	case Older:
		return "older"
	case Unordered:
		return "unordered"
	}
	return "missing"
}

// Compare says how version a relates to version b, comparing semantic
// versions (a leading v allowed) with Masterminds/semver.
func Compare(a, b string) Relation {
	switch {
	case a == "" || b == "":
		return Missing
	case a == b:
		return Same
	}
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	if errA != nil || errB != nil {
		return Unordered
	}
	switch va.Compare(vb) {
	case 1:
		return Newer
	case -1:
		return Older
	}
	return Unordered
}

// Status is one application in one environment.
type Status struct {
	App, Env string
	// Version is the version of record in Git ("" when unknown).
	Version string
	// Source is the environment Env promotes from ("" for the first).
	Source        string
	SourceVersion string
	// Relation is SourceVersion compared with Version.
	Relation Relation
	// Pending says the source holds a version the environment does not:
	// newer, or different and unordered (a digest). An older source version
	// is not pending.
	Pending bool
}

// Statuses are the rows application × environment, applications in the
// file's order and, within one, environments in promotion order.
func Statuses(p *Pipeline, current Versions) []Status {
	var rows []Status
	for _, a := range p.Applications {
		for _, e := range p.Environments {
			s := Status{App: a.Name, Env: e.Name, Version: current.Get(e.Name, a.Name), Source: e.From}
			if e.From != "" {
				s.SourceVersion = current.Get(e.From, a.Name)
				s.Relation = Compare(s.SourceVersion, s.Version)
				s.Pending = s.Relation == Newer || s.Relation == Unordered
			}
			rows = append(rows, s)
		}
	}
	return rows
}

// Request is what to promote.
type Request struct {
	// Apps are the applications to promote; none means every application
	// (skipping those without a version in the source or the target).
	Apps []string
	// To is the target environment.
	To string
	// From overrides the source: an environment upstream of To (to skip a
	// stage). "" is To's source in the pipeline.
	From string
	// Version is the version to promote; "" takes the source's version.
	Version string
	// AllowDowngrade permits a semantic version older than the target's.
	AllowDowngrade bool
	// Origins, when known, locate the versions in messages.
	Origins Origins
}

// Step is one application's promotion into one environment.
type Step struct {
	App string
	// From is the source environment ("" when the target is the first
	// environment and the version was given).
	From, To string
	// Old is the target's version of record, New the one promoted.
	Old, New string
	// SourceVersion is the source's version: it differs from New when the
	// version was given explicitly.
	SourceVersion string
	// Relation is New compared with Old: Newer, Older (an allowed
	// downgrade) or Unordered (cannot be ordered: worth a warning).
	Relation Relation
	// Changes are the places to write New, the version of record first.
	Changes []Change
}

// Change is one location to edit in the target environment.
type Change struct {
	// Branch is the environment's own branch ("" for the pipeline's branch).
	Branch string
	// Path is the file relative to the root of that branch.
	Path     string
	Location Location
}

// PlanPromotion resolves a request against the pipeline and the versions in
// Git: the source environment, the version for each application, and the
// files to change. It refuses unknown names, a source that is not upstream
// of the target, downgrades (unless allowed) and, when no application would
// change, returns an error wrapping ErrNoChange. Applications already at the
// version are left out of the steps. A semver range (versionedit.IsRange) in
// the source is never promoted as if it were a version, nor is a range in
// the target replaced: both are ErrRange errors naming where the range is
// written and what to do. All problems are reported together.
func PlanPromotion(p *Pipeline, current Versions, req Request) ([]Step, error) {
	wrap := func(errs ...error) error {
		return fmt.Errorf("planning promotion to %s: %w", req.To, errors.Join(errs...))
	}
	to, ok := p.Env(req.To)
	if !ok {
		return nil, wrap(planErr(ErrUnknownEnv, "", req.To, "unknown environment %q%s", req.To, suggest(req.To, p.Order())))
	}
	from, err := source(p, to, req)
	if err != nil {
		return nil, wrap(err)
	}
	if req.Version != "" {
		if err := ValidVersion(req.Version); err != nil {
			return nil, wrap(planErr(ErrInvalidVersion, "", to.Name, "%s", err))
		}
	}

	all := len(req.Apps) == 0
	names := req.Apps
	if all {
		names = p.AppNames()
	}
	var errs []error
	var steps []Step
	var unchanged []string
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		app, ok := p.App(name)
		if !ok {
			errs = append(errs, planErr(ErrUnknownApp, name, "", "unknown application %q%s", name, suggest(name, p.AppNames())))
			continue
		}
		step := Step{App: name, To: to.Name, Old: current.Get(to.Name, name), New: req.Version}
		if from != nil {
			step.From = from.Name
			step.SourceVersion = current.Get(from.Name, name)
		}
		if step.New == "" {
			step.New = step.SourceVersion
		}
		switch {
		case step.New == "" && all, step.Old == "" && all:
			continue
		case step.New == "":
			errs = append(errs, planErr(ErrNoVersion, name, step.From, "%s has no version in %s", name, step.From))
			continue
		case step.Old == "":
			errs = append(errs, planErr(ErrNoVersion, name, to.Name, "%s has no version in %s (is it deployed there?)", name, to.Name))
			continue
		}
		if err := rangeErr(req, step); err != nil {
			errs = append(errs, err)
			continue
		}
		step.Relation = Compare(step.New, step.Old)
		switch step.Relation {
		case Same:
			unchanged = append(unchanged, name+" "+step.Old)
			continue
		case Older:
			if !req.AllowDowngrade {
				errs = append(errs, planErr(ErrDowngrade, name, to.Name, "%s %s → %s in %s is a downgrade", name, step.Old, step.New, to.Name))
				continue
			}
		}
		for _, loc := range app.Versions {
			step.Changes = append(step.Changes, Change{Branch: to.Branch, Path: to.FilePath(loc), Location: loc})
		}
		steps = append(steps, step)
	}
	if len(errs) > 0 {
		return nil, wrap(errs...)
	}
	if len(steps) == 0 {
		if len(unchanged) == 0 {
			return nil, wrap(planErr(ErrNoChange, "", to.Name, "no application has a version to promote"))
		}
		return nil, wrap(planErr(ErrNoChange, "", to.Name, "%s already has %s", to.Name, strings.Join(unchanged, ", ")))
	}
	return steps, nil
}

// rangeErr refuses a step that would copy a range or overwrite one.
func rangeErr(req Request, s Step) error {
	switch {
	case req.Version == "" && versionedit.IsRange(s.New):
		return planErr(ErrRange, s.App, s.From, "%s in %s is the semver range %q%s, not a version: promote copies versions, never ranges; "+
			"pin the version %s runs in %s (for a HelmRelease, its status.history[0].chartVersion), give the version to promote (--version), "+
			"or pass --resolve-range to promote the chart version its healthy Flux HelmRelease runs",
			s.App, s.From, s.New, req.Origins.at(s.From, s.App), s.App, s.From)
	case versionedit.IsRange(s.Old):
		return planErr(ErrRange, s.App, s.To, "%s in %s is the semver range %q%s, not a version: promote does not replace a range (%s follows it on its own); "+
			"to manage %s's version by promotion, pin a version there by hand first",
			s.App, s.To, s.Old, req.Origins.at(s.To, s.App), s.To, s.To)
	}
	return nil
}

// source resolves the source environment of a request (nil when the
// target is the first environment and a version is given).
func source(p *Pipeline, to *Environment, req Request) (*Environment, error) {
	if req.From == "" {
		if src, ok := p.Source(to.Name); ok {
			return src, nil
		}
		if req.Version == "" {
			return nil, planErr(ErrNoSource, "", to.Name, "%s is the first environment: give the version to promote", to.Name)
		}
		return nil, nil
	}
	from, ok := p.Env(req.From)
	if !ok {
		return nil, planErr(ErrUnknownEnv, "", req.From, "unknown environment %q%s", req.From, suggest(req.From, p.Order()))
	}
	up := p.Upstream(to.Name)
	if !slices.Contains(up, from) {
		names := make([]string, len(up))
		for i, e := range up {
			names[i] = e.Name
		}
		if len(names) == 0 {
			return nil, planErr(ErrNotUpstream, "", to.Name, "%s cannot promote from %s: it is the first environment", to.Name, from.Name)
		}
		return nil, planErr(ErrNotUpstream, "", to.Name, "%s cannot promote from %s (its sources: %s)", to.Name, from.Name, strings.Join(names, ", "))
	}
	return from, nil
}
