package promotion

import (
	"fmt"
	"strings"
	"time"
)

// LogFormat is the `git log --format` that ParseLog reads: hash, author
// name, author date (strict ISO 8601), subject and the unfolded trailers,
// fields separated by US (0x1f) and records ended by RS (0x1e).
const LogFormat = "%H%x1f%an%x1f%aI%x1f%s%x1f%(trailers:unfold,only)%x1e"

// Commit is a commit as git log shows it.
type Commit struct {
	Hash     string
	Author   string
	Date     time.Time
	Subject  string
	Trailers []Trailer
}

// ParseLog reads the output of `git log --format=` + LogFormat.
func ParseLog(out []byte) ([]Commit, error) {
	var commits []Commit
	for i, rec := range strings.Split(string(out), "\x1e") {
		rec = strings.TrimLeft(rec, "\r\n")
		if rec == "" {
			continue
		}
		f := strings.Split(rec, "\x1f")
		if len(f) != 5 {
			return nil, fmt.Errorf("reading git log: record %d has %d fields, want 5", i+1, len(f))
		}
		date, err := time.Parse(time.RFC3339, f[2])
		if err != nil {
			return nil, fmt.Errorf("reading git log: commit %s: %w", f[0], err)
		}
		commits = append(commits, Commit{Hash: f[0], Author: f[1], Date: date, Subject: f[3], Trailers: ParseTrailers(f[4])})
	}
	return commits, nil
}

// ParseTrailers reads "Key: Value" lines (as printed by
// %(trailers:unfold,only)); other lines are skipped.
func ParseTrailers(block string) []Trailer {
	var ts []Trailer
	for _, line := range strings.Split(block, "\n") {
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		ts = append(ts, Trailer{Key: k, Value: strings.TrimSpace(v)})
	}
	return ts
}

// Entry is a promotion found in the history.
type Entry struct {
	Commit string
	Author string
	Date   time.Time
	Promotion
}

// Filter narrows the history; empty fields match everything.
type Filter struct {
	// App keeps promotions that carry this application.
	App string
	// Env keeps promotions into this environment.
	Env string
}

// History is the promotions among commits that pass the filter, in the
// commits' order. Give commits in `git log` order (newest first, as git
// orders them: author dates are not reliable after a rebase), and History
// is newest first. An entry keeps every application of its commit; use
// Change to pick one.
func History(commits []Commit, f Filter) []Entry {
	var out []Entry
	for _, c := range commits {
		p, ok := ParsePromotion(c.Subject, c.Trailers)
		if !ok || (f.Env != "" && p.Env != f.Env) {
			continue
		}
		if _, has := p.Change(f.App); f.App != "" && !has {
			continue
		}
		out = append(out, Entry{Commit: c.Hash, Author: c.Author, Date: c.Date, Promotion: p})
	}
	return out
}

// PreviousVersion is the version to roll app in env back to from current,
// given the history newest first: the version promoted into env before the
// promotion that brought current. Entries equal to current are skipped, and
// so is a version that a newer rollback moved away from (rolling back twice
// goes further back rather than returning to the bad version; promoting it
// again after the rollback makes it good again). When no entry
// brought current (it was set outside promote), it is the newest other
// version promoted into env. False when there is none.
func PreviousVersion(entries []Entry, app, env, current string) (string, bool) {
	var changes []AppChange
	var rollback []bool
	found := false
	for _, e := range entries {
		if c, ok := e.Change(app); ok && e.Env == env {
			changes = append(changes, c)
			rollback = append(rollback, e.Rollback)
			found = found || c.New == current
		}
	}
	bad := map[string]bool{} // moved away from by a rollback newer than the entry at hand
	seen := false
	// fallback is the version the promotion that brought current replaced:
	// the answer when no earlier promotion into env is recorded (the
	// version came with the repository, or by a commit without trailers).
	fallback := ""
	for i, c := range changes {
		if rollback[i] && c.Old != "" && c.Old != c.New {
			bad[c.Old] = true
		}
		switch {
		case c.New == current:
			if !seen && c.Old != "" && c.Old != current && !bad[c.Old] {
				fallback = c.Old
			}
			seen = true
		case found && !seen: // newer than the promotion that brought current
		case bad[c.New]:
		default:
			return c.New, true
		}
	}
	if fallback != "" {
		return fallback, true
	}
	return "", false
}
