package forge

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRemote(t *testing.T) {
	t.Parallel()
	gh := func(owner, name string) Repo {
		return Repo{Kind: GitHub, APIBase: "https://api.github.com", WebBase: "https://github.com", Owner: owner, Name: name}
	}
	tests := []struct {
		name     string
		remote   string
		override Config
		want     Repo
		wantErr  string
	}{
		{name: "github https", remote: "https://github.com/acme/web.git", want: gh("acme", "web")},
		{name: "github https without .git, trailing slash", remote: "https://github.com/acme/web/", want: gh("acme", "web")},
		{name: "github https with token userinfo", remote: "https://x-access-token:ghp_secret@github.com/acme/web.git", want: gh("acme", "web")},
		{name: "github scp-like", remote: "git@github.com:acme/web.git", want: gh("acme", "web")},
		{name: "github scp-like without user", remote: "github.com:acme/web", want: gh("acme", "web")},
		{name: "github ssh", remote: "ssh://git@github.com/acme/web.git", want: gh("acme", "web")},
		{name: "github ssh over 443", remote: "ssh://git@ssh.github.com:443/acme/web.git", want: gh("acme", "web")},
		{name: "github git+ssh", remote: "git+ssh://git@github.com/acme/web", want: gh("acme", "web")},
		{name: "github mixed-case host", remote: "https://GitHub.com/acme/web", want: gh("acme", "web")},
		{
			name: "github enterprise by kind", remote: "git@ghe.acme.corp:platform/web.git", override: Config{Kind: GitHub},
			want: Repo{Kind: GitHub, APIBase: "https://ghe.acme.corp/api/v3", WebBase: "https://ghe.acme.corp", Owner: "platform", Name: "web"},
		},
		{
			name: "github enterprise API URL given", remote: "git@ghe.acme.corp:platform/web.git", override: Config{Kind: "GitHub", URL: "https://ghe.acme.corp/api/v3/"},
			want: Repo{Kind: GitHub, APIBase: "https://ghe.acme.corp/api/v3", WebBase: "https://ghe.acme.corp", Owner: "platform", Name: "web"},
		},
		{
			name: "github api URL given", remote: "git@github.com:acme/web.git", override: Config{URL: "https://api.github.com"},
			want: gh("acme", "web"),
		},
		{
			name: "gitlab.com https subgroups", remote: "https://gitlab.com/acme/platform/apps/web.git",
			want: Repo{Kind: GitLab, APIBase: "https://gitlab.com/api/v4", WebBase: "https://gitlab.com", Owner: "acme", Name: "platform/apps/web"},
		},
		{
			name: "gitlab.com scp-like subgroup", remote: "git@gitlab.com:acme/platform/web.git",
			want: Repo{Kind: GitLab, APIBase: "https://gitlab.com/api/v4", WebBase: "https://gitlab.com", Owner: "acme", Name: "platform/web"},
		},
		{
			name: "self-hosted gitlab guessed, ssh port dropped from web URL", remote: "ssh://git@gitlab.acme.corp:2222/group/sub/proj.git",
			want: Repo{Kind: GitLab, APIBase: "https://gitlab.acme.corp/api/v4", WebBase: "https://gitlab.acme.corp", Owner: "group", Name: "sub/proj"},
		},
		{
			name: "gitlab under a sub-path", remote: "https://code.acme.corp/gitlab/group/proj.git", override: Config{Kind: GitLab, URL: "https://code.acme.corp/gitlab"},
			want: Repo{Kind: GitLab, APIBase: "https://code.acme.corp/gitlab/api/v4", WebBase: "https://code.acme.corp/gitlab", Owner: "group", Name: "proj"},
		},
		{
			name: "gitea http with port kept", remote: "http://gitops:pw@127.0.0.1:3000/gitops/envs.git", override: Config{Kind: Gitea},
			want: Repo{Kind: Gitea, APIBase: "http://127.0.0.1:3000/api/v1", WebBase: "http://127.0.0.1:3000", Owner: "gitops", Name: "envs"},
		},
		{
			name: "forgejo alias, URL overrides the ssh host", remote: "git@127.0.0.1:gitops/envs.git", override: Config{Kind: "forgejo", URL: "http://127.0.0.1:3000"},
			want: Repo{Kind: Gitea, APIBase: "http://127.0.0.1:3000/api/v1", WebBase: "http://127.0.0.1:3000", Owner: "gitops", Name: "envs"},
		},
		{
			name: "gitea guessed from host", remote: "https://gitea.acme.corp/ops/envs",
			want: Repo{Kind: Gitea, APIBase: "https://gitea.acme.corp/api/v1", WebBase: "https://gitea.acme.corp", Owner: "ops", Name: "envs"},
		},
		{
			name: "kind guessed from the configured URL's host", remote: "git@10.0.0.5:ops/envs.git", override: Config{URL: "https://forgejo.acme.corp/"},
			want: Repo{Kind: Gitea, APIBase: "https://forgejo.acme.corp/api/v1", WebBase: "https://forgejo.acme.corp", Owner: "ops", Name: "envs"},
		},
		{
			name: "codeberg", remote: "https://codeberg.org/ops/envs.git",
			want: Repo{Kind: Gitea, APIBase: "https://codeberg.org/api/v1", WebBase: "https://codeberg.org", Owner: "ops", Name: "envs"},
		},
		{name: "unknown host needs a kind", remote: "https://git.acme.corp/ops/envs.git", wantErr: "cannot tell which forge serves git.acme.corp"},
		{name: "unknown kind", remote: "https://github.com/acme/web", override: Config{Kind: "bitbucket"}, wantErr: `unknown forge type "bitbucket"`},
		{name: "local path", remote: "/srv/git/envs.git", wantErr: "local path"},
		{name: "relative path", remote: "../envs", wantErr: "local path"},
		{name: "file URL", remote: "file:///srv/git/envs.git", wantErr: "file URLs do not point at a forge"},
		{name: "empty", remote: "", wantErr: "empty remote URL"},
		{name: "no name", remote: "https://github.com/acme", wantErr: "not an owner/name repository path"},
		{name: "subgroups on github", remote: "https://github.com/acme/web/extra", wantErr: "only GitLab has subgroups"},
		{name: "bad forge URL", remote: "https://github.com/acme/web", override: Config{URL: "ftp://example.com"}, wantErr: "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRemote(tt.remote, tt.override)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRemote(%q) error = %v, want it to contain %q", tt.remote, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRemote(%q): %v", tt.remote, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRemote(%q) (-want +got):\n%s", tt.remote, diff)
			}
		})
	}
}

func TestParseRemoteNeverLeaksCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		remote string
		cfg    Config
	}{
		{"https://user:s3cr3t@git.acme.corp/ops/envs.git", Config{}},                        // unknown forge
		{"https://user:s3cr3t@git.acme.corp/ops", Config{Kind: Gitea}},                      // no name
		{"https://oauth2:s3cr3t@gitlab.acme.corp/a/b/../c", Config{}},                       // bad path
		{"https://user:s3cr3t@github.com/acme/web/x", Config{}},                             // subgroups on GitHub
		{"https://github.com/acme/web", Config{Kind: Gitea, URL: "ftp://u:s3cr3t@x"}},       // bad forge URL
		{"https://user:s3cr3t@github.com/acme/web", Config{Kind: "svn"}},                    // bad kind
		{"https://user:s3cr3t@git.acme.corp/ops/envs", Config{URL: "https://u:s3cr3t@x.y"}}, // unknown forge
		{"https://user:s3cr3t?#@git.acme.corp/ops", Config{Kind: Gitea}},                    // "?" and "#" in the password
	}
	for _, tt := range tests {
		_, err := ParseRemote(tt.remote, tt.cfg)
		if err == nil {
			t.Fatalf("ParseRemote(%q, %+v) succeeded, want an error", tt.remote, tt.cfg)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error leaks the credential: %v", err)
		}
	}
}

func TestCompareURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		repo Repo
		want string
	}{
		{
			name: "github",
			repo: Repo{Kind: GitHub, WebBase: "https://github.com", Owner: "acme", Name: "web"},
			want: "https://github.com/acme/web/compare/main...promote/prod/web-1.2.3?expand=1",
		},
		{
			name: "gitlab with subgroups",
			repo: Repo{Kind: GitLab, WebBase: "https://gitlab.com", Owner: "acme", Name: "platform/web"},
			want: "https://gitlab.com/acme/platform/web/-/merge_requests/new?merge_request[source_branch]=promote/prod/web-1.2.3&merge_request[target_branch]=main",
		},
		{
			name: "gitea",
			repo: Repo{Kind: Gitea, WebBase: "http://127.0.0.1:3000", Owner: "gitops", Name: "envs"},
			want: "http://127.0.0.1:3000/gitops/envs/compare/main...promote/prod/web-1.2.3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := CompareURL(tt.repo, "main", "promote/prod/web-1.2.3"); got != tt.want {
				t.Errorf("CompareURL =\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
	t.Run("escapes", func(t *testing.T) {
		t.Parallel()
		repo := Repo{Kind: GitLab, WebBase: "https://gitlab.com", Owner: "acme", Name: "web"}
		got := CompareURL(repo, "main", "promote/prod/web+build 1&x")
		want := "https://gitlab.com/acme/web/-/merge_requests/new?merge_request[source_branch]=promote/prod/web%2Bbuild+1%26x&merge_request[target_branch]=main"
		if got != want {
			t.Errorf("CompareURL =\n %s\nwant\n %s", got, want)
		}
		repo.Kind = GitHub
		got = CompareURL(repo, "main", "feat/a b#c")
		want = "https://gitlab.com/acme/web/compare/main...feat/a%20b%23c?expand=1"
		if got != want {
			t.Errorf("CompareURL =\n %s\nwant\n %s", got, want)
		}
	})
}

func TestParseKind(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Kind{"github": GitHub, "GitLab": GitLab, "gitea": Gitea, " Forgejo ": Gitea} {
		if got, err := ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseKind(""); err == nil {
		t.Error("ParseKind(\"\") succeeded, want an error")
	}
}
