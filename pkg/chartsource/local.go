package chartsource

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/loader"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// localDir says whether an (overridden) repository URL is a local
// directory: a file:// URL or a path.
func localDir(u string) (string, bool) {
	if rest, ok := strings.CutPrefix(u, "file://"); ok {
		return filepath.FromSlash(rest), true
	}
	if strings.Contains(u, "://") {
		return "", false
	}
	return u, true
}

// fetchLocal resolves a chart in a local directory that a repository
// override points at. The directory holds an index.yaml with archives
// beside it (a copy of a chart repository: its URLs must be relative and
// stay inside the directory), or chart archives (*.tgz) and unpacked charts
// (sub-directories with a Chart.yaml), or is itself an unpacked chart.
// Nothing is copied into the cache: the path returned is in the directory.
func (f *Fetcher) fetchLocal(dir string, ref ChartRef) (*Chart, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("repository override: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("repository override %s: not a directory", dir)
	}
	name := ref.Chart
	if name == "" {
		name = path.Base(strings.TrimSuffix(ref.RepoURL, "/"))
	}
	ver := ref.Version
	switch {
	case ref.Digest != "":
		return nil, fmt.Errorf("repository override %s: a digest reference (%s) cannot be resolved in a directory: use a tag or semver reference", dir, ref.Digest)
	case ref.Chart == "" && ref.Semver != "":
		ver = ref.Semver
	case ref.Chart == "" && ref.Tag != "latest":
		ver = ref.Tag
	}
	var cvs repo.ChartVersions
	indexed := false
	if b, err := os.ReadFile(filepath.Join(dir, "index.yaml")); err == nil {
		if int64(len(b)) > f.limits.IndexSize {
			return nil, fmt.Errorf("%s: larger than %d bytes", filepath.Join(dir, "index.yaml"), f.limits.IndexSize)
		}
		idx, err := loadIndex(b)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "index.yaml"), err)
		}
		cvs, indexed = idx.Entries[name], true
	} else if cvs, err = scanCharts(dir); err != nil {
		return nil, err
	}
	if len(cvs) == 1 && cvs[0].URLs[0] == "." && ref.Chart == "" {
		// An OCIRepository mapped to an unpacked chart: its name is the
		// chart's, whatever the repository path's last segment.
		name = cvs[0].Name
	}
	cv, err := pickIndexVersion(filterName(cvs, name), name, ver)
	if err != nil {
		return nil, fmt.Errorf("in %s: %w", dir, err)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("in %s: chart %s %s has no URL", dir, name, cv.Version)
	}
	rel, err := localRel(cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("in %s: chart %s %s: %w", dir, name, cv.Version, err)
	}
	p := filepath.Join(dir, rel)
	c := &Chart{Path: p, Name: name, Version: cv.Version, URL: p}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("in %s: %w", dir, err)
	}
	if st.IsDir() {
		if c.Digest, err = dirDigest(p); err != nil {
			return nil, err
		}
		return c, nil
	}
	if st.Size() > f.limits.ChartSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, f.limits.ChartSize)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	got := sha256Hex(data)
	if indexed && cv.Digest != "" {
		want, err := digestHex(cv.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if got != want {
			return nil, fmt.Errorf("%s: %w: the index says sha256:%s, the archive is sha256:%s", p, ErrDigestMismatch, want, got)
		}
	}
	if err := checkArchive(data, name); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	c.Digest = "sha256:" + got
	return c, nil
}

func filterName(cvs repo.ChartVersions, name string) repo.ChartVersions {
	var out repo.ChartVersions
	for _, cv := range cvs {
		if cv != nil && cv.Metadata != nil && cv.Name == name {
			out = append(out, cv)
		}
	}
	return out
}

// localRel turns an index URL into a path inside the directory: relative,
// no scheme or host, not leaving the directory.
func localRel(u string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	if pu.Scheme != "" || pu.Host != "" {
		return "", fmt.Errorf("URL %q is not relative: an override directory's index must name files beside it", pu.Redacted())
	}
	rel := filepath.FromSlash(pu.Path)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("path %q leaves the override directory", pu.Path)
	}
	return rel, nil
}

// scanCharts lists the charts of a directory without an index: itself if
// it is an unpacked chart, else its *.tgz archives and its sub-directories
// holding a Chart.yaml.
func scanCharts(dir string) (repo.ChartVersions, error) {
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err == nil {
		md, err := chartMetadata(dir)
		if err != nil {
			return nil, err
		}
		return repo.ChartVersions{{Metadata: md, URLs: []string{"."}}}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out repo.ChartVersions
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		isChartDir := e.IsDir() && fileExists(filepath.Join(p, "Chart.yaml"))
		if !isChartDir && (!e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".tgz")) {
			continue
		}
		md, err := chartMetadata(p)
		if err != nil {
			continue // not a chart
		}
		out = append(out, &repo.ChartVersion{Metadata: md, URLs: []string{e.Name()}})
	}
	return out, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// chartMetadata loads a chart (archive or directory) with Helm's loader
// and returns its name and version.
func chartMetadata(p string) (*chartv2.Metadata, error) {
	ch, err := loader.Load(p)
	if err != nil {
		return nil, fmt.Errorf("loading the chart %s: %w", p, err)
	}
	acc, err := chart.NewDefaultAccessor(ch)
	if err != nil {
		return nil, fmt.Errorf("loading the chart %s: %w", p, err)
	}
	v, _ := acc.MetadataAsMap()["Version"].(string)
	return &chartv2.Metadata{Name: acc.Name(), Version: v}, nil
}

// dirDigest is "sha256:<hex>" over an unpacked chart's regular files: each
// file's slash-separated path, a NUL, its SHA-256, a newline, in path
// order. Symbolic links are refused (a chart directory is data).
func dirDigest(dir string) (string, error) {
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: a symbolic link in a chart directory", p)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		lines = append(lines, filepath.ToSlash(rel)+"\x00"+sha256Hex(b)+"\n")
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("digesting %s: %w", dir, err)
	}
	sort.Strings(lines)
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(l)
	}
	s := sha256.Sum256(buf.Bytes())
	return "sha256:" + hex.EncodeToString(s[:]), nil
}
