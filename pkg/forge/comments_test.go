package forge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// fakeComments implements the documented comment contracts of GitHub
// (issue comments: GET/POST /repos/{o}/{r}/issues/{n}/comments, PATCH
// /repos/{o}/{r}/issues/comments/{id}; Authorization: Bearer) and GitLab
// (merge-request notes: GET/POST /projects/:id/merge_requests/:iid/notes,
// PUT .../notes/:id; PRIVATE-TOKEN) for pull request 7. Two comments per
// page, with a Link rel="next" header. Comments by another user cannot be
// edited (GitHub 403, GitLab 403).
type fakeComments struct {
	t     *testing.T
	kind  Kind
	token string

	mu       sync.Mutex
	next     int64
	comments []*fakeComment
	calls    []string
}

type fakeComment struct {
	ID     int64
	Body   string
	Mine   bool
	System bool
}

func newFakeComments(t *testing.T, kind Kind) (*fakeComments, Repo) {
	f := &fakeComments{t: t, kind: kind, token: "tok-canary-s3cr3t-7f3a", next: 100}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if kind == GitLab {
		return f, Repo{Kind: GitLab, APIBase: srv.URL + "/api/v4", WebBase: srv.URL, Owner: "acme", Name: "platform/web"}
	}
	return f, Repo{Kind: GitHub, APIBase: srv.URL, WebBase: "https://github.com", Owner: "acme", Name: "web"}
}

func (f *fakeComments) add(body string, mine, system bool) *fakeComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	c := &fakeComment{ID: f.next, Body: body, Mine: mine, System: system}
	f.comments = append(f.comments, c)
	return c
}

