package chartsource_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
)

// A real chart (sealed-secrets, packaged at several versions by Helm's own
// code, index by repo.IndexDirectory) is fetched from an HTTP chart
// repository, each version expression resolving as source-controller does.
func TestHTTPRepositoryFetchesTheResolvedVersion(t *testing.T) {
	for _, absolute := range []bool{false, true} {
		name := "relative URLs"
		if absolute {
			name = "absolute URLs"
		}
		t.Run(name, func(t *testing.T) {
			srv, dir := chartRepo(t, absolute, "2.19.3", "2.20.0-rc.1", "3.0.0")
			f := newFetcher(t, chartsource.Options{})
			for ver, want := range map[string]string{"": "3.0.0", "2.x": "2.19.3", ">=2.20.0-alpha <3": "2.20.0-rc.1", "2.19.3": "2.19.3"} {
				c, err := f.FetchChart(context.Background(), chartsource.ChartRef{RepoURL: srv.URL, Chart: "sealed-secrets", Version: ver})
				if err != nil {
					t.Fatalf("version %q: %v", ver, err)
				}
				if n, v := chartVersion(t, c.Path); n != "sealed-secrets" || v != want {
					t.Errorf("version %q: fetched %s %s, want sealed-secrets %s", ver, n, v, want)
				}
				if wantDigest := fileDigest(t, filepath.Join(dir, "sealed-secrets-"+want+".tgz")); c.Digest != wantDigest {
					t.Errorf("version %q: digest %s, want the served archive's %s", ver, c.Digest, wantDigest)
				}
			}
			// One Fetcher reads the index once.
			if n := countSuffix(srv.requests(), "/index.yaml"); n != 1 {
				t.Errorf("index.yaml fetched %d times, want once per Fetcher", n)
			}
		})
	}
}

// An archive that does not match the digest its index declares is refused
// and not cached.
func TestHTTPDigestMismatchRefused(t *testing.T) {
	srv, dir := chartRepo(t, false, "2.19.3")
	archive := filepath.Join(dir, "sealed-secrets-2.19.3.tgz")
	// Replace the archive with another valid chart: only the digest tells.
	other := t.TempDir()
	packageChart(t, sealedSecretsChart(t), other, "2.19.3")
	ch := filepath.Join(other, "sealed-secrets-2.19.3.tgz")
	b, err := os.ReadFile(ch)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, 0) // gzip ignores trailing garbage? No matter: the digest differs.
	if err := os.WriteFile(archive, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	f := newFetcher(t, chartsource.Options{CacheDir: cache})
	_, _, err = f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: srv.URL, Chart: "sealed-secrets", Version: "2.19.3"})
	if !errors.Is(err, chartsource.ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(cache, "sha256", "*")); len(entries) != 0 {
		t.Errorf("a refused archive was cached: %v", entries)
	}
}

