package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRewriteThroughSymlink: an in-place rewrite of a symbolic link
// replaces the file it resolves to (through a chain of links) and keeps
// the links; nothing is left behind.
func TestRewriteThroughSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	real := filepath.Join(dir, "sub", "real.yaml")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("plaintext"), 0o644); err != nil {
		t.Fatal(err)
	}
	mid, link := filepath.Join(dir, "mid.yaml"), filepath.Join(dir, "link.yaml")
	if err := os.Symlink("sub/real.yaml", mid); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("mid.yaml", link); err != nil {
		t.Fatal(err)
	}
	if err := Rewrite(link, []byte("sealed"), Private); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(real); string(b) != "sealed" {
		t.Errorf("target holds %q, want the new content", b)
	}
	for _, l := range []string{link, mid} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link (%v)", l, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(real)); len(entries) != 1 {
		t.Errorf("left files behind: %v", entries)
	}
	// WriteFile, for files this program owns, replaces the link instead.
	if err := WriteFile(link, []byte("own"), Private); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink != 0 {
		t.Error("WriteFile wrote through a link")
	}
}

// TestRewriteRefusesHardLinks: a file with two names is not replaced (the
// other name would keep the old content); both stay as they were.
func TestRewriteRefusesHardLinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	if err := os.WriteFile(a, []byte("plaintext"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(a, b); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	// Also through a symbolic link to one of the names.
	l := filepath.Join(dir, "l.yaml")
	if err := os.Symlink("a.yaml", l); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{a, l} {
		if err := Rewrite(p, []byte("sealed"), Private); !errors.Is(err, ErrHardLinks) {
			t.Errorf("Rewrite(%s) = %v, want ErrHardLinks", filepath.Base(p), err)
		}
	}
	for _, p := range []string{a, b} {
		if got, _ := os.ReadFile(p); string(got) != "plaintext" {
			t.Errorf("%s changed to %q", filepath.Base(p), got)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("left files behind: %v", entries)
	}
}
