package seal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
)

// runGit runs git in dir ("" for the working directory) and returns its
// stdout. The repository variables of a hook are kept (gitrepo.RunOptions
// HookEnv), so that inside a pre-commit hook git's GIT_INDEX_FILE and
// GIT_DIR are honoured.
func runGit(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	return gitrepo.Run(ctx, gitrepo.RunOptions{Dir: dir, Stdin: stdin, HookEnv: true}, args...)
}

// gitTop returns the top of the work tree holding dir; ok is false outside
// one, or without git.
func gitTop(ctx context.Context, dir string) (top string, ok bool) {
	if !gitrepo.Installed() {
		return "", false
	}
	out, err := runGit(ctx, dir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", false
	}
	top = strings.TrimSpace(string(out))
	return top, top != ""
}

// splitZ splits git's -z output.
func splitZ(out []byte) []string {
	var list []string
	for _, s := range strings.Split(string(out), "\x00") {
		if s != "" {
			list = append(list, s)
		}
	}
	return list
}

// ignoredBy returns a function reporting whether git ignores a path
// (relative to top) that is not tracked, with answers cached.
func ignoredBy(ctx context.Context, top string) func(string) bool {
	cache := map[string]bool{}
	return func(name string) bool {
		if v, ok := cache[name]; ok {
			return v
		}
		// Exit 0: ignored; 1: not ignored (tracked files are never ignored).
		_, err := runGit(ctx, top, nil, "check-ignore", "-q", "--", name)
		cache[name] = err == nil
		return err == nil
	}
}

// indexEntry is a regular file in the git index.
type indexEntry struct {
	object string
	mode   fs.FileMode
}

// indexFS is the content of the git index (stage 0 regular files, by path
// relative to the top of the work tree): what the next commit holds. It
// never reads the work tree, and never writes anything to disk.
type indexFS struct {
	ctx     context.Context
	dir     string // where git runs
	entries map[string]indexEntry
	blobs   map[string][]byte // by object id
}

// readIndex lists the index of the repository of the working directory.
// Symbolic links, submodules and unmerged entries are not files and are
// left out.
func readIndex(ctx context.Context, dir string) (*indexFS, error) {
	out, err := runGit(ctx, dir, nil, "ls-files", "-s", "-z", "--full-name", "--", ":/")
	if err != nil {
		return nil, err
	}
	ifs := &indexFS{ctx: ctx, dir: dir, entries: map[string]indexEntry{}, blobs: map[string][]byte{}}
	for _, rec := range splitZ(out) {
		// <mode> SP <object> SP <stage> TAB <path>
		meta, p, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 || f[2] != "0" {
			continue
		}
		var mode fs.FileMode
		switch f[0] {
		case "100644":
			mode = 0o644
		case "100755":
			mode = 0o755
		default:
			continue
		}
		ifs.entries[p] = indexEntry{object: f[1], mode: mode}
	}
	return ifs, nil
}

// prefetch reads the blobs of names with one git cat-file --batch.
func (f *indexFS) prefetch(names []string) error {
	var ids []string
	seen := map[string]bool{}
	for _, n := range names {
		e, ok := f.entries[n]
		if !ok || seen[e.object] || f.blobs[e.object] != nil {
			continue
		}
		seen[e.object] = true
		ids = append(ids, e.object)
	}
	if len(ids) == 0 {
		return nil
	}
	out, err := runGit(f.ctx, f.dir, strings.NewReader(strings.Join(ids, "\n")+"\n"), "cat-file", "--batch")
	if err != nil {
		return err
	}
	r := bufio.NewReader(bytes.NewReader(out))
	for range ids {
		header, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("git cat-file: %w", err)
		}
		// <object> SP <type> SP <size> LF <content> LF, or <object> SP missing LF.
		h := strings.Fields(header)
		if len(h) != 3 {
			continue
		}
		size, err := strconv.Atoi(h[2])
		if err != nil {
			return fmt.Errorf("git cat-file: bad header %q", strings.TrimSpace(header))
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			return fmt.Errorf("git cat-file: %w", err)
		}
		if _, err := r.Discard(1); err != nil {
			return fmt.Errorf("git cat-file: %w", err)
		}
		f.blobs[h[0]] = data
	}
	return nil
}

// ReadFile returns the staged content of name.
func (f *indexFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := f.entries[name]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	if b, ok := f.blobs[e.object]; ok {
		return b, nil
	}
	b, err := runGit(f.ctx, f.dir, nil, "cat-file", "blob", e.object)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	f.blobs[e.object] = b
	return b, nil
}

// Open opens a staged file; directories are not listed.
func (f *indexFS) Open(name string) (fs.File, error) {
	b, err := f.ReadFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "open"
		}
		return nil, err
	}
	return &indexFile{Reader: bytes.NewReader(b), info: indexInfo{name: path.Base(name), size: int64(len(b)), mode: f.entries[name].mode}}, nil
}

type indexFile struct {
	*bytes.Reader
	info indexInfo
}

func (f *indexFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *indexFile) Close() error               { return nil }

type indexInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i indexInfo) Name() string       { return i.name }
func (i indexInfo) Size() int64        { return i.size }
func (i indexInfo) Mode() fs.FileMode  { return i.mode }
func (i indexInfo) ModTime() time.Time { return time.Time{} }
func (i indexInfo) IsDir() bool        { return false }
func (i indexInfo) Sys() any           { return nil }

// stagedFiles lists the files added, copied, modified or changed in type
// in the index, restricted to pathspecs, relative to the top of the work
// tree.
func stagedFiles(ctx context.Context, pathspecs []string) ([]string, error) {
	args := []string{"-c", "diff.relative=false", "diff", "--cached", "--name-only", "-z", "--no-renames", "--diff-filter=ACMT", "--"}
	out, err := runGit(ctx, "", nil, append(args, pathspecs...)...)
	if err != nil {
		return nil, err
	}
	list := splitZ(out)
	sort.Strings(list)
	return list, nil
}
