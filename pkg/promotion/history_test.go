package promotion

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// commit builds a commit from a promotion, as git log would show it.
func commit(hash string, day int, p Promotion) Commit {
	msg := p.Message()
	subject, rest, _ := strings.Cut(msg, "\n")
	return Commit{Hash: hash, Author: "dev", Date: time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC), Subject: subject, Trailers: ParseTrailers(rest)}
}

func promo(env, from string, rollback bool, changes ...string) Promotion {
	p := Promotion{Env: env, From: from, Rollback: rollback}
	for _, c := range changes {
		f := strings.Fields(c) // "app old new"
		p.Apps = append(p.Apps, AppChange{App: f[0], Old: f[1], New: f[2]})
	}
	return p
}

func TestHistory(t *testing.T) {
	// Newest first, as git log gives them.
	commits := []Commit{
		commit("c6", 6, promo("prod", "staging", false, "web 1.1 1.2", "api 2.0 2.1")),
		{Hash: "c5", Subject: "docs: readme", Trailers: []Trailer{{"Signed-off-by", "x"}}},
		commit("c4", 4, promo("staging", "dev", false, "web 1.1 1.2")),
		commit("c3", 3, promo("staging", "dev", false, "api 2.0 2.1")),
		commit("c2", 2, promo("dev", "", false, "web 1.1 1.2")),
		{Hash: "c1", Subject: "initial"},
	}
	tests := []struct {
		name   string
		filter Filter
		want   []string
	}{
		{"everything", Filter{}, []string{"c6", "c4", "c3", "c2"}},
		{"one app", Filter{App: "web"}, []string{"c6", "c4", "c2"}},
		{"one env", Filter{Env: "staging"}, []string{"c4", "c3"}},
		{"app and env", Filter{App: "api", Env: "staging"}, []string{"c3"}},
		{"app in a multi-app commit", Filter{App: "api", Env: "prod"}, []string{"c6"}},
		{"nothing", Filter{App: "db"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range History(commits, tt.filter) {
				got = append(got, e.Commit)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("History (-want +got):\n%s", diff)
			}
		})
	}
	e := History(commits, Filter{Env: "prod"})[0]
	if e.Author != "dev" || e.Date.Day() != 6 || e.From != "staging" || len(e.Apps) != 2 {
		t.Errorf("entry = %+v", e)
	}
}

func TestPreviousVersion(t *testing.T) {
	entry := func(p Promotion) Entry { return Entry{Promotion: p} }
	up := func(env, change string) Entry { return entry(promo(env, "src", false, change)) }
	back := func(env, change string) Entry { return entry(promo(env, "", true, change)) }
	tests := []struct {
		name    string
		entries []Entry // newest first
		current string
		want    string
		ok      bool
	}{
		{"the promotion before", []Entry{up("prod", "web 1.1 1.2"), up("prod", "web 1.0 1.1"), up("prod", "web - 1.0")}, "1.2", "1.1", true},
		{"other envs and apps do not count", []Entry{
			up("prod", "web 1.1 1.2"), up("staging", "web 1.2 1.3"), up("prod", "api 1.0 5.0"), up("prod", "web 1.0 1.1")}, "1.2", "1.1", true},
		{"repeated promotions of current are skipped", []Entry{
			up("prod", "web 1.1 1.2"), up("prod", "web 1.2 1.2"), up("prod", "web 1.0 1.1")}, "1.2", "1.1", true},
		{"current came from an older promotion (newer ones were reverted by hand)", []Entry{
			up("prod", "web 1.1 1.3"), up("prod", "web 1.0 1.1"), up("prod", "web - 1.0")}, "1.1", "1.0", true},
		{"rolling back a rollback goes further back", []Entry{
			back("prod", "web 1.2 1.1"), up("prod", "web 1.1 1.2"), up("prod", "web 1.0 1.1"), up("prod", "web - 1.0")}, "1.1", "1.0", true},
		{"a version promoted again after its rollback is good again", []Entry{
			up("prod", "web 1.1 1.2"), back("prod", "web 1.2 1.1"), up("prod", "web 1.1 1.2"), up("prod", "web - 1.1")}, "1.2", "1.1", true},
		{"current set outside promote: the newest other version", []Entry{
			up("prod", "web 1.0 1.1"), up("prod", "web - 1.0")}, "9.9", "1.1", true},
		{"nothing before", []Entry{up("prod", "web - 1.0")}, "1.0", "", false},
		{"no history", nil, "1.0", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.entries {
				for j, c := range tt.entries[i].Apps {
					if c.Old == "-" {
						tt.entries[i].Apps[j].Old = ""
					}
				}
			}
			got, ok := PreviousVersion(tt.entries, "web", "prod", tt.current)
			if got != tt.want || ok != tt.ok {
				t.Errorf("PreviousVersion = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseLogErrors(t *testing.T) {
	tests := []struct{ name, out, want string }{
		{"too few fields", "abc\x1fme\x1e", "reading git log: record 1 has 2 fields, want 5"},
		{"bad date", "abc\x1fme\x1fyesterday\x1fs\x1f\x1e", "reading git log: commit abc: "},
	}
	for _, tt := range tests {
		_, err := ParseLog([]byte(tt.out))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: ParseLog = %v, want %q", tt.name, err, tt.want)
		}
	}
	if c, err := ParseLog(nil); err != nil || len(c) != 0 {
		t.Errorf("ParseLog(empty) = %v, %v", c, err)
	}
}

// TestGitLog commits promotion messages with the real git and reads them
// back with LogFormat: git must see our trailers as trailers.
func TestGitLog(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(),
		"GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	git := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir, cmd.Env, cmd.Stdin = dir, env, strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("", "init", "-q")
	first := Promotion{Env: "staging", From: "dev", Apps: []AppChange{{App: "web", Old: "1.4.1", New: "1.4.2"}},
		SourceCommit: strings.Repeat("a", 40), Health: []string{"dev Deployment/web-dev/web healthy at aaaaaaa"}, Body: "Why: the train."}
	second := Promotion{Env: "prod-eu", From: "staging", Apps: []AppChange{{App: "web", Old: "1.4.1", New: "1.4.2"}, {App: "api", Old: "2.0.0", New: "2.1.0"}},
		SourceCommit: strings.Repeat("b", 40), SkippedGates: true, Rollback: true}
	msgs := []string{first.Message(), "chore: unrelated\n\nSigned-off-by: Ada <ada@example.com>\n", second.Message()}
	for i, msg := range msgs {
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte{byte('0' + i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		git("", "add", "f")
		git(msg, "commit", "-q", "-F", "-")
	}
	commits, err := ParseLog([]byte(git("", "log", "--format="+LogFormat)))
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != 3 || commits[0].Author != "Ada" || !commits[0].Date.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || len(commits[0].Hash) != 40 {
		t.Fatalf("commits = %+v", commits)
	}
	got := History(commits, Filter{App: "web"})
	var proms []Promotion
	for _, e := range got {
		proms = append(proms, e.Promotion)
	}
	first.Body, second.Body = "", ""
	if diff := cmp.Diff([]Promotion{second, first}, proms, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("History from git (-want +got):\n%s", diff)
	}
}
