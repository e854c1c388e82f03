package desired

import (
	"context"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/test/gitea"
)

// gatedGit serves a one-commit repository over HTTP (git http-backend),
// counting the git clients that read it (one GET of info/refs each) and
// holding every request until open is called.
type gatedGit struct {
	url      string
	fetches  atomic.Int64
	gate     chan struct{}
	openOnce sync.Once
}

func (g *gatedGit) open() { g.openOnce.Do(func() { close(g.gate) }) }

func newGatedGit(t *testing.T) *gatedGit {
	t.Helper()
	base := t.TempDir()
	work := filepath.Join(base, "work")
	gitea.Git(t, base, "init", "-q", "-b", "main", work)
	if err := os.WriteFile(filepath.Join(work, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitea.Git(t, work, "add", "-A")
	gitea.Git(t, work, "commit", "-q", "-m", "c")
	gitea.Git(t, base, "clone", "-q", "--bare", work, filepath.Join(base, "repo.git"))
	execPath := strings.TrimSpace(gitea.Git(t, base, "--exec-path"))
	backend := &cgi.Handler{Path: filepath.Join(execPath, "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + base, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_CONFIG_NOSYSTEM=1"}}
	g := &gatedGit{gate: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs") {
			g.fetches.Add(1)
		}
		select {
		case <-g.gate:
		case <-r.Context().Done():
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(g.open) // before the server closes (cleanups run last first)
	g.url = srv.URL + "/repo.git"
	return g
}

// waitWaiters waits until n callers wait for the fetch of url at main in
// c, or fails when the repository is asked more than once meanwhile (no
// single flight).
func waitWaiters(t *testing.T, c *Cache, g *gatedGit, n int) {
	t.Helper()
	key := g.url + "\x00main"
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if g.fetches.Load() > 1 {
			t.Fatalf("the repository was asked %d times while the first fetch ran", g.fetches.Load())
		}
		c.mu.Lock()
		fl := c.checkouts[key]
		w := 0
		if fl != nil {
			w = fl.waiters
		}
		c.mu.Unlock()
		if w == n {
			return
		}
	}
	t.Fatalf("%d callers never waited for one fetch", n)
}

func leftCheckouts(t *testing.T, dir string) []string {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "kubectl-gitops-src-*"))
	return left
}

// TestCacheFetchesOnceForConcurrentFetchers: eight Fetchers sharing a
// Cache (a fleet of eight clusters) ask for the same repository and
// revision at once: one fetch, one checkout for all; closing a Fetcher
// leaves the shared checkout, closing the Cache removes it.
func TestCacheFetchesOnceForConcurrentFetchers(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	g := newGatedGit(t)
	c := NewCache()
	defer c.Close()
	const n = 8
	roots := make([]string, n)
	fetchers := make([]*Fetcher, n)
	var wg sync.WaitGroup
	for i := range n {
		fetchers[i] = c.Fetcher(Options{Ignore: ignore.Builtin(), Namespace: "default"})
		wg.Go(func() {
			s := fetchers[i].Git(t.Context(), g.url, "main", ".")
			if s.Skip != "" || len(s.Desired) != 1 {
				t.Errorf("fetcher %d: skip %q, %d objects", i, s.Skip, len(s.Desired))
			}
			roots[i] = s.Root
		})
	}
	waitWaiters(t, c, g, n)
	g.open()
	wg.Wait()
	if got := g.fetches.Load(); got != 1 {
		t.Errorf("%d fetches, want 1", got)
	}
	for i, r := range roots {
		if r != roots[0] {
			t.Errorf("fetcher %d got checkout %s, fetcher 0 %s", i, r, roots[0])
		}
	}
	for _, f := range fetchers {
		f.Close()
	}
	if _, err := os.Stat(roots[0]); err != nil {
		t.Errorf("closing the Fetchers removed the Cache's checkout: %v", err)
	}
	c.Close()
	if left := leftCheckouts(t, tmp); len(left) > 0 {
		t.Errorf("checkouts left after Close: %v", left)
	}
	if s := c.Fetcher(Options{}).Git(t.Context(), g.url, "main", "."); !strings.Contains(s.Skip, "closed") {
		t.Errorf("a fetch after Close: skip %q, want an error saying the cache is closed", s.Skip)
	}
}

// TestCacheCallerGivingUpLeavesOthers: one of two clusters waiting for a
// fetch gives up (its --context-timeout): it gets its own context's
// error, the other still gets the checkout, from the one fetch.
func TestCacheCallerGivingUpLeavesOthers(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	g := newGatedGit(t)
	c := NewCache()
	defer c.Close()
	quitter, quit := context.WithCancel(t.Context())
	defer quit()
	var errA error
	var stayed Source
	var wg sync.WaitGroup
	wg.Go(func() { _, errA = c.Fetcher(Options{}).fetch(quitter, g.url, "main") })
	wg.Go(func() { stayed = c.Fetcher(Options{}).Git(t.Context(), g.url, "main", ".") })
	waitWaiters(t, c, g, 2)
	quit()
	waitWaiters(t, c, g, 1)
	g.open()
	wg.Wait()
	if !errors.Is(errA, context.Canceled) || !strings.HasPrefix(errA.Error(), "fetching ") {
		t.Errorf("the caller that gave up: %v, want its context's error", errA)
	}
	if stayed.Skip != "" || len(stayed.Desired) != 1 {
		t.Errorf("the caller that stayed: skip %q, %d objects", stayed.Skip, len(stayed.Desired))
	}
	if got := g.fetches.Load(); got != 1 {
		t.Errorf("%d fetches, want 1", got)
	}
}

// TestCacheAbandonedFetchIsForgotten: the only caller gives up: the fetch
// is stopped and not remembered as the repository's answer; the next
// caller fetches again and gets the checkout.
func TestCacheAbandonedFetchIsForgotten(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	g := newGatedGit(t)
	c := NewCache()
	quitter, quit := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetcher(Options{}).fetch(quitter, g.url, "main")
		done <- err
	}()
	waitWaiters(t, c, g, 1)
	for g.fetches.Load() == 0 { // git asks the server: the fetch is under way
		time.Sleep(10 * time.Millisecond)
	}
	quit()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that gave up: %v, want its context's error", err)
	}
	g.open()
	s := c.Fetcher(Options{}).Git(t.Context(), g.url, "main", ".")
	if s.Skip != "" || len(s.Desired) != 1 {
		t.Errorf("the next caller: skip %q, %d objects", s.Skip, len(s.Desired))
	}
	if got := g.fetches.Load(); got != 2 {
		t.Errorf("%d fetches, want 2 (the abandoned one, then a new one)", got)
	}
	c.Close()
	if left := leftCheckouts(t, tmp); len(left) > 0 {
		t.Errorf("checkouts left after Close: %v", left)
	}
}