// A second fetch of an exact version makes no request at all (a new
// Fetcher, the same cache); a range reads the index again but not the
// chart; a corrupt cache entry is detected by its digest and refetched.
func TestHTTPCacheHit(t *testing.T) {
	srv, _ := chartRepo(t, false, "2.19.3", "3.0.0")
	cache := t.TempDir()
	ref := chartsource.ChartRef{RepoURL: srv.URL, Chart: "sealed-secrets", Version: "2.19.3"}
	first, err := newFetcher(t, chartsource.Options{CacheDir: cache}).FetchChart(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached {
		t.Error("first fetch says Cached")
	}

	srv.reset()
	again, err := newFetcher(t, chartsource.Options{CacheDir: cache}).FetchChart(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.requests(); len(got) != 0 {
		t.Errorf("second fetch of an exact version made requests %v, want none", got)
	}
	if !again.Cached || again.Digest != first.Digest || again.Path != first.Path {
		t.Errorf("second fetch = %+v, want the cached %+v", again, first)
	}

	srv.reset()
	ranged := ref
	ranged.Version = "2.x"
	if _, err := newFetcher(t, chartsource.Options{CacheDir: cache}).FetchChart(context.Background(), ranged); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests(); len(got) != 1 || !strings.HasSuffix(got[0], "/index.yaml") {
		t.Errorf("a range over a cached chart made requests %v, want the index only", got)
	}

	// Corrupt the cached archive: the next fetch notices and downloads it.
	if err := os.WriteFile(first.Path, []byte("not a chart"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.reset()
	fixed, err := newFetcher(t, chartsource.Options{CacheDir: cache}).FetchChart(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if n := countSuffix(srv.requests(), ".tgz"); n != 1 || fixed.Cached {
		t.Errorf("after corrupting the cache: %d chart downloads (Cached=%v), want 1", n, fixed.Cached)
	}
	if got := fileDigest(t, fixed.Path); got != first.Digest {
		t.Errorf("refetched archive has digest %s, want %s", got, first.Digest)
	}
}

// Responses are untrusted: an oversized index or chart is refused, and an
// index cannot make the fetcher read a file:// URL or another scheme.
func TestHTTPHostileRepository(t *testing.T) {
	t.Run("index larger than the limit", func(t *testing.T) {
		srv, _ := chartRepo(t, false, "2.19.3")
		f := newFetcher(t, chartsource.Options{Limits: chartsource.Limits{IndexSize: 100}})
		_, _, err := f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: srv.URL, Chart: "sealed-secrets"})
		if err == nil || !strings.Contains(err.Error(), "limit of 100") {
			t.Fatalf("err = %v, want the index refused as too large", err)
		}
	})
	t.Run("index larger than the limit, streamed without a length", func(t *testing.T) {
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < 1000; i++ {
				_, _ = w.Write([]byte("# padding padding padding padding padding padding\n"))
				w.(http.Flusher).Flush()
			}
		}))
		f := newFetcher(t, chartsource.Options{Limits: chartsource.Limits{IndexSize: 4096}})
		_, _, err := f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: srv.URL, Chart: "app"})
		if err == nil || !strings.Contains(err.Error(), "limit of 4096") {
			t.Fatalf("err = %v, want the index refused as too large", err)
		}
	})
	t.Run("chart larger than the limit", func(t *testing.T) {
		srv, _ := chartRepo(t, false, "2.19.3")
		f := newFetcher(t, chartsource.Options{Limits: chartsource.Limits{ChartSize: 1000}})
		_, _, err := f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: srv.URL, Chart: "sealed-secrets"})
		if err == nil || !strings.Contains(err.Error(), "limit of 1000") {
			t.Fatalf("err = %v, want the chart refused as too large", err)
		}
	})
	for _, u := range []string{"file:///etc/passwd", "ftp://127.0.0.1/x.tgz", "gopher://127.0.0.1/x"} {
		t.Run("chart URL "+u, func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte("apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    apiVersion: v2\n    urls: [\"" + u + "\"]\n"))
			}))
			f := newFetcher(t, chartsource.Options{})
			_, _, err := f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: srv.URL, Chart: "app"})
			if err == nil || !strings.Contains(err.Error(), "only http and https") {
				t.Fatalf("err = %v, want the %s URL refused", err, u)
			}
		})
	}
	t.Run("index digest naming a path", func(t *testing.T) {
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    apiVersion: v2\n    digest: ../../../../etc/passwd\n    urls: [app-1.0.0.tgz]\n"))
		}))
		_, _, err := newFetcher(t, chartsource.Options{}).Fetch(context.Background(), chartsource.ChartRef{RepoURL: srv.URL, Chart: "app"})
		if err == nil || !strings.Contains(err.Error(), "invalid sha256 digest") {
			t.Fatalf("err = %v, want the digest refused", err)
		}
		if n := countSuffix(srv.requests(), ".tgz"); n != 0 {
			t.Errorf("the chart was downloaded %d times", n)
		}
	})
	t.Run("redirect to file://", func(t *testing.T) {
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}))
		f := newFetcher(t, chartsource.Options{})
		_, _, err := f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: srv.URL, Chart: "app"})
		if err == nil || strings.Contains(err.Error(), "root:") {
			t.Fatalf("err = %v, want the redirect refused", err)
		}
	})
}

// A cancelled context stops a fetch, and is what the error says.
func TestHTTPContextCancels(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := newFetcher(t, chartsource.Options{}).Fetch(ctx, chartsource.ChartRef{RepoURL: srv.URL, Chart: "app"})
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