func (f *fakeComments) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.EscapedPath())
	var list, edit string
	if f.kind == GitLab {
		if r.Header.Get("PRIVATE-TOKEN") != f.token {
			writeJSON(w, 401, map[string]any{"message": "401 Unauthorized"})
			return
		}
		list = "/api/v4/projects/acme%2Fplatform%2Fweb/merge_requests/7/notes"
		edit = list + "/"
	} else {
		if r.Header.Get("Authorization") != "Bearer "+f.token || r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
			writeJSON(w, 401, map[string]any{"message": "Bad credentials"})
			return
		}
		list = "/repos/acme/web/issues/7/comments"
		edit = "/repos/acme/web/issues/comments/"
	}
	view := func(c *fakeComment) map[string]any {
		m := map[string]any{"id": c.ID, "body": c.Body}
		if f.kind == GitLab {
			m["system"] = c.System
		} else {
			m["html_url"] = fmt.Sprintf("https://github.com/acme/web/pull/7#issuecomment-%d", c.ID)
		}
		return m
	}
	decode := func() (string, bool) {
		var in struct {
			Body *string `json:"body"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == nil || *in.Body == "" {
			writeJSON(w, 422, map[string]any{"message": "body is missing"})
			return "", false
		}
		if f.kind == GitHub && utf8.RuneCountInString(*in.Body) > GitHubCommentLimit {
			writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": []any{map[string]any{"resource": "IssueComment", "field": "body", "code": "custom", "message": "body is too long (maximum is 65536 characters)"}}})
			return "", false
		}
		return *in.Body, true
	}
	switch {
	case r.URL.EscapedPath() == list && r.Method == http.MethodGet:
		size, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if size <= 0 || page <= 0 {
			f.t.Errorf("GET %s without per_page/page: %s", list, r.URL.RawQuery)
		}
		size = min(size, 2)
		from := (page - 1) * size
		out := []map[string]any{}
		for i := from; i < len(f.comments) && i < from+size; i++ {
			out = append(out, view(f.comments[i]))
		}
		if from+size < len(f.comments) {
			w.Header().Set("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, list, page+1))
		}
		writeJSON(w, 200, out)
	case r.URL.EscapedPath() == list && r.Method == http.MethodPost:
		body, ok := decode()
		if !ok {
			return
		}
		f.next++
		c := &fakeComment{ID: f.next, Body: body, Mine: true}
		f.comments = append(f.comments, c)
		writeJSON(w, 201, view(c))
	case strings.HasPrefix(r.URL.EscapedPath(), edit) && (f.kind == GitHub && r.Method == http.MethodPatch || f.kind == GitLab && r.Method == http.MethodPut):
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.EscapedPath(), edit), 10, 64)
		for _, c := range f.comments {
			if c.ID != id {
				continue
			}
			if !c.Mine {
				writeJSON(w, 403, map[string]any{"message": "403 Forbidden"})
				return
			}
			body, ok := decode()
			if !ok {
				return
			}
			c.Body = body
			writeJSON(w, 200, view(c))
			return
		}
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
	default:
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
	}
}

func (f *fakeComments) marked(marker string) []*fakeComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*fakeComment
	for _, c := range f.comments {
		if strings.HasPrefix(c.Body, MarkerLine(marker)+"\n") {
			out = append(out, c)
		}
	}
	return out
}

// TestUpsertCommentContract: the first run adds one comment, the next runs
// update it (found on a later page, past a copy of the marker by another
// user and a GitLab system note) instead of adding another.
func TestUpsertCommentContract(t *testing.T) {
	for _, kind := range []Kind{GitHub, GitLab} {
		t.Run(string(kind), func(t *testing.T) {
			f, repo := newFakeComments(t, kind)
			ctx := context.Background()
			const marker = "kubectl-gitops:drift:files"
			f.add("LGTM", false, false)
			f.add(MarkerLine(marker)+"\ncopied by someone else", false, false)
			if kind == GitLab {
				// A system note quoting the marker; the fake would let it be edited.
				f.add(MarkerLine(marker)+"\nmentioned in commit abc", true, true)
			} else {
				f.add("added 1 commit", false, false)
			}
			f.add(MarkerLine("kubectl-gitops:drift:other")+"\nanother source", true, false)
			c := NewCommenter(repo, f.token, nil)

			first, err := c.UpsertComment(ctx, 7, marker, "### drift\n\nrun 1\n")
			if err != nil {
				t.Fatal(err)
			}
			if first.Updated || first.ID == 0 || first.URL == "" {
				t.Fatalf("first run: %+v, want a new comment with an id and URL", first)
			}
			for run := 2; run <= 3; run++ {
				got, err := c.UpsertComment(ctx, 7, marker, fmt.Sprintf("### drift\n\nrun %d\n", run))
				if err != nil {
					t.Fatal(err)
				}
				if !got.Updated || got.ID != first.ID {
					t.Fatalf("run %d: %+v, want comment %d updated", run, got, first.ID)
				}
			}
			var mine []*fakeComment
			for _, cm := range f.marked(marker) {
				if cm.Mine && !cm.System {
					mine = append(mine, cm)
				}
			}
			if len(mine) != 1 || mine[0].Body != MarkerLine(marker)+"\n### drift\n\nrun 3\n" {
				t.Fatalf("our comments with the marker: %+v, want one with run 3", mine)
			}
			if got := len(f.comments); got != 5 {
				t.Fatalf("%d comments on the pull request, want 5 (4 earlier + ours)", got)
			}
		})
	}
}

// TestUpsertCommentTruncates: a report over GitHub's 65536-character limit
// is cut at a line end, its code fence closed, with a note; the forge
// accepts it.
func TestUpsertCommentTruncates(t *testing.T) {
	f, repo := newFakeComments(t, GitHub)
	var b strings.Builder
	b.WriteString("### drift\n\n```diff\n")
	for i := 0; b.Len() < 3*GitHubCommentLimit; i++ {
		fmt.Fprintf(&b, "+  line %d: ünïcødé value\n", i)
	}
	b.WriteString("```\n")
	got, err := NewCommenter(repo, f.token, nil).UpsertComment(context.Background(), 7, "kubectl-gitops:drift:big", b.String())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Truncated {
		t.Fatal("Truncated is false for a body three times the limit")
	}
	body := f.marked("kubectl-gitops:drift:big")[0].Body
	if n := utf8.RuneCountInString(body); n > GitHubCommentLimit || n < GitHubCommentLimit-200 {
		t.Fatalf("posted body has %d characters, want at most %d and close to it", n, GitHubCommentLimit)
	}
	if !strings.Contains(body, "**Report truncated**") || strings.Count(body, "```")%2 != 0 {
		t.Fatalf("truncated body lacks the note or leaves a code fence open:\n...%s", body[len(body)-300:])
	}
	if !utf8.ValidString(body) {
		t.Fatal("truncated body is not valid UTF-8")
	}
}

// TestUpsertCommentErrors: a bad marker or number is refused before any
// request; a forge error names the operation and never carries the token.
func TestUpsertCommentErrors(t *testing.T) {
	f, repo := newFakeComments(t, GitHub)
	ctx := context.Background()
	c := NewCommenter(repo, f.token, nil)
	if _, err := c.UpsertComment(ctx, 7, "x --><script>", "b"); err == nil {
		t.Fatal("a marker that closes the HTML comment was accepted")
	}
	if _, err := c.UpsertComment(ctx, 0, "kubectl-gitops:drift:x", "b"); err == nil {
		t.Fatal("pull request 0 was accepted")
	}
	if len(f.calls) != 0 {
		t.Fatalf("requests sent for invalid input: %v", f.calls)
	}
	_, err := NewCommenter(repo, "wrong-"+f.token, nil).UpsertComment(ctx, 7, "kubectl-gitops:drift:x", "b")
	if err == nil || !strings.HasPrefix(err.Error(), "github: commenting on pull request acme/web#7: listing comments: 401") {
		t.Fatalf("err = %v, want the operation and 401", err)
	}
	if strings.Contains(err.Error(), f.token) {
		t.Fatal("error carries the token")
	}
}
