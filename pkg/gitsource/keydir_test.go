//go:build linux

package gitsource

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSweepKeyDirs: a process killed while git runs (SIGKILL runs no
// cleanup) leaves its decrypted SSH key behind. The next run sweeps the
// key directories of ours whose process is gone, and nothing else: a live
// process's is kept, and so are another pid namespace's, another prefix's,
// and a symbolic link named like ours (neither followed nor removed); a
// link inside a swept directory is removed, its target kept.
func TestSweepKeyDirs(t *testing.T) {
	base, outside := t.TempDir(), t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := exec.Command("sleep", "600")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = live.Process.Kill(); _ = live.Wait() })
	ns := pidNamespace()
	name := func(pid int, ns, rand string) string {
		return keyDirPrefix + strconv.Itoa(pid) + "-" + ns + "-" + rand
	}
	write := func(p, data string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const key = "-----BEGIN OPENSSH PRIVATE KEY----- canary-s3cr3t-7f3a"
	stale := filepath.Join(base, name(dead.Process.Pid, ns, "1"))
	write(filepath.Join(stale, "identity"), key)
	outsideFile := filepath.Join(outside, "keep.txt")
	write(outsideFile, "not ours to remove")
	if err := os.Symlink(outsideFile, filepath.Join(stale, "link")); err != nil {
		t.Fatal(err)
	}
	kept := []string{
		filepath.Join(base, name(live.Process.Pid, ns, "2"), "identity"),                           // in use
		filepath.Join(base, name(dead.Process.Pid, "1", "3"), "identity"),                          // another pid namespace's
		filepath.Join(base, "kubectl-gitops-src-"+strconv.Itoa(dead.Process.Pid)+"-"+ns+"-4", "x"), // another prefix
		filepath.Join(base, keyDirPrefix+"5", "identity"),                                          // an older name, no pid
		filepath.Join(outside, name(dead.Process.Pid, ns, "6"), "identity"),                        // the target of the link below
	}
	for _, k := range kept {
		write(k, key)
	}
	link := filepath.Join(base, name(dead.Process.Pid, ns, "6"))
	if err := os.Symlink(filepath.Dir(kept[4]), link); err != nil {
		t.Fatal(err)
	}

	sweepKeyDirs(base)

	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Errorf("the dead process's key directory is still there (%v)", err)
	}
	for _, k := range append(kept, outsideFile) {
		if _, err := os.Stat(k); err != nil {
			t.Errorf("%s was removed: %v", strings.TrimPrefix(k, base), err)
		}
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link named like ours was removed or replaced (%v)", err)
	}
}

// TestKeyDirInMemory: with no directory asked for, the key goes to
// /dev/shm (a memory file system: it never reaches a disk), in a
// directory named with this process's pid and pid namespace.
func TestKeyDirInMemory(t *testing.T) {
	if ramDir() == "" {
		t.Skip("no private /dev/shm on a tmpfs here")
	}
	dir, err := keyDir("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if filepath.Dir(dir) != "/dev/shm" || keyDirPID(filepath.Base(dir)) != os.Getpid() {
		t.Errorf("key directory %s, want /dev/shm/%s%d-%s-…", dir, keyDirPrefix, os.Getpid(), pidNamespace())
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %v (%v), want 0700", fi.Mode(), err)
	}
	asked := t.TempDir()
	if dir, err := keyDir(asked); err != nil || filepath.Dir(dir) != asked {
		t.Errorf("keyDir(%s) = %s, %v: want a directory under the one asked for", asked, dir, err)
	}
}
