package desired

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ocisource"
)

// errCacheClosed is returned by a fetch asked of a closed Cache.
var errCacheClosed = errors.New("fetching: the fetch cache is closed")

// Cache holds the Git checkouts and OCI artifacts fetched for one run, so
// that Fetchers sharing it (a fleet run: one Fetcher per cluster) fetch
// each repository and revision, and each artifact, once. It is safe for
// concurrent use: callers asking for the same key at once wait for one
// fetch. A fetch runs on its own context, cancelled when every caller
// waiting for it has given up (its own context ended) or when the Cache
// is closed; a fetch cancelled that way is forgotten, not remembered as
// an error, so a later caller fetches again. Any other error is
// remembered, like a result.
//
// Checkouts are shared read-only: whatever a caller builds from one is
// built elsewhere (Flux artifacts are per Fetcher, as they depend on the
// cluster's objects). Close removes everything.
type Cache struct {
	ctx  context.Context
	stop context.CancelFunc

	mu        sync.Mutex
	closed    bool
	checkouts map[string]*flight[*gitsource.Checkout]
	pulls     map[string]*flight[*ocisource.Artifact]
	// release removes what every finished fetch left (run by Close).
	release []func()
	running sync.WaitGroup
}

// flight is one fetch: done is closed once val and err are set.
type flight[T any] struct {
	done    chan struct{}
	val     T
	err     error
	waiters int
	cancel  context.CancelFunc
}

// NewCache returns an empty Cache; its owner closes it.
func NewCache() *Cache {
	ctx, stop := context.WithCancel(context.Background())
	return &Cache{ctx: ctx, stop: stop,
		checkouts: map[string]*flight[*gitsource.Checkout]{}, pulls: map[string]*flight[*ocisource.Artifact]{}}
}

// Fetcher returns a Fetcher whose sources start from opts and whose
// checkouts and artifacts come from c. Closing it removes only what it
// built itself; closing c removes the rest.
func (c *Cache) Fetcher(opts Options) *Fetcher {
	return &Fetcher{opts: opts, cache: c, artifacts: map[string]*built{}}
}

// Close cancels the fetches under way, waits for them to end and removes
// every checkout and artifact. Later fetches fail. It is safe to call
// more than once.
func (c *Cache) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.stop()
	c.running.Wait()
	c.mu.Lock()
	release := c.release
	c.release = nil
	c.checkouts, c.pulls = map[string]*flight[*gitsource.Checkout]{}, map[string]*flight[*ocisource.Artifact]{}
	c.mu.Unlock()
	for _, r := range release {
		r()
	}
}

// checkout fetches url at revision once (spec as gitsource.Fetch takes
// it); key names the repository and revision.
func (c *Cache) checkout(ctx context.Context, key string, spec gitsource.Spec) (*gitsource.Checkout, error) {
	return do(ctx, c, c.checkouts, key, "fetching "+gitsource.RedactURL(spec.URL), func(ctx context.Context) (*gitsource.Checkout, error) {
		return gitsource.Fetch(ctx, spec)
	}, func(co *gitsource.Checkout) { _ = co.Close() })
}

// pull pulls an OCI artifact once; key names everything in spec.
func (c *Cache) pull(ctx context.Context, key string, spec ocisource.Spec) (*ocisource.Artifact, error) {
	return do(ctx, c, c.pulls, key, "pulling "+gitsource.RedactURL(spec.URL), func(ctx context.Context) (*ocisource.Artifact, error) {
		return ocisource.Pull(ctx, spec)
	}, func(a *ocisource.Artifact) { _ = a.Close() })
}

// do returns the result of fetch for key, running it once for every
// caller asking at the same time or later; what names the fetch in the
// error of a caller that gave up.
func do[T any](ctx context.Context, c *Cache, m map[string]*flight[T], key, what string, fetch func(context.Context) (T, error), release func(T)) (T, error) {
	var zero T
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return zero, errCacheClosed
	}
	fl, ok := m[key]
	if !ok {
		fctx, cancel := context.WithCancel(c.ctx)
		fl = &flight[T]{done: make(chan struct{}), cancel: cancel}
		m[key] = fl
		c.running.Add(1)
		go func() {
			defer c.running.Done()
			defer cancel()
			v, err := fetch(fctx)
			c.mu.Lock()
			fl.val, fl.err = v, err
			if err == nil {
				c.release = append(c.release, func() { release(v) })
			}
			if err != nil && fctx.Err() != nil && m[key] == fl {
				// Cancelled by Close: nobody may take it for the
				// repository's answer.
				delete(m, key)
			}
			c.mu.Unlock()
			close(fl.done)
		}()
	}
	fl.waiters++
	c.mu.Unlock()
	select {
	case <-fl.done:
		return fl.val, fl.err
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		fl.waiters--
		select {
		case <-fl.done:
			return fl.val, fl.err
		default:
		}
		if fl.waiters == 0 && m[key] == fl {
			// Nobody waits any more: stop it and let the next caller
			// start afresh.
			delete(m, key)
			fl.cancel()
		}
		return zero, fmt.Errorf("%s: %w", what, context.Cause(ctx))
	}
}
