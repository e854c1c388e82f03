package gitrepo

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := cloneOf(t, newRemote(t))
	commit := func(file, message, date string) string {
		t.Helper()
		writeFile(t, filepath.Join(dir, file), message)
		run(t, dir, "add", "-A")
		msgFile := filepath.Join(t.TempDir(), "msg")
		if err := os.WriteFile(msgFile, []byte(message), 0o600); err != nil {
			t.Fatal(err)
		}
		runEnv(t, dir, []string{
			"GIT_AUTHOR_NAME=Ada Lovelace", "GIT_AUTHOR_EMAIL=ada@example.com", "GIT_AUTHOR_DATE=" + date,
		}, "commit", "--quiet", "--cleanup=verbatim", "-F", msgFile)
		return run(t, dir, "rev-parse", "HEAD")
	}

	multi := commit("envs/stage/kustomization.yaml",
		"promote(stage): web 1.4.1 → 1.4.2, api 2.0.0 → 2.1.0\n\n"+
			"Two apps at once.\n\n"+
			"Promoted-App: web\n"+
			"Promoted-Version: 1.4.2\n"+
			"Promoted-App: api\n"+
			"Promoted-Version: 2.1.0\n"+
			"Promoted-From: dev\n"+
			"Promoted-To: stage\n"+
			"Verified-Health: dev Deployment/web-dev/web\n"+
			"  healthy at 0123abc\n"+
			"Source-Commit: 0123abc\n",
		"2026-03-01T10:00:00+01:00")
	plain := commit("README.md", "docs: no trailers here\n\nJust: a body line that is not a trailer block\nbecause this line is prose.\n",
		"2026-03-02T11:30:00Z")
	rollback := commit("envs/prod/kustomization.yaml",
		"promote(prod): web 1.4.2 → 1.4.1\n\nPromoted-App: web\nPromoted-Rollback: true\nSigned-off-by: Ada Lovelace <ada@example.com>\n",
		"2026-03-03T12:00:00-05:00")

	all, err := openRepo(t, dir).Log(ctx, "HEAD~3..HEAD")
	if err != nil {
		t.Fatal(err)
	}
	date := func(s string) time.Time {
		d, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	want := []Commit{
		{
			Hash: rollback, Author: "Ada Lovelace", AuthorEmail: "ada@example.com",
			Date: date("2026-03-03T12:00:00-05:00"), Subject: "promote(prod): web 1.4.2 → 1.4.1",
			Trailers: []Trailer{{"Promoted-App", "web"}, {"Promoted-Rollback", "true"}, {"Signed-off-by", "Ada Lovelace <ada@example.com>"}},
		},
		{
			Hash: plain, Author: "Ada Lovelace", AuthorEmail: "ada@example.com",
			Date: date("2026-03-02T11:30:00Z"), Subject: "docs: no trailers here",
		},
		{
			Hash: multi, Author: "Ada Lovelace", AuthorEmail: "ada@example.com",
			Date: date("2026-03-01T10:00:00+01:00"), Subject: "promote(stage): web 1.4.1 → 1.4.2, api 2.0.0 → 2.1.0",
			Trailers: []Trailer{
				{"Promoted-App", "web"}, {"Promoted-Version", "1.4.2"},
				{"Promoted-App", "api"}, {"Promoted-Version", "2.1.0"},
				{"Promoted-From", "dev"}, {"Promoted-To", "stage"},
				{"Verified-Health", "dev Deployment/web-dev/web healthy at 0123abc"},
				{"Source-Commit", "0123abc"},
			},
		},
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("Log (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"web", "api"}, all[2].Values("promoted-app")); diff != "" {
		t.Errorf("Values (-want +got):\n%s", diff)
	}
	if v, ok := all[0].Value("Promoted-Rollback"); !ok || v != "true" {
		t.Errorf("Value(Promoted-Rollback) = %q, %v", v, ok)
	}

	byPath, err := openRepo(t, dir).Log(ctx, "HEAD", "envs/stage", "envs/prod/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, c := range byPath {
		hashes = append(hashes, c.Hash)
	}
	initial := run(t, dir, "rev-list", "--max-parents=0", "HEAD")
	if diff := cmp.Diff([]string{rollback, multi, initial}, hashes); diff != "" {
		t.Errorf("Log by path (-want +got):\n%s", diff)
	}
	if _, err := openRepo(t, dir).Log(ctx, "--all"); err == nil {
		t.Error("Log(--all): no error")
	}
}

func TestParseTrailers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Trailer
	}{
		{name: "empty", in: ""},
		{name: "one", in: "Key: value\n", want: []Trailer{{"Key", "value"}}},
		{name: "repeated keys keep order", in: "A: 1\nB: 2\nA: 3\n", want: []Trailer{{"A", "1"}, {"B", "2"}, {"A", "3"}}},
		{name: "folded", in: "Verified-Health: dev\n  healthy\n\tat abc\n", want: []Trailer{{"Verified-Health", "dev healthy at abc"}}},
		{name: "colon in value", in: "Link: https://example.com/x\n", want: []Trailer{{"Link", "https://example.com/x"}}},
		{name: "no space after colon", in: "Key:value\n", want: []Trailer{{"Key", "value"}}},
		{name: "not a trailer", in: "just prose\nKey with space: x\n", want: nil},
		{name: "CRLF", in: "A: 1\r\nB: 2\r\n", want: []Trailer{{"A", "1"}, {"B", "2"}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ParseTrailers(tt.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
