package compare

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
)

// stream reads the live object of every item and calls compare for each
// item (once, with its live object or nil) as the objects arrive: one LIST
// per kind and namespace where Git has ListThreshold or more objects, read
// page by page, GETs otherwise. At most opts.MaxLive live objects are held
// between their arrival and the end of their comparison, plus the page
// being decoded; each is dropped once compared. Items in error before
// reading are passed to compare too, without a live object.
//
// It learns the tracker's metadata from the live objects of the items. For
// the kinds and namespaces it LISTs whole, it returns the live objects Git
// does not declare there that may be extraneous, normalised, so that
// extraneous detection need not LIST them again.
func (e *Engine) stream(ctx context.Context, items []*item, track *tracker, opts Options, rep *Report,
	compare func(ctx context.Context, i int, live *unstructured.Unstructured),
) (map[groupKey][]*unstructured.Unstructured, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &streamer{e: e, items: items, track: track, opts: opts, rep: rep, compare: compare, cancel: cancel,
		budget: semaphore.NewWeighted(int64(opts.MaxLive)), listed: map[groupKey][]*unstructured.Unstructured{}}
	s.pool.SetLimit(opts.Concurrency)

	groups := map[groupKey][]int{}
	var keys []groupKey
	for i, it := range items {
		if it.report.Status == StatusError {
			s.dispatch(ctx, i, nil, 0)
			continue
		}
		k := groupKey{it.mapping.Resource.GroupResource(), it.namespace}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	// Jobs read their live objects concurrently; none fails the group (the
	// first fatal error is kept, and ends the others).
	var jobs errgroup.Group
	jobs.SetLimit(opts.Concurrency)
	for _, k := range keys {
		idxs := groups[k]
		// A single object is read with a GET whatever the threshold.
		if len(idxs) >= opts.ListThreshold && len(idxs) > 1 {
			if ctx.Err() != nil {
				break
			}
			jobs.Go(func() error { s.list(ctx, k, idxs); return nil })
			continue
		}
		for _, i := range idxs {
			if ctx.Err() != nil {
				break
			}
			jobs.Go(func() error { s.get(ctx, k, i); return nil })
		}
	}
	_ = jobs.Wait()
	_ = s.pool.Wait()
	if s.fatal != nil {
		return nil, s.fatal
	}
	return s.listed, ctx.Err()
}

// streamer is one run of stream.
type streamer struct {
	e       *Engine
	items   []*item
	track   *tracker
	opts    Options
	rep     *Report
	compare func(ctx context.Context, i int, live *unstructured.Unstructured)
	cancel  context.CancelFunc
	// budget holds a unit per live object read and not yet compared, and
	// the units of a page asked for and not yet received.
	budget *semaphore.Weighted
	// pool runs the comparisons.
	pool errgroup.Group

	mu     sync.Mutex
	fatal  error
	listed map[groupKey][]*unstructured.Unstructured
}

// dispatch compares item i with live in the pool, then drops live and
// returns weight units to the budget.
func (s *streamer) dispatch(ctx context.Context, i int, live *unstructured.Unstructured, weight int64) {
	s.pool.Go(func() error {
		s.compare(ctx, i, live)
		if live != nil {
			// The page's array still refers to the object: drop it
			// there too, so that it is freed before the page's last.
			live.Object = nil
		}
		s.budget.Release(weight)
		return nil
	})
}

// failed records err for the items of idxs: a fatal error ends the run,
// any other is reported on each item (which is compared no further).
func (s *streamer) failed(ctx context.Context, k groupKey, idxs []int, err error) {
	if isFatal(err) {
		s.mu.Lock()
		if s.fatal == nil {
			s.fatal = err
		}
		s.mu.Unlock()
		s.cancel()
		return
	}
	s.mu.Lock()
	if apierrors.IsForbidden(err) {
		s.rep.Warnings = append(s.rep.Warnings, fmt.Sprintf("forbidden to read %s in %s: those objects are reported as errors", k.resource, nsLabel(k.namespace)))
	}
	s.mu.Unlock()
	for _, i := range idxs {
		s.items[i].report.Status = StatusError
		s.items[i].report.Reason = "reading the live object: " + err.Error()
		s.dispatch(ctx, i, nil, 0)
	}
}

// get reads item i's live object with a GET.
func (s *streamer) get(ctx context.Context, k groupKey, i int) {
	it := s.items[i]
	if err := s.budget.Acquire(ctx, 1); err != nil {
		s.failed(ctx, k, []int{i}, err)
		return
	}
	obj, err := s.e.Reader.Get(ctx, it.mapping, k.namespace, it.name)
	if apierrors.IsNotFound(err) {
		obj, err = nil, nil
	}
	if err != nil {
		s.budget.Release(1)
		s.failed(ctx, k, []int{i}, err)
		return
	}
	if obj != nil {
		s.track.observe(obj)
	}
	s.dispatch(ctx, i, obj, 1)
}

// list reads the live objects of the items idxs (one kind and namespace)
// with a LIST, page by page, comparing each item as its page arrives.
func (s *streamer) list(ctx context.Context, k groupKey, idxs []int) {
	m := s.items[idxs[0]].mapping
	pending := make(map[string]int, len(idxs))
	for _, i := range idxs {
		pending[s.items[i].name] = i
	}
	pager, paged := s.e.Reader.(cluster.PageReader)
	page := cluster.Page{Limit: min(s.opts.ListPageSize, int64(max(1, s.opts.MaxLive/4)))}
	var candidates []*unstructured.Unstructured
	for {
		// A full page's units, or all of them for a reader that does not
		// page (which returns everything at once).
		weight := page.Limit
		if !paged {
			weight = int64(s.opts.MaxLive)
		}
		if err := s.budget.Acquire(ctx, weight); err != nil {
			s.failed(ctx, k, idxs, err)
			return
		}
		var objs []unstructured.Unstructured
		var cont string
		var err error
		if paged {
			objs, cont, err = pager.ListPage(ctx, m, k.namespace, "", page)
		} else {
			objs, err = s.e.Reader.List(ctx, m, k.namespace, "")
		}
		if err != nil {
			s.budget.Release(weight)
			rest := make([]int, 0, len(pending))
			for _, i := range idxs {
				if _, ok := pending[s.items[i].name]; ok {
					rest = append(rest, i)
				}
			}
			s.failed(ctx, k, rest, err)
			return
		}
		for j := range objs {
			o := &objs[j]
			name := o.GetName()
			if i, ok := pending[name]; ok {
				delete(pending, name)
				s.track.observe(o)
				// An object beyond the units held (a reader that
				// does not page) returns none.
				var w int64
				if weight > 0 {
					w, weight = 1, weight-1
				}
				s.dispatch(ctx, i, o, w)
				continue
			}
			if s.track.mayTrack(o) && !excludedExtraneous(o, s.opts) {
				candidates = append(candidates, &unstructured.Unstructured{Object: normalize(o.Object)})
			}
			o.Object = nil
		}
		s.budget.Release(weight)
		if cont == "" {
			break
		}
		page.Continue = cont
	}
	for _, i := range idxs {
		if _, ok := pending[s.items[i].name]; ok {
			s.dispatch(ctx, i, nil, 0) // missing
		}
	}
	s.mu.Lock()
	s.listed[k] = candidates
	s.mu.Unlock()
}
