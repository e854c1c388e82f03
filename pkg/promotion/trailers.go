package promotion

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Trailer keys of a promotion commit.
const (
	TrailerApp          = "Promoted-App"
	TrailerFrom         = "Promoted-From"
	TrailerTo           = "Promoted-To"
	TrailerVersion      = "Promoted-Version"
	TrailerSourceCommit = "Source-Commit"
	TrailerHealth       = "Verified-Health"
	TrailerRollback     = "Promoted-Rollback"
)

// SkippedGatesHealth is the Verified-Health value of a promotion made
// without its health gates.
const SkippedGatesHealth = "skipped (--skip-gates)"

// Trailer is one "Key: Value" line of a commit message's trailer block.
type Trailer struct {
	Key, Value string
}

// AppChange is one application's version change.
type AppChange struct {
	App string
	// Old is the version before ("" when unknown).
	Old string
	New string
}

// Promotion is what one promotion commit records.
type Promotion struct {
	// Env is the environment promoted into (Promoted-To).
	Env string
	// From is the source environment (Promoted-From; "" when a version was
	// set directly).
	From string
	// Apps are the changes, in order; the subject names them all.
	Apps []AppChange
	// SourceCommit is the source environment's commit carrying the version.
	SourceCommit string
	// Health is one line per verified gate, e.g.
	// "dev Deployment/web-dev/web healthy at 1a2b3c4" (Verified-Health).
	Health []string
	// SkippedGates marks a promotion made with --skip-gates; it is written
	// as Verified-Health: skipped (--skip-gates) in place of Health.
	SkippedGates bool
	// Rollback marks a rollback (Promoted-Rollback: true).
	Rollback bool
	// Body is optional free text between the subject and the trailers.
	Body string
}

// Change is the change of one application, if the promotion carries it.
func (p Promotion) Change(app string) (AppChange, bool) {
	for _, c := range p.Apps {
		if c.App == app {
			return c, true
		}
	}
	return AppChange{}, false
}

// Subject is the commit subject: "promote(staging): web 1.4.1 → 1.4.2, api
// 2.0.0 → 2.1.0" ("web 1.4.2" when the old version is unknown).
func (p Promotion) Subject() string {
	parts := make([]string, len(p.Apps))
	for i, c := range p.Apps {
		if c.Old == "" {
			parts[i] = oneLine(c.App) + " " + oneLine(c.New)
		} else {
			parts[i] = oneLine(c.App) + " " + oneLine(c.Old) + " → " + oneLine(c.New)
		}
	}
	return "promote(" + oneLine(p.Env) + "): " + strings.Join(parts, ", ")
}

// Trailers are the promotion's trailers in the order they are written:
// the first application, Promoted-From, Promoted-To and its version, then a
// Promoted-App/Promoted-Version pair for each further application,
// Source-Commit, Verified-Health (one per gate) and Promoted-Rollback.
// Values are made single-line (runs of white space, newlines included,
// become one space).
func (p Promotion) Trailers() []Trailer {
	var ts []Trailer
	add := func(k, v string) {
		if v = oneLine(v); v != "" {
			ts = append(ts, Trailer{Key: k, Value: v})
		}
	}
	for i, c := range p.Apps {
		add(TrailerApp, c.App)
		if i == 0 {
			add(TrailerFrom, p.From)
			add(TrailerTo, p.Env)
		}
		add(TrailerVersion, c.New)
	}
	if len(p.Apps) == 0 {
		add(TrailerFrom, p.From)
		add(TrailerTo, p.Env)
	}
	add(TrailerSourceCommit, p.SourceCommit)
	if p.SkippedGates {
		add(TrailerHealth, SkippedGatesHealth)
	} else {
		for _, h := range p.Health {
			add(TrailerHealth, h)
		}
	}
	if p.Rollback {
		add(TrailerRollback, "true")
	}
	return ts
}

// Message is the whole commit message: subject, blank line, optional body
// and blank line, trailers. It ends with a newline.
func (p Promotion) Message() string {
	var b strings.Builder
	b.WriteString(p.Subject())
	b.WriteString("\n\n")
	if body := strings.TrimSpace(p.Body); body != "" {
		b.WriteString(body)
		b.WriteString("\n\n")
	}
	for _, t := range p.Trailers() {
		b.WriteString(t.Key)
		b.WriteString(": ")
		b.WriteString(t.Value)
		b.WriteString("\n")
	}
	return b.String()
}

