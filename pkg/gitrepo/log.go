package gitrepo

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Commit is one commit of a Log.
type Commit struct {
	Hash        string
	Author      string
	AuthorEmail string
	// Date is the author date.
	Date    time.Time
	Subject string
	// Trailers are the commit message's trailers in order, folded values
	// unfolded; a key may repeat.
	Trailers []Trailer
}

// Trailer is one "Key: value" line of a commit message's trailer block.
type Trailer struct {
	Key, Value string
}

// Values returns the values of every trailer whose key is key (compared
// case-insensitively, as git does), in order.
func (c Commit) Values(key string) []string {
	var vs []string
	for _, t := range c.Trailers {
		if strings.EqualFold(t.Key, key) {
			vs = append(vs, t.Value)
		}
	}
	return vs
}

// Value returns the value of the first trailer whose key is key, and
// whether there is one.
func (c Commit) Value(key string) (string, bool) {
	for _, t := range c.Trailers {
		if strings.EqualFold(t.Key, key) {
			return t.Value, true
		}
	}
	return "", false
}

const (
	unitSep   = "\x1f"
	recordSep = "\x1e"
	logFormat = "%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1f%(trailers:unfold,only)%x1e"
)

// Log returns the commits reachable from rev (a revision or a range such as
// "a..b"), newest first, that touch one of paths (taken literally: a file
// or a directory, relative to the root) or all commits when no path is
// given.
func (r *Repo) Log(ctx context.Context, rev string, paths ...string) ([]Commit, error) {
	if err := checkArg("revision", rev); err != nil {
		return nil, fmt.Errorf("reading log: %w", err)
	}
	args := []string{"log", "--format=" + logFormat, "--end-of-options", rev, "--"}
	for _, p := range paths {
		clean, err := cleanRepoPath(p)
		if err != nil {
			return nil, fmt.Errorf("reading log of %s: %w", rev, err)
		}
		args = append(args, clean)
	}
	out, err := git(ctx, cmdOpts{dir: r.root, env: []string{"GIT_LITERAL_PATHSPECS=1"}}, args...)
	if err != nil {
		return nil, fmt.Errorf("reading log of %s: %w", rev, err)
	}
	commits, err := parseLog(string(out))
	if err != nil {
		return nil, fmt.Errorf("reading log of %s: %w", rev, err)
	}
	return commits, nil
}

func parseLog(out string) ([]Commit, error) {
	var commits []Commit
	for rec := range strings.SplitSeq(out, recordSep) {
		rec = strings.TrimLeft(rec, "\n")
		if rec == "" {
			continue
		}
		f := strings.SplitN(rec, unitSep, 6)
		if len(f) != 6 {
			return nil, fmt.Errorf("unexpected git log record %q", rec)
		}
		date, err := time.Parse(time.RFC3339, f[3])
		if err != nil {
			return nil, fmt.Errorf("commit %s: parsing date %q: %w", f[0], f[3], err)
		}
		commits = append(commits, Commit{
			Hash:        f[0],
			Author:      f[1],
			AuthorEmail: f[2],
			Date:        date,
			Subject:     f[4],
			Trailers:    ParseTrailers(f[5]),
		})
	}
	return commits, nil
}

// ParseTrailers parses the output of %(trailers:unfold,only): one
// "Key: value" per line. Lines without a separator are skipped; a line
// starting with white space continues the previous value (in case the
// trailers were not unfolded).
func ParseTrailers(s string) []Trailer {
	var ts []Trailer
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(ts) > 0 {
			last := &ts[len(ts)-1]
			last.Value = strings.TrimSpace(last.Value + " " + strings.TrimSpace(line))
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if key == "" || strings.ContainsAny(key, " \t") {
			continue
		}
		ts = append(ts, Trailer{Key: key, Value: strings.TrimSpace(value)})
	}
	return ts
}
