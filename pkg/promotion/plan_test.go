package promotion

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// examplePipeline is testdata/pipeline.yaml: dev → staging → prod-eu and
// prod-us (a fan-out; prod-us lives on its own branch).
func examplePipeline(t *testing.T) *Pipeline {
	t.Helper()
	p, err := Load("testdata/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func exampleVersions() Versions {
	return Versions{
		"dev":     {"web": "1.5.0", "api": "3.0.0"},
		"staging": {"web": "1.4.2", "api": "3.0.0"},
		"prod-eu": {"web": "1.4.1", "api": "2.9.0"},
		"prod-us": {"web": "1.4.2", "api": digest},
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want Relation
	}{
		{"1.4.2", "1.4.1", Newer},
		{"1.4.1", "1.4.2", Older},
		{"v1.10.0", "v1.9.0", Newer},
		{"1.4.2-rc.1", "1.4.2", Older},
		{"1.4.2", "1.4.2", Same},
		{"v1.4.2", "1.4.2", Unordered}, // the same version, two different tags
		{digest, "1.4.2", Unordered},
		{"latest", "1.4.2", Unordered},
		{"", "1.4.2", Missing},
		{"1.4.2", "", Missing},
	}
	for _, tt := range tests {
		if got := Compare(tt.a, tt.b); got != tt.want {
			t.Errorf("Compare(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestStatuses(t *testing.T) {
	p := examplePipeline(t)
	v := exampleVersions()
	delete(v["prod-eu"], "api")
	want := []Status{
		{App: "web", Env: "dev", Version: "1.5.0"},
		{App: "web", Env: "staging", Version: "1.4.2", Source: "dev", SourceVersion: "1.5.0", Relation: Newer, Pending: true},
		{App: "web", Env: "prod-eu", Version: "1.4.1", Source: "staging", SourceVersion: "1.4.2", Relation: Newer, Pending: true},
		{App: "web", Env: "prod-us", Version: "1.4.2", Source: "staging", SourceVersion: "1.4.2", Relation: Same},
		{App: "api", Env: "dev", Version: "3.0.0"},
		{App: "api", Env: "staging", Version: "3.0.0", Source: "dev", SourceVersion: "3.0.0", Relation: Same},
		{App: "api", Env: "prod-eu", Source: "staging", SourceVersion: "3.0.0", Relation: Missing},
		{App: "api", Env: "prod-us", Version: digest, Source: "staging", SourceVersion: "3.0.0", Relation: Unordered, Pending: true},
	}
	if diff := cmp.Diff(want, Statuses(p, v)); diff != "" {
		t.Errorf("Statuses (-want +got):\n%s", diff)
	}
	// A source older than its target is not pending.
	v["staging"]["web"] = "1.6.0"
	for _, s := range Statuses(p, v) {
		if s.App == "web" && s.Env == "staging" && (s.Pending || s.Relation != Older) {
			t.Errorf("staging ahead of dev: %+v", s)
		}
	}
}

func TestPlanPromotion(t *testing.T) {
	p := examplePipeline(t)
	web, _ := p.App("web")
	api, _ := p.App("api")
	changes := func(branch, dir string, app *Application) []Change {
		var out []Change
		for _, loc := range app.Versions {
			out = append(out, Change{Branch: branch, Path: dir + "/" + loc.File, Location: loc})
		}
		return out
	}
	tests := []struct {
		name     string
		versions func(Versions)
		req      Request
		want     []Step
		errs     []error  // each must match with errors.Is
		messages []string // each must appear in the error
	}{
		{
			name: "from the pipeline's source",
			req:  Request{Apps: []string{"web"}, To: "staging"},
			want: []Step{{App: "web", From: "dev", To: "staging", Old: "1.4.2", New: "1.5.0", SourceVersion: "1.5.0", Relation: Newer,
				Changes: changes("", "envs/staging", web)}},
		},
		{
			name: "fan-out: prod-eu from staging",
			req:  Request{To: "prod-eu"},
			want: []Step{
				{App: "web", From: "staging", To: "prod-eu", Old: "1.4.1", New: "1.4.2", SourceVersion: "1.4.2", Relation: Newer, Changes: changes("", "envs/prod-eu", web)},
				{App: "api", From: "staging", To: "prod-eu", Old: "2.9.0", New: "3.0.0", SourceVersion: "3.0.0", Relation: Newer, Changes: changes("", "envs/prod-eu", api)},
			},
		},
		{
			name: "fan-out: prod-us from staging, on its branch; web is already there, the digest cannot be ordered",
			req:  Request{To: "prod-us"},
			want: []Step{{App: "api", From: "staging", To: "prod-us", Old: digest, New: "3.0.0", SourceVersion: "3.0.0", Relation: Unordered,
				Changes: changes("env/prod-us", "clusters/us", api)}},
		},
		{
			name:     "no-op",
			req:      Request{Apps: []string{"web"}, To: "prod-us"},
			errs:     []error{ErrNoChange},
			messages: []string{"planning promotion to prod-us: prod-us already has web 1.4.2"},
		},
		{
			name:     "no-op for every application",
			versions: func(v Versions) { v["prod-us"]["api"] = "3.0.0" },
			req:      Request{To: "prod-us"},
			errs:     []error{ErrNoChange},
			messages: []string{"prod-us already has web 1.4.2, api 3.0.0"},
		},
		{
			name:     "downgrade refused",
			req:      Request{Apps: []string{"web"}, To: "prod-eu", Version: "1.4.0"},
			errs:     []error{ErrDowngrade},
			messages: []string{"web 1.4.1 → 1.4.0 in prod-eu is a downgrade"},
		},
		{
			name:     "source older than target: a downgrade too",
			versions: func(v Versions) { v["staging"]["web"] = "1.3.0" },
			req:      Request{Apps: []string{"web"}, To: "prod-eu"},
			errs:     []error{ErrDowngrade},
		},
		{
			name: "downgrade allowed",
			req:  Request{Apps: []string{"web"}, To: "prod-eu", Version: "1.4.0", AllowDowngrade: true},
			want: []Step{{App: "web", From: "staging", To: "prod-eu", Old: "1.4.1", New: "1.4.0", SourceVersion: "1.4.2", Relation: Older,
				Changes: changes("", "envs/prod-eu", web)}},
		},
		{
			name: "skip a stage with from",
			req:  Request{Apps: []string{"web"}, To: "prod-eu", From: "dev"},
			want: []Step{{App: "web", From: "dev", To: "prod-eu", Old: "1.4.1", New: "1.5.0", SourceVersion: "1.5.0", Relation: Newer,
				Changes: changes("", "envs/prod-eu", web)}},
		},
		{
			name: "a version into the first environment",
			req:  Request{Apps: []string{"web"}, To: "dev", Version: "1.6.0"},
			want: []Step{{App: "web", To: "dev", Old: "1.5.0", New: "1.6.0", Relation: Newer, Changes: changes("", "envs/dev", web)}},
		},
		{
			name:     "the first environment needs a version",
			req:      Request{Apps: []string{"web"}, To: "dev"},
			errs:     []error{ErrNoSource},
			messages: []string{"dev is the first environment: give the version to promote"},
		},
		{
			name:     "unknown environment",
			req:      Request{To: "prd-eu"},
			errs:     []error{ErrUnknownEnv},
			messages: []string{`unknown environment "prd-eu" (did you mean "prod-eu"?)`},
		},
		{
			name:     "unknown source",
			req:      Request{To: "prod-eu", From: "qa"},
			errs:     []error{ErrUnknownEnv},
			messages: []string{`unknown environment "qa"`},
		},
		{
			name:     "from a sibling",
			req:      Request{To: "prod-eu", From: "prod-us"},
			errs:     []error{ErrNotUpstream},
			messages: []string{"prod-eu cannot promote from prod-us (its sources: staging, dev)"},
		},
		{
			name:     "from into the first environment",
			req:      Request{To: "dev", From: "staging", Version: "1.0.0"},
			errs:     []error{ErrNotUpstream},
			messages: []string{"dev cannot promote from staging: it is the first environment"},
		},
		{
			name:     "invalid version",
			req:      Request{Apps: []string{"web"}, To: "staging", Version: "1.0 beta"},
			errs:     []error{ErrInvalidVersion},
			messages: []string{`invalid version "1.0 beta"`},
		},
		{
			name:     "no version in the source",
			versions: func(v Versions) { delete(v["dev"], "web") },
			req:      Request{Apps: []string{"web"}, To: "staging"},
			errs:     []error{ErrNoVersion},
			messages: []string{"web has no version in dev"},
		},
		{
			name:     "no version in the target",
			versions: func(v Versions) { delete(v["staging"], "web") },
			req:      Request{Apps: []string{"web"}, To: "staging"},
			errs:     []error{ErrNoVersion},
			messages: []string{"web has no version in staging (is it deployed there?)"},
		},
		{
			name:     "every application skips those not deployed",
			versions: func(v Versions) { delete(v["staging"], "web") },
			req:      Request{To: "prod-eu"},
			want: []Step{{App: "api", From: "staging", To: "prod-eu", Old: "2.9.0", New: "3.0.0", SourceVersion: "3.0.0", Relation: Newer,
				Changes: changes("", "envs/prod-eu", api)}},
		},
		{
			name:     "all problems at once",
			req:      Request{Apps: []string{"wbe", "web", "api"}, To: "prod-eu", Version: "2.0.0"},
			errs:     []error{ErrUnknownApp, ErrDowngrade},
			messages: []string{`unknown application "wbe" (did you mean "web"?)`, "api 2.9.0 → 2.0.0 in prod-eu is a downgrade"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := exampleVersions()
			if tt.versions != nil {
				tt.versions(v)
			}
			steps, err := PlanPromotion(p, v, tt.req)
			if diff := cmp.Diff(tt.want, steps); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if len(tt.errs) == 0 && err != nil {
				t.Fatalf("PlanPromotion: %v", err)
			}
			if len(tt.errs) > 0 && err == nil {
				t.Fatalf("PlanPromotion succeeded, want %v", tt.errs)
			}
			for _, want := range tt.errs {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %v", err, want)
				}
			}
			for _, want := range tt.messages {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			var pe *PlanError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("error %q holds no *PlanError", err)
			}
		})
	}
}

func TestValidVersion(t *testing.T) {
	for _, v := range []string{"1.4.2", "v1.4.2", digest, "main", "release/1.x", "1.0.0+build.7", "web_2026-01-01"} {
		if err := ValidVersion(v); err != nil {
			t.Errorf("ValidVersion(%q) = %v", v, err)
		}
	}
	for _, v := range []string{"", " 1.0", "1.0\n", "-rf", "a,b", "tag;rm", strings.Repeat("a", 256), "6.x", "1.2.x", "*", "^1.2.3"} {
		if err := ValidVersion(v); !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("ValidVersion(%q) = %v, want ErrInvalidVersion", v, err)
		}
	}
}

// TestPlanRange checks that a semver range is never promoted as a version
// nor replaced by one, and that the refusal says where the range is written
// and what to do.
func TestPlanRange(t *testing.T) {
	p := examplePipeline(t)
	origins := Origins{
		"dev":     {"api": "envs/dev/api/helmrelease.yaml:9:16"},
		"staging": {"api": "envs/staging/api/helmrelease.yaml:9:16"},
	}
	tests := []struct {
		name     string
		dev, stg string // api's versions
		req      Request
		want     []string // substrings of the error; none: the plan succeeds
	}{
		{name: "source holds >= range", dev: ">=1.0.0-alpha", stg: "1.0.0", req: Request{To: "staging", Apps: []string{"api"}},
			want: []string{`api in dev is the semver range ">=1.0.0-alpha" at envs/dev/api/helmrelease.yaml:9:16, not a version`, "pin the version api runs in dev", "--version"}},
		{name: "source holds x range", dev: "6.x", stg: "6.0.0", req: Request{To: "staging", Apps: []string{"api"}},
			want: []string{`api in dev is the semver range "6.x"`}},
		{name: "source holds tilde range", dev: "~1.2", stg: "1.2.0", req: Request{To: "staging"},
			want: []string{`"~1.2"`, "not a version"}},
		{name: "source holds caret range", dev: "^1.2.3", stg: "1.2.3", req: Request{To: "staging", Apps: []string{"api"}},
			want: []string{`"^1.2.3"`}},
		{name: "source holds star", dev: "*", stg: "1.2.3", req: Request{To: "staging", Apps: []string{"api"}},
			want: []string{`"*"`}},
		{name: "explicit version over a source range", dev: "6.x", stg: "6.0.0", req: Request{To: "staging", Apps: []string{"api"}, Version: "6.1.0"}},
		{name: "target holds a range", dev: "6.1.0", stg: "6.x", req: Request{To: "staging", Apps: []string{"api"}},
			want: []string{`api in staging is the semver range "6.x" at envs/staging/api/helmrelease.yaml:9:16`, "pin a version there by hand first"}},
		{name: "explicit version over a target range", dev: "6.1.0", stg: "6.x", req: Request{To: "staging", Apps: []string{"api"}, Version: "6.1.0"},
			want: []string{`api in staging is the semver range "6.x"`}},
		{name: "versions", dev: "6.1.0", stg: "6.0.0", req: Request{To: "staging", Apps: []string{"api"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := exampleVersions()
			v["dev"]["api"], v["staging"]["api"] = tt.dev, tt.stg
			v["dev"]["web"] = v["staging"]["web"] // web has nothing to promote
			tt.req.Origins = origins
			steps, err := PlanPromotion(p, v, tt.req)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("PlanPromotion: %v", err)
				}
				if len(steps) != 1 || strings.ContainsAny(steps[0].New, "x*^~>") {
					t.Fatalf("steps = %+v", steps)
				}
				return
			}
			if !errors.Is(err, ErrRange) {
				t.Fatalf("PlanPromotion = %+v, %v; want ErrRange", steps, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
