package gitrepo

import "testing"

// TestRedactURLTable: the one URL redactor, over every form a repository
// URL takes in text: scheme URLs with user information, scp-like
// addresses with a password (user:pw@host:path, the password possibly
// holding "@"), query tokens; an scp-like user name alone, an image
// reference name:tag@sha256:…, and text that is no URL, stay.
func TestRedactURLTable(t *testing.T) {
	const c = "canary-s3cr3t-7f3a"
	tests := []struct{ in, want string }{
		{"https://u:" + c + "@host/r.git", "https://host/r.git"},
		{"ssh://git:" + c + "@host/r.git", "ssh://host/r.git"},
		{"git@github.com:org/r.git", "git@github.com:org/r.git"},
		{"github.com:org/r.git", "github.com:org/r.git"},
		{"user:" + c + "@github.com:org/r.git", "github.com:org/r.git"},
		{"user:p@ss" + c + "@github.com:org/r.git", "github.com:org/r.git"},
		{"user:p/" + c + "@github.com:org/r.git", "github.com:org/r.git"},
		{`fatal: unable to access 'user:` + c + `@git.example.com:org/r.git': denied`, `fatal: unable to access 'git.example.com:org/r.git': denied`},
		{"repoURL=user:" + c + "@git.example.com:org/r.git and git@h:x", "repoURL=git.example.com:org/r.git and git@h:x"},
		{"a:b and c@d:e", "a:b and c@d:e"},
		{"https://h/x?token=" + c + "&ref=main", "https://h/x?token=***&ref=main"},
		{"time 12:30 user@host", "time 12:30 user@host"},
		{"image nginx:1.25@sha256:0123abcd and u:" + c + "@h:r", "image nginx:1.25@sha256:0123abcd and h:r"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
