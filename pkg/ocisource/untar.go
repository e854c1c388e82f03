package ocisource

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
)

// ErrUnsafeEntry is returned (wrapped) for a tar entry that would leave the
// artifact's directory (an absolute name, "..", a symbolic link pointing
// out) or that is not a file, directory or symbolic link (a hard link, a
// device, a FIFO).
var ErrUnsafeEntry = errors.New("unsafe tar entry")

// untar extracts the gzip-compressed tar r into dir, which exists and is
// empty. Symbolic links are not created: those that point inside dir are
// skipped, as source-controller skips them when it extracts a layer and
// kustomize-controller when it unpacks an artifact; those pointing out
// are refused. At most maxBytes are decompressed. It returns the names of
// the links skipped.
func untar(ctx context.Context, r io.Reader, dir string, maxBytes int64) ([]string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading the layer: not gzip-compressed: %w", err)
	}
	defer func() { _ = zr.Close() }()
	counted := &countingReader{r: zr, left: maxBytes, limit: maxBytes}
	tr := tar.NewReader(counted)
	var skipped []string
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return skipped, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the layer: %w", err)
		}
		rel, err := entryPath(h.Name)
		if err != nil {
			return nil, err
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o750); err != nil {
				return nil, fmt.Errorf("extracting %s: %w", rel, err)
			}
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old archives still use TypeRegA
			if err := writeFile(tr, target, h.Mode); err != nil {
				return nil, fmt.Errorf("extracting %s: %w", rel, err)
			}
		case tar.TypeSymlink:
			if !linkInside(rel, h.Linkname) {
				return nil, fmt.Errorf("tar entry %q: symbolic link to %q points outside the artifact: %w", h.Name, h.Linkname, ErrUnsafeEntry)
			}
			skipped = append(skipped, rel)
		case tar.TypeLink:
			return nil, fmt.Errorf("tar entry %q: hard links are not supported: %w", h.Name, ErrUnsafeEntry)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return nil, fmt.Errorf("tar entry %q: devices and FIFOs are not allowed: %w", h.Name, ErrUnsafeEntry)
		case tar.TypeXGlobalHeader:
		default:
			return nil, fmt.Errorf("tar entry %q: unsupported type %q: %w", h.Name, h.Typeflag, ErrUnsafeEntry)
		}
	}
}

// entryPath checks a tar entry's name as Flux's untar does (no absolute
// path, no backslash, nothing leaving the directory) and cleans it.
func entryPath(name string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("tar entry %q: %s: %w", name, why, ErrUnsafeEntry)
	}
	switch {
	case name == "":
		return "", bad("empty name")
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name):
		return "", bad("absolute path")
	case strings.Contains(name, `\`):
		return "", bad("backslash in the name")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", bad(`".." leaves the artifact`)
		}
	}
	return path.Clean(name), nil
}

// linkInside: a link at rel (slash-separated, inside the root) to target
// stays inside the root.
func linkInside(rel, target string) bool {
	if target == "" || strings.HasPrefix(target, "/") || filepath.IsAbs(target) || strings.Contains(target, `\`) {
		return false
	}
	p := path.Join(path.Dir(rel), target)
	return p != ".." && !strings.HasPrefix(p, "../")
}

func writeFile(r io.Reader, target string, mode int64) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return err
	}
	perm := fs.FileMode(mode).Perm()&0o755 | 0o600
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

type countingReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("the unpacked layer %w of %d bytes", ErrTooLarge, c.limit)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// applyIgnore removes from dir the files source-controller leaves out of
// the artifact it archives from an extracted layer: those its default
// exclusions (VCS, CI files, images and archives, .sops.yaml…), the
// .sourceignore files in dir and the OCIRepository's spec.ignore match.
func applyIgnore(dir string, ignore *string) error {
	domain := strings.Split(dir, string(filepath.Separator))
	ps, err := sourceignore.LoadIgnorePatterns(dir, domain)
	if err != nil {
		return fmt.Errorf("reading .sourceignore files: %w", err)
	}
	if ignore != nil {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(*ignore), domain)...)
	}
	m := sourceignore.NewDefaultMatcher(ps, domain)
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if m.Match(strings.Split(p, string(filepath.Separator)), false) {
			return os.Remove(p)
		}
		return nil
	})
}
