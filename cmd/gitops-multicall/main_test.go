package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// build compiles the named ./cmd packages into dir.
func build(t *testing.T, dir string, pkgs ...string) {
	t.Helper()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, p := range pkgs {
		args = append(args, "../"+p)
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// run starts path as Argo CD v3 and Flux v2.9 start a plugin: argv[0] is the
// full path, PATH holds nothing of the suite.
func run(t *testing.T, path string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), path, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), "PATH=/usr/bin:/bin", "HOME="+t.TempDir(), "NO_COLOR=1")
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", path, err)
	}
	return code, out.String(), errOut.String()
}

// TestHostNames runs the real built binaries under the names Argo CD, Flux
// and kubectl run them by — the per-verb form (the dispatcher execs its
// sibling verb) and the multicall form (one binary, copied or symlinked) —
// and checks that help, error hints and completion name the host the user
// typed. The argocd and flux CLIs themselves are not built here; this starts
// the binaries the way their plugin code does (full path as argv[0]).
func TestHostNames(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	perVerb, multi := t.TempDir(), t.TempDir()
	build(t, perVerb, "kubectl-gitops", "kubectl-gitops-drift")
	build(t, multi, "gitops-multicall")
	// Per-verb form: the dispatcher installed under each host's name, its
	// verb binary next to it.
	for _, h := range []string{"flux", "argocd"} {
		copyFile(t, filepath.Join(perVerb, "kubectl-gitops"), filepath.Join(perVerb, h+"-gitops"))
	}
	// Multicall form: Flux's installer puts exactly one file in place; a
	// symlink or copy under a verb's name runs that verb.
	single := filepath.Join(multi, "gitops-multicall")
	copyFile(t, single, filepath.Join(multi, "flux-gitops"))
	for _, n := range []string{"argocd-gitops", "kubectl-gitops", "kubectl-gitops-drift", "flux-gitops-drift"} {
		if err := os.Symlink(single, filepath.Join(multi, n)); err != nil {
			t.Fatal(err)
		}
	}

	type tc struct {
		binary string
		args   []string
		name   string // how the user typed the verb
	}
	var cases []tc
	for _, dir := range []string{perVerb, multi} {
		for _, h := range []string{"kubectl", "flux", "argocd"} {
			cases = append(cases, tc{filepath.Join(dir, h+"-gitops"), []string{"drift"}, h + " gitops drift"})
		}
	}
	cases = append(cases,
		tc{filepath.Join(perVerb, "kubectl-gitops-drift"), nil, "kubectl gitops drift"},
		tc{filepath.Join(multi, "kubectl-gitops-drift"), nil, "kubectl gitops drift"},
		tc{filepath.Join(multi, "flux-gitops-drift"), nil, "flux gitops drift"},
	)
	for _, c := range cases {
		form := "per-verb"
		if strings.HasPrefix(c.binary, multi) {
			form = "multicall"
		}
		t.Run(form+"/"+filepath.Base(c.binary), func(t *testing.T) {
			code, out, errOut := run(t, c.binary, append(c.args, "--help")...)
			if code != 0 || !strings.Contains(out, "Usage:\n  "+c.name+" (") {
				t.Errorf("--help: exit %d, usage line is not %q:\n%s%s", code, c.name, out, errOut)
			}
			if !strings.Contains(out, "  "+c.name+" -f ") {
				t.Errorf("--help examples do not use %q:\n%s", c.name, out)
			}
			code, out, errOut = run(t, c.binary, append(c.args, "--no-such-flag")...)
			if want := "See '" + c.name + " --help' for usage.\n"; code != 2 || !strings.HasSuffix(errOut, want) {
				t.Errorf("bad flag: exit %d, stderr lacks %q:\n%s%s", code, want, out, errOut)
			}
			code, out, errOut = run(t, c.binary, append(append([]string{"__complete"}, c.args...), "--flux-kustom")...)
			if code != 0 || !strings.Contains(out, "--flux-kustomization") {
				t.Errorf("completion: exit %d:\n%s%s", code, out, errOut)
			}
		})
	}
	// The dispatcher's own hint names the host too.
	for _, dir := range []string{perVerb, multi} {
		code, _, errOut := run(t, filepath.Join(dir, "flux-gitops"), "frobnicate")
		if want := "See 'flux gitops --help' for usage.\n"; code != 2 || !strings.HasSuffix(errOut, want) {
			t.Errorf("%s: unknown verb: exit %d, stderr lacks %q:\n%s", dir, code, want, errOut)
		}
	}
}
