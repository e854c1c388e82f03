package promotion

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/health"
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
	Pipeline *Pipeline
	// Cluster returns a reader for the cluster of an environment (its
	// context); nil when no environment is checked live.
	Cluster func(ctx context.Context, env *Environment) (cluster.Reader, error)
	// DefaultNamespace, when set, is the namespace of an environment that
	// sets none (its kube context's): the default namespace of its workload
	// health gate and of its drift check. Called only for live reads.
	DefaultNamespace func(ctx context.Context, env *Environment) (string, error)
	// Forge returns the forge client and repository; called only for
	// pull requests and required checks. A nil client (no token) makes pull
	// requests fall back to printing a compare URL.
	Forge func(ctx context.Context) (forge.Client, forge.Repo, error)
	// Drift, when set, reports the drift of an environment at a commit (the
	// drift engine on the environment's directory): a one-line summary when
	// drifted, "" when in sync.
	Drift func(ctx context.Context, env *Environment, commit string) (string, error)
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
}

// Options are the switches of one promotion.
type Options struct {
	Request
	// DryRun stops after planning and computing the diff.
	DryRun bool
	// SkipGates skips every live gate (recorded in the commit).
	SkipGates bool
	// AllowDrift lets a drifted source environment promote.
	AllowDrift bool
	// Rollback marks the promotion as a rollback.
	Rollback bool
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
	Policy    Policy
	Steps     []Step
	Files     []FileDiff
	Gates     []Gate
	Promotion Promotion
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
	return DefaultRemote
}

// branchOf returns the branch an environment's files live on.
func (e *Engine) branchOf(env *Environment) string {
	if env.Branch != "" {
		return env.Branch
	}
	return e.Pipeline.Branch
}