// Validate refuses a promotion whose message would not read back: no
// environment or applications, a missing new version, or a value with a
// line break or (for names and versions) white space or a comma.
func (p Promotion) Validate() error {
	var errs []error
	word := func(what, v string, required bool) {
		switch {
		case v == "" && required:
			errs = append(errs, fmt.Errorf("%s is empty", what))
		case strings.ContainsAny(v, " \t\r\n,"):
			errs = append(errs, fmt.Errorf("%s %q must not contain white space or commas", what, v))
		}
	}
	line := func(what, v string) {
		if strings.ContainsAny(v, "\r\n") {
			errs = append(errs, fmt.Errorf("%s must be a single line", what))
		}
	}
	word("environment", p.Env, true)
	word("source environment", p.From, false)
	if len(p.Apps) == 0 {
		errs = append(errs, errors.New("no applications"))
	}
	for _, c := range p.Apps {
		word("application", c.App, true)
		word("old version of "+c.App, c.Old, false)
		word("new version of "+c.App, c.New, true)
	}
	line("source commit", p.SourceCommit)
	for _, h := range p.Health {
		line("health", h)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid promotion: %w", err)
	}
	return nil
}

// oneLine folds white space runs (newlines included) into single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var subjectRE = regexp.MustCompile(`^promote\(([^()\s]+)\): (.+)$`)

// parseSubject reads "promote(env): app old → new, ...".
func parseSubject(subject string) (env string, apps []AppChange, ok bool) {
	m := subjectRE.FindStringSubmatch(strings.TrimSpace(subject))
	if m == nil {
		return "", nil, false
	}
	for _, item := range strings.Split(m[2], ", ") {
		f := strings.Fields(item)
		switch {
		case len(f) == 4 && (f[2] == "→" || f[2] == "->"):
			apps = append(apps, AppChange{App: f[0], Old: f[1], New: f[3]})
		case len(f) == 3 && (f[1] == "→" || f[1] == "->"):
			apps = append(apps, AppChange{App: f[0], New: f[2]})
		case len(f) == 2:
			apps = append(apps, AppChange{App: f[0], New: f[1]})
		default:
			return m[1], nil, false
		}
	}
	return m[1], apps, true
}

// ParsePromotion reads a promotion back from a commit's subject and
// trailers (keys compared case-insensitively, as git does). The trailers
// are authoritative; old versions come from the subject, and a commit whose
// trailers were lost (a squash merge) is read from its subject alone. It
// reports false for a commit that is not a promotion. Body is not read.
func ParsePromotion(subject string, trailers []Trailer) (Promotion, bool) {
	var p Promotion
	var apps, versions []string
	for _, t := range trailers {
		v := strings.TrimSpace(t.Value)
		switch {
		case strings.EqualFold(t.Key, TrailerApp):
			apps = append(apps, v)
		case strings.EqualFold(t.Key, TrailerVersion):
			versions = append(versions, v)
		case strings.EqualFold(t.Key, TrailerFrom):
			p.From = v
		case strings.EqualFold(t.Key, TrailerTo):
			p.Env = v
		case strings.EqualFold(t.Key, TrailerSourceCommit):
			p.SourceCommit = v
		case strings.EqualFold(t.Key, TrailerHealth):
			if v == SkippedGatesHealth {
				p.SkippedGates = true
			} else if v != "" {
				p.Health = append(p.Health, v)
			}
		case strings.EqualFold(t.Key, TrailerRollback):
			p.Rollback = strings.EqualFold(v, "true")
		}
	}
	subjEnv, subjApps, subjOK := parseSubject(subject)
	if p.Env == "" || len(apps) == 0 {
		if !subjOK || len(subjApps) == 0 {
			return Promotion{}, false
		}
		if p.Env == "" {
			p.Env = subjEnv
		}
		if len(apps) == 0 {
			p.Apps = subjApps
			return p, true
		}
	}
	old := map[string]AppChange{}
	for _, c := range subjApps {
		old[c.App] = c
	}
	for i, app := range apps {
		c := AppChange{App: app, Old: old[app].Old}
		if i < len(versions) {
			c.New = versions[i]
		} else {
			c.New = old[app].New
		}
		if c.App == "" || c.New == "" {
			return Promotion{}, false
		}
		p.Apps = append(p.Apps, c)
	}
	return p, true
}
