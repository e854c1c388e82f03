package forge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Comment is a pull-request comment (GitLab: a merge-request note) that
// UpsertComment wrote.
type Comment struct {
	ID  int64
	URL string // web page, when the forge gives one
	// Updated is true when an earlier comment with the same marker was
	// edited instead of a new one added.
	Updated bool
	// Truncated is true when the body was cut to the forge's limit.
	Truncated bool
}

// Commenter keeps one comment per pull request up to date.
type Commenter interface {
	// UpsertComment makes body the comment of pull request number that
	// carries the hidden marker <!-- marker -->: the earlier comment with
	// that marker is updated, or a new one is added. A body longer than
	// the forge accepts is cut, with a note saying so.
	UpsertComment(ctx context.Context, number int, marker, body string) (Comment, error)
}

// NewCommenter returns a Commenter for repo, with the same token and
// redirect rules as New.
func NewCommenter(repo Repo, token string, httpClient *http.Client) Commenter {
	return New(repo, token, httpClient).(Commenter)
}

// Comment body limits in characters: GitHub documents 65536 for issue
// comments; GitLab notes take 1,000,000; Gitea has no documented limit, and
// is given GitHub's.
const (
	GitHubCommentLimit = 65536
	GitLabCommentLimit = 1000000
	GiteaCommentLimit  = 65536
)

// CommentLimit is the longest comment body (in characters) posted to kind.
func CommentLimit(kind Kind) int {
	switch kind {
	case GitLab:
		return GitLabCommentLimit
	case GitHub:
		return GitHubCommentLimit
	}
	return GiteaCommentLimit
}

// markerRE is what a marker may be: it goes inside an HTML comment.
var markerRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,199}$`)

// ValidMarker reports whether marker may be given to UpsertComment.
func ValidMarker(marker string) bool { return markerRE.MatchString(marker) }

// MarkerLine is the hidden first line of a comment with marker.
func MarkerLine(marker string) string { return "<!-- " + marker + " -->" }

// commentBody puts the marker line first and cuts the whole to limit
// characters at a line end, closing an open code fence and adding a note.
func commentBody(marker, body string, limit int) (string, bool) {
	full := MarkerLine(marker) + "\n" + body
	if utf8.RuneCountInString(full) <= limit {
		return full, false
	}
	total := utf8.RuneCountInString(body)
	note := func(shown int) string {
		return fmt.Sprintf("\n\n**Report truncated**: %d of %d characters shown (the forge accepts %d per comment); run the command locally, or use -o json, for the whole report.\n", shown, total, limit)
	}
	// Reserve room for the note and a closing fence.
	room := limit - utf8.RuneCountInString(MarkerLine(marker)+"\n") - utf8.RuneCountInString(note(total)) - len("\n```")
	if room < 0 {
		room = 0
	}
	cut := body
	if utf8.RuneCountInString(cut) > room {
		cut = string([]rune(cut)[:room])
	}
	if i := strings.LastIndexByte(cut, '\n'); i >= 0 {
		cut = cut[:i+1]
	}
	if strings.Count(cut, "```")%2 == 1 {
		cut += "```"
	}
	return MarkerLine(marker) + "\n" + cut + note(utf8.RuneCountInString(cut)), true
}

// note is a comment as the three forges return it.
type note struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"` // GitHub, Gitea
	System  bool   `json:"system"`   // GitLab
}

// commentsAPI is what differs between the forges' comment endpoints.
type commentsAPI struct {
	*api
	list      string // path of the list (GET) and create (POST) endpoint
	edit      func(id int64) string
	editVerb  string // PATCH (GitHub, Gitea) or PUT (GitLab)
	sizeParam string
	webURL    func(n note) string
}