// ref is the remote-tracking ref of an environment's branch.
func (e *Engine) ref(env *Environment) string {
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
func EditLocation(l Location) versionedit.Location {
	return versionedit.Location{
		KustomizeImage: l.KustomizeImage, HelmValues: l.HelmValues, HelmReleaseChart: l.HelmReleaseChart,
		ArgoTargetRevision: l.ArgoTargetRevision, Setter: l.Setter,
	}
}

// Versions reads every application's version of record in every
// environment from the fetched remote branches. Environments where an
// application's file is absent have no entry for it.
func (e *Engine) Versions(ctx context.Context) (Versions, error) {
	out := Versions{}
	for _, env := range e.Pipeline.Environments {
		out[env.Name] = map[string]string{}
		for _, app := range e.Pipeline.Applications {
			v, err := e.readVersion(ctx, env, app)
			if errors.Is(err, gitrepo.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if v != "" {
				out[env.Name][app.Name] = v
			}
		}
	}
	return out, nil
}

func (e *Engine) readVersion(ctx context.Context, env *Environment, app *Application) (string, error) {
	if e.missing[e.branchOf(env)] {
		return "", fmt.Errorf("branch %s of %s: %w", e.branchOf(env), env.Name, gitrepo.ErrNotFound)
	}
	loc := app.Versions[0]
	file := env.FilePath(loc)
	data, err := e.Repo.ShowFile(ctx, e.ref(env), file)
	if err != nil {
		return "", fmt.Errorf("reading %s of %s in %s: %w", file, app.Name, env.Name, err)
	}
	found, err := versionedit.Read(data, EditLocation(loc))
	if errors.Is(err, versionedit.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%s (%s, branch %s): %w", file, loc, e.branchOf(env), err)
	}
	if len(found) == 0 {
		return "", nil
	}
	return found[0].Version, nil
}

// sourceCommit is the last commit of env's branch that touched the file
// holding app's version of record.
func (e *Engine) sourceCommit(ctx context.Context, env *Environment, app *Application) (string, error) {
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
	if len(req.Apps) == 0 && req.Version == "" {
		if req.Apps, err = e.pending(current, req); err != nil {
			return nil, err
		}
	}
	steps, err := PlanPromotion(e.Pipeline, current, req)
	if err != nil {
		return nil, err
	}
	return e.run(ctx, steps, opts)
}

// pending lists the applications a request naming none promotes: those
// pending in the target, as `status` shows them (the source has a newer or
// an unordered version), and, with AllowDowngrade, those whose source
// version is older. Applications without a version in the source or the
// target are left out. An application whose source is older is named in
// the progress output, so a downgrade never blocks the others. It returns
// nil (PlanPromotion then reports the mistake) when the target or its
// source is unknown.
func (e *Engine) pending(current Versions, req Request) ([]string, error) {
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
		switch Compare(src, dst) {
		case Missing:
			continue
		case Older:
			if !req.AllowDowngrade {
				e.logf("skipping %s: %s has %s, newer than %s in %s (--allow-downgrade promotes it)", app.Name, to.Name, dst, src, from.Name)
				continue
			}
		}
		names = append(names, app.Name)
	}
	if len(names) == 0 {
		return nil, &PlanError{Err: ErrNoChange, Env: to.Name, Msg: fmt.Sprintf("no application has a version to promote from %s to %s", from.Name, to.Name)}
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
		return nil, &PlanError{Err: ErrUnknownEnv, Env: envName, Msg: fmt.Sprintf("unknown environment %q", envName)}
	}
	a, ok := e.Pipeline.App(app)
	if !ok {
		return nil, &PlanError{Err: ErrUnknownApp, App: app, Msg: fmt.Sprintf("unknown application %q", app)}
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
		entries, err := e.History(ctx, Filter{App: app, Env: envName})
		if err != nil {
			return nil, err
		}
		prev, ok := PreviousVersion(entries, app, envName, cur)
		if !ok {
			return nil, fmt.Errorf("rolling back %s in %s from %s: %w in the promotion history (give --to VERSION)", app, envName, cur, ErrNoHistory)
		}
		to = prev
	}
	if err := ValidVersion(to); err != nil {
		return nil, fmt.Errorf("rolling back %s in %s: %w", app, envName, err)
	}
	if to == cur {
		return nil, &PlanError{Err: ErrNoChange, App: app, Env: envName, Msg: fmt.Sprintf("%s is already at %s in %s", app, cur, envName)}
	}
	step := Step{App: app, From: envName, To: envName, Old: cur, New: to, SourceVersion: to, Relation: Compare(cur, to)}
	for _, loc := range a.Versions {
		step.Changes = append(step.Changes, Change{Branch: e.branchOf(env), Path: env.FilePath(loc), Location: loc})
	}
	opts.SkipGates = false
	opts.Rollback = true
	return e.run(ctx, []Step{step}, opts)
}

func (e *Engine) run(ctx context.Context, steps []Step, opts Options) (*Outcome, error) {
	to, _ := e.Pipeline.Env(steps[0].To)
	out := &Outcome{Env: to.Name, Policy: to.Policy, Steps: steps, DryRun: opts.DryRun}
	p := Promotion{Env: to.Name, From: steps[0].From, Rollback: opts.Rollback}
	for _, s := range steps {
		p.Apps = append(p.Apps, AppChange{App: s.App, Old: s.Old, New: s.New})
		if s.Relation == Unordered && !opts.Rollback {
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
		p.Health = []string{SkippedGatesHealth}
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

func mustApp(p *Pipeline, name string) *Application {
	a, _ := p.App(name)
	return a
}

// diffs computes the new content of every file the steps change, from the
// fetched remote branches.
func (e *Engine) diffs(ctx context.Context, steps []Step) ([]FileDiff, error) {
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

// gates checks, for every step, that the version runs healthy in the source
// environment (and has soaked), the required checks passed on the source
// commit, and the source environment does not drift.
func (e *Engine) gates(ctx context.Context, steps []Step, to *Environment, opts Options) ([]Gate, error) {
	var gates []Gate
	driftChecked := map[string]bool{}
	for _, s := range steps {
		from, _ := e.Pipeline.Env(s.From)
		from, err := e.liveEnv(ctx, from)
		if err != nil {
			return gates, err
		}
		app := mustApp(e.Pipeline, s.App)
		commit, err := e.sourceCommit(ctx, from, app)
		if err != nil {
			return gates, err
		}
		g, res, err := e.healthGate(ctx, from, app, s.New, commit)
		if err != nil {
			return gates, err
		}
		gates = append(gates, g)
		if to.Soak > 0 {
			sg := Gate{App: s.App, Env: from.Name, Name: "soak", Passed: res.Soaked(to.Soak, e.now())}
			if sg.Passed {
				sg.Detail = fmt.Sprintf("healthy since %s (soak %s)", res.Since.UTC().Format(time.RFC3339), to.Soak)
			} else if res.Healthy && !res.Since.IsZero() {
				sg.Detail = fmt.Sprintf("healthy for %s only, %s needs %s", e.now().Sub(res.Since).Round(time.Second), to.Name, to.Soak)
			} else {
				sg.Detail = fmt.Sprintf("not known to be healthy for %s", to.Soak)
			}
			gates = append(gates, sg)
		}
		if len(to.RequiredChecks) > 0 {
			cg, err := e.checksGate(ctx, s.App, from, commit, to.RequiredChecks)
			if err != nil {
				return gates, err
			}
			gates = append(gates, cg)
		}
		if e.Drift != nil && !driftChecked[from.Name] {
			driftChecked[from.Name] = true
			dg := Gate{App: s.App, Env: from.Name, Name: "drift", Passed: true, Detail: "in sync with Git"}
			head, err := e.Repo.RevParse(ctx, e.ref(from))
			if err != nil {
				return gates, err
			}
			summary, err := e.Drift(ctx, from, head)
			if err != nil {
				return gates, fmt.Errorf("checking drift in %s: %w", from.Name, err)
			}
			if summary != "" {
				dg.Detail = summary
				dg.Passed = opts.AllowDrift
				if opts.AllowDrift {
					dg.Detail += " (allowed by --allow-drift)"
				}
			}
			gates = append(gates, dg)
		}
	}
	return gates, nil
}

// liveEnv returns env with its namespace filled from DefaultNamespace when
// it sets none: a copy, the pipeline is not changed.
func (e *Engine) liveEnv(ctx context.Context, env *Environment) (*Environment, error) {
	if env.Namespace != "" || e.DefaultNamespace == nil {
		return env, nil
	}
	ns, err := e.DefaultNamespace(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("finding the namespace of %s: %w", env.Name, err)
	}
	c := *env
	c.Namespace = ns
	return &c, nil
}

// healthGate evaluates app's health target in env, expecting version and a
// deployment of commit (for Argo CD and Flux targets).
func (e *Engine) healthGate(ctx context.Context, env *Environment, app *Application, version, commit string) (Gate, health.Result, error) {
	g := Gate{App: app.Name, Env: env.Name, Name: "health"}
	h := app.Health.Expand(env)
	target, ok := healthTarget(h)
	if !ok {
		return g, health.Result{}, fmt.Errorf("gating %s from %s: %w: add health: to the application in %s, or pass --skip-gates", app.Name, env.Name, ErrNoHealth, e.Pipeline.File)
	}
	if e.Cluster == nil {
		return g, health.Result{}, fmt.Errorf("gating %s from %s: no cluster configured", app.Name, env.Name)
	}
	r, err := e.Cluster(ctx, env)
	if err != nil {
		return g, health.Result{}, fmt.Errorf("connecting to the cluster of %s: %w", env.Name, err)
	}
	expect := health.Expect{Version: version, Revision: commit, Contains: func(ctx context.Context, applied, want string) (bool, error) {
		return e.Repo.IsAncestor(ctx, want, applied)
	}}
	if target.Kind == health.Workload {
		expect.Revision = ""
		if img := kustomizeImage(app); img != "" {
			expect.Image = img
		}
	}
	if target.Kind == health.FluxHelmRelease && app.Versions[0].HelmReleaseChart {
		expect.ChartVersion = true
		expect.Revision = ""
	}
	res, err := health.Evaluate(ctx, r, target, expect, e.now())
	if err != nil {
		return g, res, fmt.Errorf("gating %s from %s: %w", app.Name, env.Name, err)
	}
	g.Passed = res.Deployed && res.Healthy
	switch {
	case g.Passed:
		g.Detail = fmt.Sprintf("%s runs %s, healthy", res.Object, version)
		if !res.Since.IsZero() {
			g.Detail += " since " + res.Since.UTC().Format(time.RFC3339)
		}
	case !res.Deployed:
		g.Detail = fmt.Sprintf("%s is not running %s: %s", res.Object, version, res.Reason)
	default:
		g.Detail = fmt.Sprintf("%s runs %s but is not healthy: %s", res.Object, version, res.Reason)
	}
	return g, res, nil
}

func kustomizeImage(app *Application) string {
	for _, l := range app.Versions {
		if l.KustomizeImage != "" {
			return l.KustomizeImage
		}
	}
	return ""
}

func healthTarget(h Health) (health.Target, bool) {
	switch {
	case h.Workload != nil:
		return health.Target{Kind: health.Workload, WorkloadKind: h.Workload.Kind, Namespace: h.Workload.Namespace, Name: h.Workload.Name}, true
	case h.ArgoCD != nil:
		return health.Target{Kind: health.ArgoCDApplication, Namespace: h.ArgoCD.Namespace, Name: h.ArgoCD.Name}, true
	case h.FluxKustomization != nil:
		return health.Target{Kind: health.FluxKustomization, Namespace: h.FluxKustomization.Namespace, Name: h.FluxKustomization.Name}, true
	case h.FluxHelmRelease != nil:
		return health.Target{Kind: health.FluxHelmRelease, Namespace: h.FluxHelmRelease.Namespace, Name: h.FluxHelmRelease.Name}, true
	}
	return health.Target{}, false
}

func (e *Engine) checksGate(ctx context.Context, app string, from *Environment, commit string, required []string) (Gate, error) {
	g := Gate{App: app, Env: from.Name, Name: "checks"}
	if e.Forge == nil {
		return g, fmt.Errorf("checking required checks on %s: no forge configured", short(commit))
	}
	client, _, err := e.Forge(ctx)
	if err != nil {
		return g, fmt.Errorf("checking required checks on %s: %w", short(commit), err)
	}
	if client == nil {
		g.Detail = "required checks cannot be read without a forge token"
		return g, nil
	}
	states, err := client.CommitStatuses(ctx, commit)
	if err != nil {
		return g, fmt.Errorf("reading the checks of %s: %w", short(commit), err)
	}
	var bad []string
	for _, name := range required {
		st, ok := states[name]
		if !ok {
			st = "missing"
		}
		if st != forge.StateSuccess {
			bad = append(bad, name+"="+st)
		}
	}
	g.Passed = len(bad) == 0
	if g.Passed {
		g.Detail = fmt.Sprintf("%s passed on %s", strings.Join(required, ", "), short(commit))
	} else {
		g.Detail = fmt.Sprintf("required checks not passed on %s: %s", short(commit), strings.Join(bad, ", "))
	}
	return g, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// prBranch names the branch of a pull-request promotion.
func prBranch(env string, steps []Step) string {
	parts := make([]string, 0, len(steps))
	for _, s := range steps {
		parts = append(parts, s.App+"-"+sanitizeRef(s.New))
	}
	return "promote/" + env + "/" + strings.Join(parts, "+")
}

func sanitizeRef(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}

// commit writes the steps in a temporary worktree, commits and pushes
// under the target's policy. A rebase conflict (another promotion edited
// the same lines meanwhile) redoes the edits on the new tip.
func (e *Engine) commit(ctx context.Context, out *Outcome, steps []Step, to *Environment) error {
	base := e.branchOf(to)
	spec := gitrepo.PushSpec{Remote: e.remote(), Base: base, Retries: e.Retries}
	if spec.Retries == 0 {
		spec.Retries = gitrepo.DefaultRetries
	}
	if to.Policy == PolicyPullRequest {
		spec.Target = prBranch(to.Name, steps)
	}
	edits := func(wt *gitrepo.Worktree) error {
		for _, s := range steps {
			for i, c := range s.Changes {
				loc := EditLocation(c.Location)
				err := wt.Apply(gitrepo.Change{Path: c.Path, Edit: func(old []byte) ([]byte, error) {
					if old == nil {
						return nil, fmt.Errorf("%s: no such file on %s", c.Path, base)
					}
					if i == 0 {
						// The plan (the old version, the downgrade check, the
						// commit message) was made on the tip fetched before
						// the gates: the branch may have moved since.
						if cur := versionOf(old, loc); cur != s.Old && cur != s.New {
							return nil, fmt.Errorf("%s: %s in %s is %s now, not %s as planned (another promotion landed meanwhile): %w",
								c.Path, s.App, to.Name, orNone(cur), s.Old, ErrChangedMeanwhile)
						}
					}
					b, _, err := versionedit.Set(old, loc, s.New)
					if err != nil {
						return nil, fmt.Errorf("%s: setting %s of %s to %s: %w", c.Path, c.Location, s.App, s.New, err)
					}
					return b, nil
				}})
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	e.logf("committing %s", out.Promotion.Subject())
	var res gitrepo.Result
	var err error
	for attempt := 1; ; attempt++ {
		res, err = e.Repo.CommitAndPush(ctx, spec, out.Promotion.Message(), edits)
		if errors.Is(err, gitrepo.ErrConflict) && attempt < 3 {
			e.logf("another change touched the same lines; redoing the edit on the new tip")
			continue
		}
		break
	}
	if err != nil && spec.Target != base && errors.Is(err, gitrepo.ErrTargetExists) {
		// A second run for the same version: the branch of the first one
		// is reused when it carries this very change.
		tip, same, serr := e.carries(ctx, spec.Target, base, steps)
		switch {
		case serr != nil:
			err = errors.Join(err, serr)
		case same:
			e.logf("%s already carries this promotion (%s): not pushing it again", spec.Target, short(tip))
			res, err = gitrepo.Result{Commit: tip, Remote: spec.Remote, Target: spec.Target}, nil
			out.AlreadyPushed = true
		default:
			err = fmt.Errorf("%w, but not as this promotion's pending change (it has other changes, or was merged already): delete it (git push %s --delete %s) once its pull request is closed, then run again", err, spec.Remote, spec.Target)
		}
	}
	if err != nil {
		return fmt.Errorf("promoting to %s: %w", to.Name, err)
	}
	out.Commit, out.Branch, out.Attempts = res.Commit, res.Target, res.Attempts
	if to.Policy == PolicyPullRequest {
		return e.openPullRequest(ctx, out, base)
	}
	cur, err := e.Repo.CurrentBranch(ctx)
	if err == nil && cur == base {
		moved, ffErr := e.Repo.FastForward(ctx, base, e.remote())
		if ffErr == nil {
			out.FastForwarded = moved
		} else {
			e.logf("note: your %s was not fast-forwarded: %v", base, ffErr)
		}
	}
	return nil
}

// carries reports whether the remote branch already holds every version
// the steps write (the tip, and true), by fetching it and redoing the edits
// on its files: no edit may change a byte. A branch already merged into
// base (left from an earlier promotion to the same version) does not.
func (e *Engine) carries(ctx context.Context, branch, base string, steps []Step) (string, bool, error) {
	ref := "refs/remotes/" + e.remote() + "/" + branch
	if err := e.Repo.Fetch(ctx, e.remote(), "+refs/heads/"+branch+":"+ref); err != nil {
		return "", false, err
	}
	tip, err := e.Repo.RevParse(ctx, ref)
	if err != nil {
		return "", false, err
	}
	merged, err := e.Repo.IsAncestor(ctx, tip, "refs/remotes/"+e.remote()+"/"+base)
	if err != nil || merged {
		return tip, false, err
	}
	for _, s := range steps {
		for _, c := range s.Changes {
			data, err := e.Repo.ShowFile(ctx, tip, c.Path)
			if errors.Is(err, gitrepo.ErrNotFound) {
				return tip, false, nil
			}
			if err != nil {
				return "", false, err
			}
			updated, _, err := versionedit.Set(data, EditLocation(c.Location), s.New)
			if err != nil || !bytes.Equal(updated, data) {
				return tip, false, nil
			}
		}
	}
	return tip, true, nil
}

// versionOf is the first version written at loc in data ("" when none).
func versionOf(data []byte, loc versionedit.Location) string {
	found, err := versionedit.Read(data, loc)
	if err != nil || len(found) == 0 {
		return ""
	}
	return found[0].Version
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func (e *Engine) openPullRequest(ctx context.Context, out *Outcome, base string) error {
	if e.Forge == nil {
		return nil
	}
	client, repo, err := e.Forge(ctx)
	if err != nil {
		// The branch is pushed: the promotion is done, the pull request is
		// the user's to open.
		e.logf("warning: no pull request opened: %v", err)
		return nil
	}
	if client == nil {
		if repo.WebBase != "" {
			out.CompareURL = forge.CompareURL(repo, base, out.Branch)
		}
		return nil
	}
	body := out.Promotion.Message()
	if _, rest, ok := strings.Cut(body, "\n\n"); ok {
		body = rest
	}
	var gates []string
	for _, g := range out.Gates {
		gates = append(gates, fmt.Sprintf("- %s %s in %s: %s", g.Name, g.App, g.Env, g.Detail))
	}
	if len(gates) > 0 {
		body = "Gates:\n" + strings.Join(gates, "\n") + "\n\n" + body
	}
	pr, err := client.OpenPullRequest(ctx, forge.PROptions{Head: out.Branch, Base: base, Title: out.Promotion.Subject(), Body: body, Labels: []string{"promotion"}})
	if err != nil && pr.URL == "" {
		out.CompareURL = forge.CompareURL(repo, base, out.Branch)
		return fmt.Errorf("pushed %s; opening the pull request: %w", out.Branch, err)
	}
	out.PullRequest = &pr
	if err != nil {
		e.logf("warning: %v", err)
	}
	return nil
}

// History returns the promotions recorded in the commits of every
// environment's branch, newest first, filtered.
func (e *Engine) History(ctx context.Context, f Filter) ([]Entry, error) {
	byBranch := map[string][]string{}
	var branches []string
	for _, env := range e.Pipeline.Environments {
		if f.Env != "" && env.Name != f.Env {
			continue
		}
		b := e.branchOf(env)
		if _, ok := byBranch[b]; !ok {
			branches = append(branches, b)
		}
		byBranch[b] = append(byBranch[b], env.Path)
	}
	var all []Entry
	for _, b := range branches {
		commits, err := e.Repo.Log(ctx, "refs/remotes/"+e.remote()+"/"+b, byBranch[b]...)
		if err != nil {
			return nil, fmt.Errorf("reading the history of %s: %w", b, err)
		}
		cs := make([]Commit, 0, len(commits))
		for _, c := range commits {
			ts := make([]Trailer, 0, len(c.Trailers))
			for _, t := range c.Trailers {
				ts = append(ts, Trailer{Key: t.Key, Value: t.Value})
			}
			cs = append(cs, Commit{Hash: c.Hash, Author: c.Author, Date: c.Date, Subject: c.Subject, Trailers: ts})
		}
		all = append(all, History(cs, f)...)
	}
	if len(branches) > 1 {
		sort.SliceStable(all, func(i, j int) bool { return all[i].Date.After(all[j].Date) })
	}
	return all, nil
}

// LiveStatus is one application × environment cell of `promote status`.
type LiveStatus struct {
	Status
	// Live is the version seen in the cluster ("" unknown), Healthy its
	// health, Detail the health gate's reason; Err a cluster problem.
	Live     string
	Deployed bool
	Healthy  bool
	Checked  bool
	Detail   string
	Err      string
}

// Status reads the versions in Git and, when live is set, in the clusters.
// A cluster that cannot be reached (a connection error or timeout) is
// asked once: the other applications of the environments on its context
// get the same error without waiting again. An ended context ends Status
// with its error.
func (e *Engine) Status(ctx context.Context, live bool) ([]LiveStatus, error) {
	if err := e.ResolveBranch(ctx); err != nil {
		return nil, err
	}
	if err := e.Fetch(ctx); err != nil {
		return nil, err
	}
	current, err := e.Versions(ctx)
	if err != nil {
		return nil, err
	}
	rows := Statuses(e.Pipeline, current)
	out := make([]LiveStatus, 0, len(rows))
	unreachable := map[string]string{} // kube context → the row that found it so
	for _, r := range rows {
		ls := LiveStatus{Status: r}
		if live && r.Version != "" {
			env, _ := e.Pipeline.Env(r.Env)
			app := mustApp(e.Pipeline, r.App)
			if _, ok := healthTarget(app.Health); ok && e.Cluster != nil {
				ls.Checked = true
				if first, ok := unreachable[env.Context]; ok {
					ls.Err = "not checked: the cluster did not answer for " + first
				} else if err := e.liveStatus(ctx, &ls, env, app); err != nil {
					ls.Err = err.Error()
					if unreachableErr(err) {
						unreachable[env.Context] = r.App + " in " + r.Env
					}
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out = append(out, ls)
	}
	return out, nil
}

// liveStatus fills the live part of one status row.
func (e *Engine) liveStatus(ctx context.Context, ls *LiveStatus, env *Environment, app *Application) error {
	env, err := e.liveEnv(ctx, env)
	if err != nil {
		return err
	}
	commit, err := e.sourceCommit(ctx, env, app)
	if err != nil {
		return err
	}
	g, res, err := e.healthGate(ctx, env, app, ls.Version, commit)
	ls.Live, ls.Deployed, ls.Healthy, ls.Detail = res.LiveVersion, res.Deployed, g.Passed, g.Detail
	return err
}

// unreachableErr tells a cluster that did not answer (a refused or timed
// out connection, a deadline) from an answer about one object.
func unreachableErr(err error) bool {
	if err == nil {
		return false
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// EnvDir is the directory of an environment inside an exported tree.
func EnvDir(root string, env *Environment) string {
	return path.Join(root, env.Path)
}
