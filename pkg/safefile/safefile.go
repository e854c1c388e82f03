package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Private is the mode of files that may hold secrets.
const Private fs.FileMode = 0o600

// ErrHardLinks is returned by Rewrite for a file with several hard links.
var ErrHardLinks = errors.New("the file has several hard links: replacing it would leave the old content under the other names (break the links first, or write elsewhere)")

// Rewrite atomically replaces the content of path, a file the user named to
// be changed in place (an in-place encryption), as WriteFile does, but:
//
//   - when path is a symbolic link, the file it resolves to is replaced and
//     the link stays (replacing the link would leave the old content, say a
//     plaintext Secret, in its target);
//   - a file with several hard links is refused with ErrHardLinks: the
//     rename gives path a new inode and the other names would keep the old
//     content, and rewriting the inode in place would not be atomic.
//
// Use WriteFile for files this program owns (a temporary worktree, an
// export): it never writes through a link.
func Rewrite(path string, data []byte, perm fs.FileMode) error {
	target := path
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return fmt.Errorf("writing %s: resolving the symbolic link: %w", path, err)
		}
		fi, err = os.Lstat(target)
	}
	if err == nil {
		switch {
		case !fi.Mode().IsRegular():
			return fmt.Errorf("writing %s: not a regular file", path)
		case hardLinks(fi) > 1:
			return fmt.Errorf("writing %s: %w", path, ErrHardLinks)
		}
	}
	return WriteFile(target, data, perm)
}

// WriteFile atomically replaces path with data, with mode perm. A symbolic
// link at path is replaced, not written through.
func WriteFile(path string, data []byte, perm fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Persist the rename. Some file systems cannot sync a directory; the
	// rename is done either way, so that is not an error.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