func (a *commentsAPI) upsert(ctx context.Context, number int, marker, body string) (Comment, error) {
	what := "pull request"
	if a.repo.Kind == GitLab {
		what = "merge request"
	}
	op := fmt.Sprintf("%s: commenting on %s %s#%d", a.repo.Kind, what, a.repo.FullName(), number)
	if number <= 0 {
		return Comment{}, fmt.Errorf("%s: %s number must be positive", op, what)
	}
	if !markerRE.MatchString(marker) {
		return Comment{}, fmt.Errorf("%s: invalid marker %q", op, marker)
	}
	text, truncated := commentBody(marker, body, CommentLimit(a.repo.Kind))
	line := MarkerLine(marker)
	// Our earlier comments: the marker on the first line. Another user
	// may copy it; editing theirs is refused (403/404) and the next
	// candidate, or a new comment, is used.
	var candidates []note
	err := a.pages(ctx, a.list, url.Values{}, a.sizeParam, 100, func(page []byte) (int, error) {
		var notes []note
		if err := json.Unmarshal(page, &notes); err != nil {
			return 0, err
		}
		for _, n := range notes {
			first, _, _ := strings.Cut(n.Body, "\n")
			if !n.System && strings.TrimSpace(first) == line {
				candidates = append(candidates, n)
			}
		}
		return len(notes), nil
	})
	if err != nil {
		return Comment{}, fmt.Errorf("%s: listing comments: %w", op, err)
	}
	for _, n := range candidates {
		var out note
		_, err := a.do(ctx, a.editVerb, a.edit(n.ID), nil, map[string]any{"body": text}, &out)
		var ae *APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusForbidden || ae.StatusCode == http.StatusNotFound) {
			continue
		}
		if err != nil {
			return Comment{}, fmt.Errorf("%s: updating comment %d: %w", op, n.ID, err)
		}
		if out.ID == 0 {
			out.ID = n.ID
		}
		return Comment{ID: out.ID, URL: a.webURL(out), Updated: true, Truncated: truncated}, nil
	}
	var out note
	if _, err := a.do(ctx, http.MethodPost, a.list, nil, map[string]any{"body": text}, &out); err != nil {
		return Comment{}, fmt.Errorf("%s: adding comment: %w", op, err)
	}
	return Comment{ID: out.ID, URL: a.webURL(out), Truncated: truncated}, nil
}

func htmlURL(n note) string { return n.HTMLURL }

// UpsertComment: GET /repos/{owner}/{repo}/issues/{number}/comments
// (paginated), PATCH /repos/{owner}/{repo}/issues/comments/{id} or POST
// /repos/{owner}/{repo}/issues/{number}/comments.
func (c *githubClient) UpsertComment(ctx context.Context, number int, marker, body string) (Comment, error) {
	p := c.repoPath()
	return (&commentsAPI{api: c.api, list: p + "/issues/" + strconv.Itoa(number) + "/comments",
		edit:     func(id int64) string { return p + "/issues/comments/" + strconv.FormatInt(id, 10) },
		editVerb: http.MethodPatch, sizeParam: "per_page", webURL: htmlURL,
	}).upsert(ctx, number, marker, body)
}

// UpsertComment: the same paths as GitHub's (Gitea's API follows it), page
// size parameter limit.
func (c *giteaClient) UpsertComment(ctx context.Context, number int, marker, body string) (Comment, error) {
	p := c.repoPath()
	return (&commentsAPI{api: c.api, list: p + "/issues/" + strconv.Itoa(number) + "/comments",
		edit:     func(id int64) string { return p + "/issues/comments/" + strconv.FormatInt(id, 10) },
		editVerb: http.MethodPatch, sizeParam: "limit", webURL: htmlURL,
	}).upsert(ctx, number, marker, body)
}

// UpsertComment: GET /projects/:id/merge_requests/:iid/notes (paginated,
// system notes skipped), PUT .../notes/:note_id or POST .../notes.
func (c *gitlabClient) UpsertComment(ctx context.Context, number int, marker, body string) (Comment, error) {
	p := c.projectPath() + "/merge_requests/" + strconv.Itoa(number) + "/notes"
	web := c.repo.WebBase + "/" + c.repo.Owner + "/" + c.repo.Name + "/-/merge_requests/" + strconv.Itoa(number)
	return (&commentsAPI{api: c.api, list: p,
		edit:     func(id int64) string { return p + "/" + strconv.FormatInt(id, 10) },
		editVerb: http.MethodPut, sizeParam: "per_page",
		webURL: func(n note) string { return web + "#note_" + strconv.FormatInt(n.ID, 10) },
	}).upsert(ctx, number, marker, body)
}
