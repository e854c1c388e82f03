package promoter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
)

// History returns the promotions recorded in the commits of every
// environment's branch, newest first, filtered.
func (e *Engine) History(ctx context.Context, f promotion.Filter) ([]promotion.Entry, error) {
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
	var all []promotion.Entry
	for _, b := range branches {
		commits, err := e.Repo.Log(ctx, "refs/remotes/"+e.remote()+"/"+b, byBranch[b]...)
		if err != nil {
			return nil, fmt.Errorf("reading the history of %s: %w", b, err)
		}
		cs := make([]promotion.Commit, 0, len(commits))
		for _, c := range commits {
			ts := make([]promotion.Trailer, 0, len(c.Trailers))
			for _, t := range c.Trailers {
				ts = append(ts, promotion.Trailer{Key: t.Key, Value: t.Value})
			}
			cs = append(cs, promotion.Commit{Hash: c.Hash, Author: c.Author, Date: c.Date, Subject: c.Subject, Trailers: ts})
		}
		all = append(all, promotion.History(cs, f)...)
	}
	if len(branches) > 1 {
		sort.SliceStable(all, func(i, j int) bool { return all[i].Date.After(all[j].Date) })
	}
	return all, nil
}

// LiveStatus is one application × environment cell of `promote status`.
type LiveStatus struct {
	promotion.Status
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
	rows := promotion.Statuses(e.Pipeline, current)
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
func (e *Engine) liveStatus(ctx context.Context, ls *LiveStatus, env *promotion.Environment, app *promotion.Application) error {
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
