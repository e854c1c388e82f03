package promotion

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestMessage(t *testing.T) {
	tests := []struct {
		name string
		p    Promotion
		want string
	}{
		{
			name: "one application, as in the design",
			p: Promotion{Env: "staging", From: "dev", Apps: []AppChange{{App: "web", Old: "1.4.1", New: "1.4.2"}},
				SourceCommit: "0123abcd", Health: []string{"dev Deployment/web-dev/web healthy at 0123abcd"}},
			want: `promote(staging): web 1.4.1 → 1.4.2

Promoted-App: web
Promoted-From: dev
Promoted-To: staging
Promoted-Version: 1.4.2
Source-Commit: 0123abcd
Verified-Health: dev Deployment/web-dev/web healthy at 0123abcd
`,
		},
		{
			name: "several applications, a body, skipped gates",
			p: Promotion{Env: "prod-eu", From: "staging", Apps: []AppChange{
				{App: "web", Old: "1.4.1", New: "1.4.2"}, {App: "api", Old: "2.0.0", New: "2.1.0"}},
				SourceCommit: "feed", SkippedGates: true, Health: []string{"ignored when gates are skipped"},
				Body: "\nRelease train 42.\n\n"},
			want: `promote(prod-eu): web 1.4.1 → 1.4.2, api 2.0.0 → 2.1.0

Release train 42.

Promoted-App: web
Promoted-From: staging
Promoted-To: prod-eu
Promoted-Version: 1.4.2
Promoted-App: api
Promoted-Version: 2.1.0
Source-Commit: feed
Verified-Health: skipped (--skip-gates)
`,
		},
		{
			name: "rollback without a source, old version unknown",
			p:    Promotion{Env: "dev", Apps: []AppChange{{App: "web", New: "sha256:abc"}}, Rollback: true},
			want: `promote(dev): web sha256:abc

Promoted-App: web
Promoted-To: dev
Promoted-Version: sha256:abc
Promoted-Rollback: true
`,
		},
		{
			name: "values are folded to one line",
			p: Promotion{Env: "staging", From: "dev", Apps: []AppChange{{App: "web", Old: "1", New: "2"}},
				Health: []string{"dev Deployment/web\nhealthy\r\n  at x", "second gate"}},
			want: `promote(staging): web 1 → 2

Promoted-App: web
Promoted-From: dev
Promoted-To: staging
Promoted-Version: 2
Verified-Health: dev Deployment/web healthy at x
Verified-Health: second gate
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.p.Message()); diff != "" {
				t.Errorf("Message (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRoundTrip writes promotions as messages and reads them back the way
// History does: subject and parsed trailer block.
func TestRoundTrip(t *testing.T) {
	tests := []Promotion{
		{Env: "staging", From: "dev", Apps: []AppChange{{App: "web", Old: "1.4.1", New: "1.4.2"}}, SourceCommit: "abc",
			Health: []string{"dev Deployment/web-dev/web healthy at abc"}},
		{Env: "prod-eu", From: "staging", Apps: []AppChange{{App: "web", Old: "v1.4.1", New: "v1.4.2"}, {App: "api", Old: "2.0.0", New: "2.1.0"},
			{App: "db", New: "sha256:" + strings.Repeat("ab", 32)}}, SourceCommit: "def", SkippedGates: true},
		{Env: "prod-us", From: "staging", Apps: []AppChange{{App: "web", Old: "1.4.2", New: "1.4.1"}}, Rollback: true,
			Health: []string{"a", "b"}},
		{Env: "dev", Apps: []AppChange{{App: "web", Old: "main", New: "release/1.x"}}},
	}
	for _, want := range tests {
		t.Run(want.Subject(), func(t *testing.T) {
			if err := want.Validate(); err != nil {
				t.Fatal(err)
			}
			msg := want.Message()
			subject, rest, _ := strings.Cut(msg, "\n")
			got, ok := ParsePromotion(subject, ParseTrailers(rest))
			if !ok {
				t.Fatalf("ParsePromotion did not recognise:\n%s", msg)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePromotion(t *testing.T) {
	tests := []struct {
		name     string
		subject  string
		trailers []Trailer
		want     Promotion
		ok       bool
	}{
		{name: "not a promotion", subject: "fix: typo", trailers: []Trailer{{"Signed-off-by", "a <a@b>"}}},
		{name: "promote-like subject without apps", subject: "promote(dev): ", ok: false},
		{name: "garbled subject", subject: "promote(dev): web from 1 to 2"},
		{
			name: "keys in any case, other trailers ignored", subject: "promote(staging): web 1 → 2",
			trailers: []Trailer{{"promoted-app", "web"}, {"PROMOTED-TO", "staging"}, {"promoted-version", "2"},
				{"Signed-off-by", "x"}, {"promoted-rollback", "TRUE"}},
			want: Promotion{Env: "staging", Apps: []AppChange{{App: "web", Old: "1", New: "2"}}, Rollback: true}, ok: true,
		},
		{
			name: "trailers win over an edited subject", subject: "promote(staging): bump web",
			trailers: []Trailer{{TrailerApp, "web"}, {TrailerTo, "staging"}, {TrailerVersion, "2"}},
			want:     Promotion{Env: "staging", Apps: []AppChange{{App: "web", New: "2"}}}, ok: true,
		},
		{
			name: "trailers lost in a squash merge: the subject alone", subject: "promote(prod-eu): web 1.4.1 -> 1.4.2, api 2.1.0",
			want: Promotion{Env: "prod-eu", Apps: []AppChange{{App: "web", Old: "1.4.1", New: "1.4.2"}, {App: "api", New: "2.1.0"}}}, ok: true,
		},
		{
			name: "missing version trailer falls back on the subject", subject: "promote(staging): web 1 → 2, api 3 → 4",
			trailers: []Trailer{{TrailerApp, "web"}, {TrailerVersion, "2"}, {TrailerApp, "api"}, {TrailerTo, "staging"}},
			want:     Promotion{Env: "staging", Apps: []AppChange{{App: "web", Old: "1", New: "2"}, {App: "api", Old: "3", New: "4"}}}, ok: true,
		},
		{
			name: "app trailer without any version", subject: "chore",
			trailers: []Trailer{{TrailerApp, "web"}, {TrailerTo, "staging"}},
		},
		{
			name: "environment from the subject", subject: "promote(qa): web 1 → 2",
			trailers: []Trailer{{TrailerApp, "web"}, {TrailerVersion, "2"}},
			want:     Promotion{Env: "qa", Apps: []AppChange{{App: "web", Old: "1", New: "2"}}}, ok: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParsePromotion(tt.subject, tt.trailers)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tt.ok, got)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParsePromotion (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPromotionValidate(t *testing.T) {
	good := func() Promotion {
		return Promotion{Env: "staging", From: "dev", Apps: []AppChange{{App: "web", Old: "1", New: "2"}}}
	}
	tests := []struct {
		name   string
		change func(*Promotion)
		want   string // "" for valid
	}{
		{"valid", func(*Promotion) {}, ""},
		{"no env", func(p *Promotion) { p.Env = "" }, "environment is empty"},
		{"no apps", func(p *Promotion) { p.Apps = nil }, "no applications"},
		{"no new version", func(p *Promotion) { p.Apps[0].New = "" }, "new version of web is empty"},
		{"version with a space", func(p *Promotion) { p.Apps[0].New = "1 2" }, `new version of web "1 2" must not contain white space or commas`},
		{"version with a comma", func(p *Promotion) { p.Apps[0].Old = "1,2" }, `old version of web "1,2" must not contain white space or commas`},
		{"health with a newline", func(p *Promotion) { p.Health = []string{"a\nb"} }, "health must be a single line"},
		{"commit with a newline", func(p *Promotion) { p.SourceCommit = "a\n" }, "source commit must be a single line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good()
			tt.change(&p)
			err := p.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "invalid promotion: ") {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
	err := (Promotion{}).Validate()
	if err == nil || !strings.Contains(err.Error(), "environment is empty") || !strings.Contains(err.Error(), "no applications") {
		t.Errorf("the zero promotion: %v, want every problem", err)
	}
}
