package chartsource_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"helm.sh/helm/v4/pkg/registry"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
)

// staticKeychain gives every registry the same credentials, as a Docker
// or Helm registry configuration with one entry does.
type staticKeychain struct{ user, pass string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return &authn.Basic{Username: k.user, Password: k.pass}, nil
}

// A chart fetched with credentials (a secretRef's, or the registry
// configuration's) is not served from the cache to a later run, with the
// same cache directory, that has no credentials or wrong ones: that run
// asks the repository (index, manifest) as if nothing were cached, and
// the repository refuses it. With the right credentials again the cached
// archive is used once the repository answered (no chart download). The
// credentials are in no cache file's name or content.
func TestCacheServesCredentialedChartsOnlyWithCredentials(t *testing.T) {
	const user = "flux"
	archives := packageChart(t, sealedSecretsChart(t), t.TempDir(), "2.19.3")
	dir := t.TempDir()
	packageChart(t, sealedSecretsChart(t), dir, "2.19.3")
	writeIndex(t, dir, "")
	httpRepo := newServer(t, requireBasic(user, canary, http.FileServer(http.Dir(dir))))
	reg, blobs, host := privateRegistry(t, user, canary)
	digests := helmPush(t, host, archives, registry.ClientOptBasicAuth(user, canary))

	basic := func(pass string) *chartsource.BasicAuth {
		return &chartsource.BasicAuth{Username: user, Password: pass}
	}
	type run struct {
		creds    *chartsource.BasicAuth // the reference's
		keychain authn.Keychain         // nil: none
	}
	tests := []struct {
		name          string
		ref           chartsource.ChartRef
		right, wrong  run
		srv           *server
		chartRequests func() int // downloads of the archive itself
	}{
		{"HTTP repository, exact version", chartsource.ChartRef{RepoURL: httpRepo.URL, Chart: "sealed-secrets", Version: "2.19.3"},
			run{creds: basic(canary)}, run{creds: basic("wrong")}, httpRepo,
			func() int { return countSuffix(httpRepo.requests(), ".tgz") }},
		{"OCI HelmRepository, exact version", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "2.19.3"},
			run{creds: basic(canary)}, run{creds: basic("wrong")}, reg,
			func() int { return len(blobs.requests()) }},
		{"OCIRepository by digest", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts/sealed-secrets", Type: "oci", Digest: digests["2.19.3"]},
			run{creds: basic(canary)}, run{creds: basic("wrong")}, reg,
			func() int { return len(blobs.requests()) }},
		{"OCIRepository by tag, registry configuration", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts/sealed-secrets", Type: "oci", Tag: "2.19.3"},
			run{keychain: staticKeychain{user, canary}}, run{keychain: staticKeychain{user, "wrong"}}, reg,
			func() int { return len(blobs.requests()) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			fetch := func(r run) (*chartsource.Chart, error) {
				ref := tc.ref
				ref.Credentials = r.creds
				return newFetcher(t, chartsource.Options{CacheDir: cache, Keychain: r.keychain}).FetchChart(context.Background(), ref)
			}
			first, err := fetch(tc.right)
			if err != nil {
				t.Fatalf("with credentials: %v", err)
			}
			if name, version := chartVersion(t, first.Path); name != "sealed-secrets" || version != "2.19.3" {
				t.Fatalf("fetched %s %s", name, version)
			}
			for what, r := range map[string]run{"no credentials": {}, "wrong credentials": tc.wrong} {
				tc.srv.reset()
				c, err := fetch(r)
				if err == nil {
					t.Errorf("%s: served %s (cached %v), want the repository's refusal", what, c.Path, c.Cached)
				} else if !strings.Contains(err.Error(), "401") && !strings.Contains(err.Error(), "UNAUTHORIZED") {
					t.Errorf("%s: err = %v, want the repository's refusal", what, err)
				}
				if len(tc.srv.requests()) == 0 {
					t.Errorf("%s: the repository was not asked", what)
				}
			}
			tc.srv.reset()
			before := tc.chartRequests()
			again, err := fetch(tc.right)
			if err != nil {
				t.Fatalf("with credentials again: %v", err)
			}
			if !again.Cached || again.Digest != first.Digest || tc.chartRequests() != before {
				t.Errorf("with credentials again: cached %v, digest %s (want %s), %d chart downloads (want none)",
					again.Cached, again.Digest, first.Digest, tc.chartRequests()-before)
			}
			assertCacheHasNoCredentials(t, cache, canary)
		})
	}
}

// assertCacheHasNoCredentials checks every name and file under the cache
// for the password, its base64 and the base64 of user:password.
func assertCacheHasNoCredentials(t *testing.T, cache, pass string) {
	t.Helper()
	forbidden := []string{pass, base64.StdEncoding.EncodeToString([]byte(pass)), base64.StdEncoding.EncodeToString([]byte("flux:" + pass))}
	files := 0
	err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		text := p
		if d.Type().IsRegular() {
			files++
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			text += "\n" + string(b)
		}
		for _, f := range forbidden {
			if strings.Contains(text, f) {
				t.Errorf("the cache holds a credential (%q) in %s", f, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Error("the cache is empty: nothing was checked")
	}
}

// References remembered by earlier versions (refs/<sha256>.json, written
// for credentialed fetches too) are never read: a run without credentials
// asks the private repository, which refuses it.
func TestCacheIgnoresReferencesRememberedBefore(t *testing.T) {
	dir := t.TempDir()
	packageChart(t, sealedSecretsChart(t), dir, "2.19.3")
	writeIndex(t, dir, "")
	repo := newServer(t, requireBasic("flux", canary, http.FileServer(http.Dir(dir))))
	cache := t.TempDir()
	ref := chartsource.ChartRef{RepoURL: repo.URL, Chart: "sealed-secrets", Version: "2.19.3"}
	withCreds := ref
	withCreds.Credentials = &chartsource.BasicAuth{Username: "flux", Password: canary}
	c, err := newFetcher(t, chartsource.Options{CacheDir: cache}).FetchChart(context.Background(), withCreds)
	if err != nil {
		t.Fatal(err)
	}
	// What an earlier version wrote for that fetch.
	key := sha256.Sum256([]byte("http\x00" + ref.RepoURL + "\x00" + ref.Chart + "\x00" + ref.Version))
	old := filepath.Join(cache, "refs", hex.EncodeToString(key[:])+".json")
	data, _ := json.Marshal(map[string]string{"digest": c.Digest, "name": c.Name, "version": c.Version, "url": c.URL})
	if err := os.MkdirAll(filepath.Dir(old), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, data, 0o600); err != nil {
		t.Fatal(err)
	}
	repo.reset()
	if got, err := newFetcher(t, chartsource.Options{CacheDir: cache}).FetchChart(context.Background(), ref); err == nil {
		t.Errorf("without credentials: served %s (cached %v) from an old reference", got.Path, got.Cached)
	}
	if len(repo.requests()) == 0 {
		t.Error("without credentials: the repository was not asked")
	}
}
