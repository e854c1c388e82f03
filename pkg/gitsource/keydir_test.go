//go:build linux

package gitsource

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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

// TestSweepKeyDirsUnknownPIDNamespace: where /proc cannot be read the pid
// namespace is unknown ("0"), and two containers without /proc sharing a
// temporary directory and a uid would each judge the other's pids in its
// own namespace — a live process's key directory removed as another's
// dead pid. With the namespace unknown, the sweep removes nothing.
func TestSweepKeyDirsUnknownPIDNamespace(t *testing.T) {
	known := pidNamespace
	t.Cleanup(func() { pidNamespace = known })
	pidNamespace = func() string { return unknownPIDNamespace }
	base := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	// Another container's, its pid dead here (perhaps alive there).
	other := filepath.Join(base, keyDirPrefix+strconv.Itoa(dead.Process.Pid)+"-"+unknownPIDNamespace+"-1")
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "identity"), []byte("canary-s3cr3t-7f3a"), 0o600); err != nil {
		t.Fatal(err)
	}

	sweepKeyDirs(base)

	if _, err := os.Stat(filepath.Join(other, "identity")); err != nil {
		t.Errorf("a key directory was swept with the pid namespace unknown: %v", err)
	}
	// With the namespace known again, such a directory is not this
	// namespace's and is kept too; one named with it is swept.
	pidNamespace = known
	mine := filepath.Join(base, keyDirPrefix+strconv.Itoa(dead.Process.Pid)+"-"+pidNamespace()+"-2")
	if err := os.MkdirAll(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	sweepKeyDirs(base)
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another namespace's key directory was swept: %v", err)
	}
	if _, err := os.Lstat(mine); !os.IsNotExist(err) {
		t.Errorf("the dead process's key directory is still there (%v)", err)
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

// killedFetchEnv names the file of the fetch TestKilledFetchKeySwept's
// child process runs.
const killedFetchEnv = "GITSOURCE_TEST_KILLED_FETCH"

// TestKilledFetchKeySwept: a process fetching over SSH is killed outright
// (SIGKILL) while ssh runs: its decrypted key stays on disk, as nothing of
// it runs again. The next fetch over SSH (another process) removes it
// before it writes its own key.
func TestKilledFetchKeySwept(t *testing.T) {
	if spec := os.Getenv(killedFetchEnv); spec != "" {
		// The child: fetch from the server that never answers.
		data, err := os.ReadFile(spec)
		if err != nil {
			os.Exit(3)
		}
		var s struct{ URL, TempDir, Key, KnownHosts string }
		if err := json.Unmarshal(data, &s); err != nil {
			os.Exit(3)
		}
		_, _ = Fetch(context.Background(), Spec{URL: s.URL, TempDir: s.TempDir,
			Auth: &Auth{Secret: "ns/s", Identity: s.Key, Password: authCanary, KnownHosts: s.KnownHosts}})
		os.Exit(0)
	}
	argv := sshWrapper(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		open  []net.Conn
		conns sync.WaitGroup
	)
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range open { // ssh, orphaned by the kill, then exits
			_ = c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			conns.Go(func() { _, _ = io.Copy(io.Discard, c) }) // never answers
		}
	})
	private, _, canaries := sshKey(t, authCanary)
	knownHosts := "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	tmp := t.TempDir()
	url := "ssh://git@" + ln.Addr().String() + "/org/repo.git"
	spec, err := json.Marshal(map[string]string{"URL": url, "TempDir": tmp, "Key": private, "KnownHosts": knownHosts})
	if err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(specFile, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestKilledFetchKeySwept$")
	child.Env = append(os.Environ(), killedFetchEnv+"="+specFile)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = child.Process.Kill()
			_ = child.Wait()
		}
	})
	// Wait for ssh to run with the key written.
	waitSSHStarted(t, argv, 60*time.Second)
	dirs, _ := filepath.Glob(filepath.Join(tmp, keyDirPrefix+strconv.Itoa(child.Process.Pid)+"-*"))
	if len(dirs) != 1 {
		t.Fatalf("key directories %v of the child, want one", dirs)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	killed = true
	if _, err := os.Stat(filepath.Join(dirs[0], "identity")); err != nil {
		t.Fatalf("the killed process's key is not left behind (%v): the test shows nothing", err)
	}

	// The next fetch over SSH (cancelled at once: the sweep comes first).
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = Fetch(ctx, Spec{URL: url, TempDir: tmp, Auth: &Auth{Secret: "ns/s", Identity: private, Password: authCanary, KnownHosts: knownHosts}})
	if err == nil {
		t.Fatal("a cancelled fetch succeeded")
	}
	if leaked(err.Error(), canaries) != "" {
		t.Errorf("the error holds the key: %v", err)
	}
	// (The killed fetch's partial checkout, kubectl-gitops-src-…, holds
	// no credential and is not swept.)
	if left, _ := filepath.Glob(filepath.Join(tmp, keyDirPrefix+"*")); len(left) != 0 {
		t.Errorf("key directories left: %v", left)
	}
}
