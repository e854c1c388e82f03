package chartsource

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/safefile"
)

// The cache holds chart archives by the SHA-256 digest of their content:
//
//	<cache>/sha256/<hex>.tgz
//
// and, for references that name one version (an exact chart version, an
// OCI digest) fetched without credentials, what they resolved to, so that a
// second run fetches nothing:
//
//	<cache>/refs/anonymous/<sha256 of the reference>.json
//
// A fetch with credentials (a secretRef's, or a registry configuration's)
// is not remembered: a later run, with other credentials or none, must ask
// the repository (its index, the manifest) as if nothing were cached, and
// gets an archive from the cache only by the digest the repository then
// answered — a user the repository refuses gets nothing from here. The
// cache holds no credential, not even a hash of one. (References remembered
// before this rule, directly under refs/, are never read.)
//
// Paths are built from digests this package computed or validated, never
// from names a repository sent. Every file is written atomically
// (safefile); an archive whose content does not match its name is removed
// and fetched again.

var hexDigest = regexp.MustCompile(`^[a-f0-9]{64}$`)

// digestHex validates "sha256:<hex>" (or bare hex, as index.yaml has it)
// and returns the hex.
func digestHex(d string) (string, error) {
	h := strings.TrimPrefix(strings.ToLower(d), "sha256:")
	if !hexDigest.MatchString(h) {
		return "", fmt.Errorf("invalid sha256 digest %q", d)
	}
	return h, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (f *Fetcher) archivePath(hexd string) string {
	return filepath.Join(f.cacheDir, "sha256", hexd+".tgz")
}

// cached returns the path of the cached archive with digest hexd if it is
// there and intact; a corrupt entry is removed.
func (f *Fetcher) cached(hexd string) (string, bool) {
	p := f.archivePath(hexd)
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > f.limits.ChartSize {
		if err == nil {
			_ = os.Remove(p)
		}
		return "", false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	if sha256Hex(b) != hexd {
		_ = os.Remove(p)
		return "", false
	}
	return p, true
}

// store writes an archive to the cache and returns its path.
func (f *Fetcher) store(data []byte) (string, string, error) {
	hexd := sha256Hex(data)
	p := f.archivePath(hexd)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", "", fmt.Errorf("creating the chart cache: %w", err)
	}
	if err := safefile.WriteFile(p, data, 0o600); err != nil {
		return "", "", fmt.Errorf("caching the chart: %w", err)
	}
	return p, hexd, nil
}

// resolution is what a reference naming one version resolved to.
type resolution struct {
	Digest         string `json:"digest"`
	Name           string `json:"name"`
	Version        string `json:"version"`
	URL            string `json:"url"`
	ManifestDigest string `json:"manifestDigest,omitempty"`
}

func (f *Fetcher) refPath(key string) string {
	return filepath.Join(f.cacheDir, "refs", "anonymous", sha256Hex([]byte(key))+".json")
}

// lookupRef returns the chart a remembered reference resolved to, if its
// archive is still in the cache and intact. Only for fetches without
// credentials.
func (f *Fetcher) lookupRef(key string) (*Chart, bool) {
	b, err := os.ReadFile(f.refPath(key))
	if err != nil || len(b) > 64<<10 {
		return nil, false
	}
	var r resolution
	if json.Unmarshal(b, &r) != nil {
		return nil, false
	}
	hexd, err := digestHex(r.Digest)
	if err != nil {
		return nil, false
	}
	p, ok := f.cached(hexd)
	if !ok {
		return nil, false
	}
	return &Chart{Path: p, Digest: "sha256:" + hexd, Name: r.Name, Version: r.Version, URL: r.URL,
		ManifestDigest: r.ManifestDigest, Cached: true}, true
}

// rememberRef records what a reference fetched without credentials
// resolved to. A failure only costs a fetch next time.
func (f *Fetcher) rememberRef(key string, c *Chart) {
	b, err := json.Marshal(resolution{Digest: c.Digest, Name: c.Name, Version: c.Version, URL: c.URL, ManifestDigest: c.ManifestDigest})
	if err != nil {
		return
	}
	p := f.refPath(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return
	}
	_ = safefile.WriteFile(p, b, 0o600)
}
