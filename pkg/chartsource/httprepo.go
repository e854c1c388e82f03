package chartsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sync"

	"helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/loader"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
)

// indexEntry is one repository index, loaded once per Fetcher.
type indexEntry struct {
	once sync.Once
	idx  *repo.IndexFile
	err  error
}

// fetchHTTP fetches a chart from an HTTP chart repository, as
// source-controller's ChartRepository does: index.yaml under the
// repository URL, the chart's first URL resolved against the repository
// URL (keeping its query), the archive checked against the index digest.
func (f *Fetcher) fetchHTTP(ctx context.Context, ref ChartRef) (*Chart, error) {
	base, err := url.Parse(ref.RepoURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("repository URL %q: want http(s)://host/… or oci://host/…", gitrepo.RedactURL(ref.RepoURL))
	}
	if ref.Chart == "" {
		return nil, errors.New("no chart name")
	}
	key := "http\x00" + ref.RepoURL + "\x00" + ref.Chart + "\x00" + ref.Version
	// Remembered only without credentials: with them, this run's index
	// request is what shows the repository still lets them in.
	exact := isExactVersion(ref.Version) && ref.Credentials == nil
	if exact {
		if c, ok := f.lookupRef(key); ok {
			return c, nil
		}
	}
	client := f.httpClient(ref, base)
	idx, err := f.index(ctx, client, ref, base)
	if err != nil {
		return nil, err
	}
	cv, err := pickIndexVersion(idx.Entries[ref.Chart], ref.Chart, ref.Version)
	if err != nil {
		return nil, err
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("chart %s %s has no download URL in the index", ref.Chart, cv.Version)
	}
	chartURL, err := repo.ResolveReferenceURL(ref.RepoURL, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", ref.Chart, cv.Version, err)
	}
	shown := gitrepo.RedactURL(chartURL)
	want := ""
	if cv.Digest != "" {
		if want, err = digestHex(cv.Digest); err != nil {
			return nil, fmt.Errorf("chart %s %s in the index: %w", ref.Chart, cv.Version, err)
		}
		if p, ok := f.cached(want); ok {
			c := &Chart{Path: p, Digest: "sha256:" + want, Name: cv.Name, Version: cv.Version, URL: shown, Cached: true}
			if exact {
				f.rememberRef(key, c)
			}
			return c, nil
		}
	}
	data, err := f.get(ctx, client, chartURL, f.limits.ChartSize, "chart archive")
	if err != nil {
		return nil, err
	}
	if got := sha256Hex(data); want != "" && got != want {
		return nil, fmt.Errorf("%s: %w: the index says sha256:%s, the archive is sha256:%s", shown, ErrDigestMismatch, want, got)
	}
	if err := checkArchive(data, ref.Chart); err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	p, hexd, err := f.store(data)
	if err != nil {
		return nil, err
	}
	c := &Chart{Path: p, Digest: "sha256:" + hexd, Name: cv.Name, Version: cv.Version, URL: shown}
	if exact {
		f.rememberRef(key, c)
	}
	return c, nil
}

// index returns the repository's index, downloaded once per Fetcher and
// credential.
func (f *Fetcher) index(ctx context.Context, client *http.Client, ref ChartRef, base *url.URL) (*repo.IndexFile, error) {
	u := *base
	u.RawPath = ""
	u.Path = path.Join(u.Path, "index.yaml")
	key := u.String()
	if ref.Credentials != nil {
		// The whole credential (in memory only): an index read with one
		// password is not another password's.
		key += "\x00" + ref.Credentials.Username + "\x00" + ref.Credentials.Password
	}
	f.mu.Lock()
	e := f.indexes[key]
	if e == nil {
		e = &indexEntry{}
		f.indexes[key] = e
	}
	f.mu.Unlock()
	e.once.Do(func() {
		var data []byte
		data, e.err = f.get(ctx, client, u.String(), f.limits.IndexSize, "repository index")
		if e.err == nil {
			e.idx, e.err = loadIndex(data)
			if e.err != nil {
				e.err = fmt.Errorf("reading %s: %w", gitrepo.RedactURL(u.String()), e.err)
			}
		}
	})
	if e.err != nil {
		// A failure (a cancelled context, say) is not remembered.
		f.mu.Lock()
		if f.indexes[key] == e {
			delete(f.indexes, key)
		}
		f.mu.Unlock()
	}
	return e.idx, e.err
}

// loadIndex parses an index as source-controller's LoadIndexFromBytes does
// (strict YAML into Helm's IndexFile, an apiVersion required), dropping
// empty entries as Helm's own loader does.
func loadIndex(data []byte) (*repo.IndexFile, error) {
	i := &repo.IndexFile{}
	if err := yaml.UnmarshalStrict(data, i); err != nil {
		return nil, err
	}
	if i.APIVersion == "" {
		return nil, repo.ErrNoAPIVersion
	}
	for name, cvs := range i.Entries {
		kept := cvs[:0]
		for _, cv := range cvs {
			if cv != nil && cv.Metadata != nil {
				kept = append(kept, cv)
			}
		}
		i.Entries[name] = kept
	}
	i.SortEntries()
	return i, nil
}

// get downloads u, failing past limit bytes.
func (f *Fetcher) get(ctx context.Context, client *http.Client, u string, limit int64, what string) ([]byte, error) {
	shown := gitrepo.RedactURL(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", shown, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, credentials and all
		}
		return nil, fmt.Errorf("downloading %s: %w", shown, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading %s: %s", shown, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("downloading %s: the %s is %d bytes, more than the limit of %d", shown, what, resp.ContentLength, limit)
	}
	b, err := readBounded(resp.Body, limit, "the "+what)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", shown, err)
	}
	return b, nil
}

// httpClient is a client for one repository: its credentials go to the
// repository's host only (and to every host with PassCredentials, as
// Helm's passCredentialsAll).
func (f *Fetcher) httpClient(ref ChartRef, base *url.URL) *http.Client {
	g := &guard{inner: f.opts.Transport, auth: ref.Credentials, maxReq: 100}
	if ref.Credentials != nil {
		g.authHosts = map[string]bool{canonicalHost(base): true}
		if ref.PassCredentials {
			g.authHosts = nil
			g.allHosts = true
		}
	}
	return &http.Client{Transport: g, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}}
}

// checkArchive loads the archive with Helm's loader (which bounds its
// decompressed size, archive.MaxDecompressedChartSize) and checks that it
// is the chart asked for.
func checkArchive(data []byte, name string) error {
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("loading the chart archive: %w", err)
	}
	acc, err := chart.NewDefaultAccessor(ch)
	if err != nil {
		return fmt.Errorf("loading the chart archive: %w", err)
	}
	if name != "" && acc.Name() != name {
		return fmt.Errorf("the archive holds chart %q, not %q", acc.Name(), name)
	}
	return nil
}
