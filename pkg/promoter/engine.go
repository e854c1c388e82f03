package promoter

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/versionedit"
)

// Errors of the engine, for errors.Is.
var (
	// ErrGate is a promotion refused by a gate (health, soak, checks, drift).
	ErrGate = errors.New("promotion gate failed")
	// ErrNoHealth is an application without a health target, so no gate
	// can check it.
	ErrNoHealth = errors.New("no health target")
	// ErrNoHistory is a rollback without an earlier version to go back to.
	ErrNoHistory = errors.New("no earlier version")
	// ErrChangedMeanwhile is a target whose version changed on the remote
	// between planning and committing (another promotion landed): nothing
	// was pushed; running again plans on the new version.
	ErrChangedMeanwhile = errors.New("target changed meanwhile")
)

// Engine promotes versions in one Git repository. Its fields are the seams
// to the outside: the repository (the real git CLI), the clusters of the
// environments, the forge, and a drift check.
type Engine struct {
	Repo     *gitrepo.Repo
	Pipeline *promotion.Pipeline
	// Cluster returns a reader for the cluster of an environment (its
	// context); nil when no environment is checked live.
	Cluster func(ctx context.Context, env *promotion.Environment) (cluster.Reader, error)
	// DefaultNamespace, when set, is the namespace of an environment that
	// sets none (its kube context's): the default namespace of its workload
	// health gate and of its drift check. Called only for live reads.
	DefaultNamespace func(ctx context.Context, env *promotion.Environment) (string, error)
	// Forge returns the forge client and repository; called only for
	// pull requests and required checks. A nil client (no token) makes pull
	// requests fall back to printing a compare URL.
	Forge func(ctx context.Context) (forge.Client, forge.Repo, error)
	// Drift, when set, reports the drift of an environment at a commit (the
	// drift engine on the environment's directory): a one-line summary when
	// drifted, "" when in sync.
	Drift func(ctx context.Context, env *promotion.Environment, commit string) (string, error)
	// Progress receives one line per step (for stderr); may be nil.
	Progress func(format string, args ...any)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Retries bounds push retries after a rejection (default
	// gitrepo.DefaultRetries).
	Retries int

	// missing are the environment branches the last Fetch did not find on
	// the remote.
	missing map[string]bool
	// origins are where the last Versions read each version.
	origins promotion.Origins
}

// Options are the switches of one promotion.
type Options struct {
	promotion.Request
	// DryRun stops after planning and computing the diff.
	DryRun bool
	// SkipGates skips every live gate (recorded in the commit).
	SkipGates bool
	// AllowDrift lets a drifted source environment promote.
	AllowDrift bool
	// Rollback marks the promotion as a rollback.
	Rollback bool
	// ResolveRange promotes, for an application whose source holds a
	// semver range, the chart version the source's Flux HelmRelease runs
	// (see resolveRange) instead of refusing.
	ResolveRange bool
}

// FileDiff is the change of one file.
type FileDiff struct {
	Branch, Path string
	Old, New     []byte
}

// Gate is the verdict of one gate.
type Gate struct {
	App, Env string
	// Name is "health", "soak", "checks" or "drift".
	Name   string
	Passed bool
	Detail string
}

// Outcome is what a promotion did.
type Outcome struct {
	Env       string
	Policy    promotion.Policy
	Steps     []promotion.Step
	Files     []FileDiff
	Gates     []Gate
	Promotion promotion.Promotion
	// Commit and Branch are the pushed commit and the remote branch it is on.
	Commit, Branch string
	// PullRequest is set for pull-request stages with a forge token;
	// CompareURL without one.
	PullRequest *forge.PullRequest
	CompareURL  string
	// Attempts is the number of pushes (more than 1 after races).
	Attempts int
	// AlreadyPushed says a pull-request branch carrying this very change
	// was on the remote already (a second run for the same version): it
	// was reused, nothing new was pushed.
	AlreadyPushed bool
	// FastForwarded says the user's checkout was brought up to date.
	FastForwarded bool
	DryRun        bool
}

func (e *Engine) logf(format string, args ...any) {
	if e.Progress != nil {
		e.Progress(format, args...)
	}
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) remote() string {
	if e.Pipeline.Remote != "" {
		return e.Pipeline.Remote
	}
	return promotion.DefaultRemote
}

// branchOf returns the branch an environment's files live on.
func (e *Engine) branchOf(env *promotion.Environment) string {
	if env.Branch != "" {
		return env.Branch
	}
	return e.Pipeline.Branch
}

// ref is the remote-tracking ref of an environment's branch.
func (e *Engine) ref(env *promotion.Environment) string {
	return "refs/remotes/" + e.remote() + "/" + e.branchOf(env)
}

// Preflight refuses a checkout unfit for a promotion: detached HEAD, dirty
// tree, missing remote, or another branch than the pipeline's (when some
// environment lives on it). It changes nothing.
func (e *Engine) Preflight(ctx context.Context) error {
	if err := e.ResolveBranch(ctx); err != nil {
		return err
	}
	want := ""
	for _, env := range e.Pipeline.Environments {
		if !env.BranchPerEnv() {
			want = e.Pipeline.Branch
		}
	}
	return e.Repo.Preflight(ctx, e.remote(), want)
}

// ResolveBranch sets the pipeline's branch, when the file gives none, to
// the remote's HEAD branch. It reads only: the checkout may be dirty or on
// another branch (status and history need no more).
func (e *Engine) ResolveBranch(ctx context.Context) error {
	if e.Pipeline.Branch != "" {
		return nil
	}
	if err := e.Repo.RequireRemote(ctx, e.remote()); err != nil {
		return err
	}
	b, err := e.Repo.DefaultBranch(ctx, e.remote())
	if err != nil {
		return fmt.Errorf("finding the branch of the pipeline (set branch: in %s): %w", e.Pipeline.File, err)
	}
	e.Pipeline.Branch = b
	return nil
}

// Fetch brings every environment's branch up to date.
func (e *Engine) Fetch(ctx context.Context) error {
	seen := map[string]bool{}
	var specs []string
	for _, env := range e.Pipeline.Environments {
		b := e.branchOf(env)
		if seen[b] {
			continue
		}
		seen[b] = true
		specs = append(specs, "+refs/heads/"+b+":refs/remotes/"+e.remote()+"/"+b)
	}
	e.logf("fetching %s", e.remote())
	// Repo.Fetch names the remote in its errors ("fetching from origin: …").
	err := e.Repo.Fetch(ctx, e.remote(), specs...)
	if err == nil || ctx.Err() != nil || len(specs) == 1 || !missingRemoteRef(err) {
		return err
	}
	// One environment's branch does not exist yet (a branch-per-environment
	// pipeline being set up): fetch the others, and leave that one out.
	e.missing = map[string]bool{}
	for _, spec := range specs {
		err := e.Repo.Fetch(ctx, e.remote(), spec)
		if err == nil {
			continue
		}
		if !missingRemoteRef(err) {
			return err
		}
		b := strings.TrimPrefix(strings.SplitN(spec, ":", 2)[0], "+refs/heads/")
		e.missing[b] = true
		var envs []string
		for _, env := range e.Pipeline.Environments {
			if e.branchOf(env) == b {
				envs = append(envs, env.Name)
			}
		}
		e.logf("warning: branch %s (%s) does not exist on %s", b, strings.Join(envs, ", "), e.remote())
	}
	return nil
}

// missingRemoteRef reports a fetch that failed because a branch does not
// exist on the remote.
func missingRemoteRef(err error) bool {
	return strings.Contains(err.Error(), "couldn't find remote ref")
}

// EditLocation converts a pipeline location to the editor's.
func EditLocation(l promotion.Location) versionedit.Location {
	return versionedit.Location{
		KustomizeImage: l.KustomizeImage, HelmValues: l.HelmValues, HelmReleaseChart: l.HelmReleaseChart,
		OCIRepository: l.OCIRepository, HelmChart: l.HelmChart, ArgoTargetRevision: l.ArgoTargetRevision, Setter: l.Setter,
	}
}

// Versions reads every application's version of record in every
// environment from the fetched remote branches. Environments where an
// application's file is absent have no entry for it.
func (e *Engine) Versions(ctx context.Context) (promotion.Versions, error) {
	out := promotion.Versions{}
	e.origins = promotion.Origins{}
	for _, env := range e.Pipeline.Environments {
		out[env.Name] = map[string]string{}
		e.origins[env.Name] = map[string]string{}
		for _, app := range e.Pipeline.Applications {
			v, at, err := e.readVersionAt(ctx, env, app)
			if errors.Is(err, gitrepo.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if v != "" {
				out[env.Name][app.Name] = v
				e.origins[env.Name][app.Name] = at
			}
		}
	}
	return out, nil
}

func (e *Engine) readVersion(ctx context.Context, env *promotion.Environment, app *promotion.Application) (string, error) {
	v, _, err := e.readVersionAt(ctx, env, app)
	return v, err
}

// readVersionAt is readVersion that also says where the version is written,
// as "file:line:column".
func (e *Engine) readVersionAt(ctx context.Context, env *promotion.Environment, app *promotion.Application) (version, at string, err error) {
	if e.missing[e.branchOf(env)] {
		return "", "", fmt.Errorf("branch %s of %s: %w", e.branchOf(env), env.Name, gitrepo.ErrNotFound)
	}
	loc := app.Versions[0]
	file := env.FilePath(loc)
	data, err := e.Repo.ShowFile(ctx, e.ref(env), file)
	if err != nil {
		return "", "", fmt.Errorf("reading %s of %s in %s: %w", file, app.Name, env.Name, err)
	}
	found, err := versionedit.Read(data, EditLocation(loc))
	if errors.Is(err, versionedit.ErrNotFound) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("%s (%s, branch %s): %w", file, loc, e.branchOf(env), err)
	}
	if len(found) == 0 {
		return "", "", nil
	}
	return found[0].Version, fmt.Sprintf("%s:%d:%d", file, found[0].Line, found[0].Column), nil
}

// sourceCommit is the last commit of env's branch that touched the file
// holding app's version of record.
func (e *Engine) sourceCommit(ctx context.Context, env *promotion.Environment, app *promotion.Application) (string, error) {
	c, err := e.Repo.LastCommitTouching(ctx, e.ref(env), env.FilePath(app.Versions[0]))
	if err != nil {
		return "", fmt.Errorf("finding the commit of %s in %s: %w", app.Name, env.Name, err)
	}
	return c, nil
}

// Promote plans and, unless opts.DryRun, performs a promotion: gates, then
// one commit for every application, pushed under the target environment's
// policy. A refused gate is an error matching ErrGate, returned with the
// outcome (whose Gates say why); nothing is written then.
func (e *Engine) Promote(ctx context.Context, opts Options) (*Outcome, error) {
	if err := e.Preflight(ctx); err != nil {
		return nil, err
	}
	if err := e.Fetch(ctx); err != nil {
		return nil, err
	}
	current, err := e.Versions(ctx)
	if err != nil {
		return nil, err
	}
	req := opts.Request
	req.Origins = e.origins
	if opts.ResolveRange && req.Version == "" {
		if err := e.resolveRanges(ctx, current, req); err != nil {
			return nil, err
		}
	}
	if len(req.Apps) == 0 && req.Version == "" {
		if req.Apps, err = e.pending(current, req); err != nil {
			return nil, err
		}
	}
	steps, err := promotion.PlanPromotion(e.Pipeline, current, req)
	if err != nil {
		return nil, err
	}
	return e.run(ctx, steps, opts)
}

// pending lists the applications a request naming none promotes: those
// pending in the target, as `status` shows them (the source has a newer or
// an unordered version), and, with AllowDowngrade, those whose source
// version is older. Applications without a version in the source or the
// target are left out. An application whose source is older, or whose
// source or target holds a semver range, is named in the progress output,
// so a downgrade or a range never blocks the others. It returns
// nil (PlanPromotion then reports the mistake) when the target or its
// source is unknown.
func (e *Engine) pending(current promotion.Versions, req promotion.Request) ([]string, error) {
	to, ok := e.Pipeline.Env(req.To)
	if !ok {
		return nil, nil
	}
	from, ok := e.Pipeline.Source(to.Name)
	if req.From != "" {
		from, ok = e.Pipeline.Env(req.From)
	}
	if !ok {
		return nil, nil
	}
	var names []string
	for _, app := range e.Pipeline.Applications {
		src, dst := current.Get(from.Name, app.Name), current.Get(to.Name, app.Name)
		if versionedit.IsRange(src) || versionedit.IsRange(dst) {
			e.logf("skipping %s: %s has %s and %s has %s; a semver range is not promoted (name the application to see why)", app.Name, from.Name, src, to.Name, dst)
			continue
		}
		switch promotion.Compare(src, dst) {
		case promotion.Missing:
			continue
		case promotion.Older:
			if !req.AllowDowngrade {
				e.logf("skipping %s: %s has %s, newer than %s in %s (--allow-downgrade promotes it)", app.Name, to.Name, dst, src, from.Name)
				continue
			}
		}
		names = append(names, app.Name)
	}
	if len(names) == 0 {
		return nil, &promotion.PlanError{Err: promotion.ErrNoChange, Env: to.Name, Msg: fmt.Sprintf("no application has a version to promote from %s to %s", from.Name, to.Name)}
	}
	return names, nil
}

// Rollback promotes app in env back to the version before the current one
// (from the promotion history) or to opts.Version, as a new commit under
// the environment's policy; gates are not run (there is no source).
func (e *Engine) Rollback(ctx context.Context, app, envName string, opts Options) (*Outcome, error) {
	if err := e.Preflight(ctx); err != nil {
		return nil, err
	}
	env, ok := e.Pipeline.Env(envName)
	if !ok {
		return nil, &promotion.PlanError{Err: promotion.ErrUnknownEnv, Env: envName, Msg: fmt.Sprintf("unknown environment %q", envName)}
	}
	a, ok := e.Pipeline.App(app)
	if !ok {
		return nil, &promotion.PlanError{Err: promotion.ErrUnknownApp, App: app, Msg: fmt.Sprintf("unknown application %q", app)}
	}
	if err := e.Fetch(ctx); err != nil {
		return nil, err
	}
	cur, err := e.readVersion(ctx, env, a)
	if err != nil {
		return nil, err
	}
	to := opts.Version
	if to == "" {
		entries, err := e.History(ctx, promotion.Filter{App: app, Env: envName})
		if err != nil {
			return nil, err
		}
		prev, ok := promotion.PreviousVersion(entries, app, envName, cur)
		if !ok {
			return nil, fmt.Errorf("rolling back %s in %s from %s: %w in the promotion history (give --to VERSION)", app, envName, cur, ErrNoHistory)
		}
		to = prev
	}
	if err := promotion.ValidVersion(to); err != nil {
		return nil, fmt.Errorf("rolling back %s in %s: %w", app, envName, err)
	}
	if to == cur {
		return nil, &promotion.PlanError{Err: promotion.ErrNoChange, App: app, Env: envName, Msg: fmt.Sprintf("%s is already at %s in %s", app, cur, envName)}
	}
	step := promotion.Step{App: app, From: envName, To: envName, Old: cur, New: to, SourceVersion: to, Relation: promotion.Compare(cur, to)}
	for _, loc := range a.Versions {
		step.Changes = append(step.Changes, promotion.Change{Branch: e.branchOf(env), Path: env.FilePath(loc), Location: loc})
	}
	opts.SkipGates = false
	opts.Rollback = true
	return e.run(ctx, []promotion.Step{step}, opts)
}

func (e *Engine) run(ctx context.Context, steps []promotion.Step, opts Options) (*Outcome, error) {
	to, _ := e.Pipeline.Env(steps[0].To)
	out := &Outcome{Env: to.Name, Policy: to.Policy, Steps: steps, DryRun: opts.DryRun}
	p := promotion.Promotion{Env: to.Name, From: steps[0].From, Rollback: opts.Rollback}
	for _, s := range steps {
		p.Apps = append(p.Apps, promotion.AppChange{App: s.App, Old: s.Old, New: s.New})
		if s.Relation == promotion.Unordered && !opts.Rollback {
			e.logf("warning: %s: %s and %s cannot be ordered (not both semantic versions): promoting without the downgrade check", s.App, s.Old, s.New)
		}
	}
	// A version given for the first environment has no source: it enters
	// the pipeline there, so there is no source commit and no gate.
	noSource := steps[0].From == ""
	if !opts.Rollback && !noSource {
		from, _ := e.Pipeline.Env(steps[0].From)
		commit, err := e.sourceCommit(ctx, from, mustApp(e.Pipeline, steps[0].App))
		if err != nil {
			return nil, err
		}
		p.SourceCommit = commit
	}
	files, err := e.diffs(ctx, steps)
	if err != nil {
		return nil, err
	}
	out.Files = files

	switch {
	case opts.Rollback:
		p.Health = []string{"not checked (rollback)"}
	case noSource && !opts.SkipGates:
		p.Health = []string{"not checked (no source environment)"}
	case opts.SkipGates:
		p.SkippedGates = true
		p.Health = []string{promotion.SkippedGatesHealth}
	default:
		gates, err := e.gates(ctx, steps, to, opts)
		out.Gates = gates
		if err != nil {
			return out, err
		}
		for _, g := range gates {
			if !g.Passed {
				return out, fmt.Errorf("promoting to %s: %w: %s %s in %s: %s", to.Name, ErrGate, g.App, g.Name, g.Env, g.Detail)
			}
			if g.Name == "health" {
				p.Health = append(p.Health, g.Detail)
			}
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out.Promotion = p
	if opts.DryRun {
		return out, nil
	}
	return out, e.commit(ctx, out, steps, to)
}

func mustApp(p *promotion.Pipeline, name string) *promotion.Application {
	a, _ := p.App(name)
	return a
}

// diffs computes the new content of every file the steps change, from the
// fetched remote branches.
func (e *Engine) diffs(ctx context.Context, steps []promotion.Step) ([]FileDiff, error) {
	type key struct{ branch, path string }
	idx := map[key]int{}
	var files []FileDiff
	for _, s := range steps {
		for _, c := range s.Changes {
			branch := c.Branch
			if branch == "" {
				branch = e.Pipeline.Branch
			}
			k := key{branch, c.Path}
			i, ok := idx[k]
			if !ok {
				old, err := e.Repo.ShowFile(ctx, "refs/remotes/"+e.remote()+"/"+branch, c.Path)
				if err != nil {
					return nil, fmt.Errorf("reading %s on %s: %w", c.Path, branch, err)
				}
				files = append(files, FileDiff{Branch: branch, Path: c.Path, Old: old, New: old})
				i = len(files) - 1
				idx[k] = i
			}
			updated, _, err := versionedit.Set(files[i].New, EditLocation(c.Location), s.New)
			if err != nil {
				return nil, fmt.Errorf("%s: setting %s of %s to %s: %w", c.Path, c.Location, s.App, s.New, err)
			}
			files[i].New = updated
		}
	}
	return files, nil
}

// EnvDir is the directory of an environment inside an exported tree.
func EnvDir(root string, env *promotion.Environment) string {
	return path.Join(root, env.Path)
}
