package dispatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/version"
)

// writeVerb writes an executable shell script that prints its argv and exits
// with code.
func writeVerb(t *testing.T, dir, name, tag string, code int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	script := "#!/bin/sh\necho " + tag + " \"$0\" \"$@\"\nexit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// runChild stands in for syscall.Exec, which would replace the test process.
func runChild(stdout *bytes.Buffer) func(string, []string) (int, error) {
	return func(path string, argv []string) (int, error) {
		cmd := exec.Command(path, argv[1:]...)
		cmd.Stdout = stdout
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), nil
		}
		return 0, err
	}
}

type fixture struct {
	self, own, onPath string
	d                 *Dispatcher
	out, errOut       *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("uses shell-script verbs")
	}
	root := t.TempDir()
	own := filepath.Join(root, "store")
	onPath := filepath.Join(root, "path")
	links := filepath.Join(root, "links")
	for _, d := range []string{own, onPath, links} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Like krew: the dispatcher is a symlink in one directory to the real
	// binary in the store, next to its verbs.
	real := writeVerb(t, own, "kubectl-gitops", "self", 0)
	self := filepath.Join(links, "kubectl-gitops")
	if err := os.Symlink(real, self); err != nil {
		t.Fatal(err)
	}
	f := &fixture{self: self, own: own, onPath: onPath, out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
	f.d = &Dispatcher{Self: self, Path: strings.Join([]string{links, onPath}, string(os.PathListSeparator)),
		Stdout: f.out, Stderr: f.errOut}
	f.d.Exec = runChild(f.out)
	return f
}

func TestFindPrefersSiblingOverPath(t *testing.T) {
	f := newFixture(t)
	sibling := writeVerb(t, f.own, "kubectl-gitops-drift", "sibling", 0)
	writeVerb(t, f.onPath, "kubectl-gitops-drift", "path", 0)
	onlyPath := writeVerb(t, f.onPath, "kubectl-gitops-seal", "path", 0)
	if err := os.WriteFile(filepath.Join(f.own, "kubectl-gitops-notexec"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		verb   string
		want   string
		wantOK bool
	}{
		{"drift", sibling, true},
		{"seal", onlyPath, true},
		{"notexec", "", false},
		{"missing", "", false},
		{"../kubectl-gitops-drift", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := f.d.Find(tt.verb)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Find(%q) = %q, %v; want %q, %v", tt.verb, got, ok, tt.want, tt.wantOK)
		}
	}
	if diff := cmp.Diff([]string{"drift", "seal"}, f.d.Verbs()); diff != "" {
		t.Errorf("Verbs (-want +got):\n%s", diff)
	}
}

func TestRunPassesArgsAndExitCode(t *testing.T) {
	f := newFixture(t)
	writeVerb(t, f.own, "kubectl-gitops-drift", "drift", 7)
	code := f.d.Run([]string{"drift", "-f", "dir with space", "--context", "prod"})
	if code != 7 {
		t.Errorf("exit code %d, want the verb's 7", code)
	}
	want := "drift " + filepath.Join(f.own, "kubectl-gitops-drift") + " -f dir with space --context prod\n"
	if f.out.String() != want {
		t.Errorf("verb saw %q, want %q", f.out.String(), want)
	}
}

func TestRunUnknownVerb(t *testing.T) {
	f := newFixture(t)
	writeVerb(t, f.own, "kubectl-gitops-drift", "drift", 0)
	code := f.d.Run([]string{"frobnicate", "--x"})
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	got := f.errOut.String()
	for _, w := range []string{`error: unknown verb "frob…"`, "drift ", "Compare the live cluster", "See 'kubectl gitops --help' for usage."} {
		if !strings.Contains(got, w) {
			t.Errorf("stderr lacks %q:\n%s", w, got)
		}
	}
	if f.out.Len() != 0 {
		t.Errorf("stdout not empty: %q", f.out.String())
	}
}

func TestRunFlagBeforeVerb(t *testing.T) {
	f := newFixture(t)
	if code := f.d.Run([]string{"--context", "x", "drift"}); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(f.errOut.String(), "a verb must come first") {
		t.Errorf("stderr: %s", f.errOut.String())
	}
}

func TestRunNoVerbListsVerbs(t *testing.T) {
	f := newFixture(t)
	writeVerb(t, f.own, "kubectl-gitops-drift", "drift", 0)
	writeVerb(t, f.onPath, "kubectl-gitops-extra", "extra", 0)
	if code := f.d.Run(nil); code != exitOK {
		t.Errorf("exit %d", code)
	}
	got := f.out.String()
	for _, w := range []string{"Usage:", "kubectl gitops VERB", "  drift      Compare the live cluster", "  extra      (found as kubectl-gitops-extra)"} {
		if !strings.Contains(got, w) {
			t.Errorf("usage lacks %q:\n%s", w, got)
		}
	}
}

func TestRunNoVerbsFound(t *testing.T) {
	f := newFixture(t)
	f.d.Run([]string{"help"})
	if !strings.Contains(f.out.String(), "No verbs found") {
		t.Errorf("usage: %s", f.out.String())
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"-o", "json"}, {"-ojson"}, {"--output=json"}, {"--output", "json"}} {
		f := newFixture(t)
		if code := f.d.Run(append([]string{"version"}, args...)); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, f.errOut)
		}
		var r version.Report
		if err := json.Unmarshal(f.out.Bytes(), &r); err != nil {
			t.Fatalf("%v: %v: %s", args, err, f.out)
		}
		if r.ClientVersion != version.Get() {
			t.Errorf("%v: %+v", args, r)
		}
	}
	f := newFixture(t)
	if code := f.d.Run([]string{"version", "-o", "xml"}); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
	f = newFixture(t)
	if code := f.d.Run([]string{"version", "--bogus"}); code != exitUsage {
		t.Errorf("bad flag: exit %d", code)
	}
	f = newFixture(t)
	if code := f.d.Run([]string{"version"}); code != exitOK || !strings.HasPrefix(f.out.String(), "kubectl gitops version ") {
		t.Errorf("text: %d %q", code, f.out)
	}
}

func TestComplete(t *testing.T) {
	f := newFixture(t)
	writeVerb(t, f.own, "kubectl-gitops-drift", "drift", 0)
	writeVerb(t, f.own, "kubectl-gitops-promote", "promote", 0)
	if code := f.d.Run([]string{"__complete", "d"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got, want := f.out.String(), "drift\tCompare the live cluster with the desired state in Git\n:4\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	f.out.Reset()
	f.d.Run([]string{"__completeNoDesc", ""})
	if got, want := f.out.String(), "drift\npromote\ncompletion\nversion\n:4\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	f.out.Reset()
	f.d.Run([]string{"__complete", "drift", "--cont"})
	want := "drift " + filepath.Join(f.own, "kubectl-gitops-drift") + " __complete --cont\n"
	if got := f.out.String(); got != want {
		t.Errorf("forwarded completion: got %q, want %q", got, want)
	}
}

// The dispatcher must stay free of Kubernetes and cobra.
func TestDispatcherDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/kubectl-gitops/kubectl-gitops/cmd/kubectl-gitops").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, ".") && !strings.HasPrefix(dep, "github.com/kubectl-gitops/kubectl-gitops/") &&
			!strings.HasPrefix(dep, "vendor/") {
			t.Errorf("dispatcher depends on %s", dep)
		}
		if strings.HasPrefix(dep, "github.com/kubectl-gitops/kubectl-gitops/") &&
			dep != "github.com/kubectl-gitops/kubectl-gitops/cmd/kubectl-gitops" &&
			dep != "github.com/kubectl-gitops/kubectl-gitops/plugins/dispatch" &&
			dep != "github.com/kubectl-gitops/kubectl-gitops/pkg/version" {
			t.Errorf("dispatcher imports %s", dep)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		f := newFixture(t)
		if code := f.d.Run([]string{"completion", shell}); code != exitOK {
			t.Fatalf("%s: exit %d: %s", shell, code, f.errOut)
		}
		if !strings.Contains(f.out.String(), "kubectl-gitops") || !strings.Contains(f.out.String(), "__complete") {
			t.Errorf("%s: not a completion script for kubectl-gitops:\n%.200s", shell, f.out.String())
		}
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		f := newFixture(t)
		if code := f.d.Run(args); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// TestRunNeverEchoesTheArgument: a value typed where the verb goes (a
// secret pasted in the wrong place) is quoted masked, as every verb's errors
// quote user data.
func TestRunNeverEchoesTheArgument(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	for _, arg := range []string{canary, "--password=" + canary, "-" + canary} {
		f := newFixture(t)
		writeVerb(t, f.own, "kubectl-gitops-drift", "drift", 0)
		if code := f.d.Run([]string{arg}); code != exitUsage {
			t.Errorf("%s: exit %d, want %d", arg, code, exitUsage)
		}
		if got := f.errOut.String(); strings.Contains(got, canary) || strings.Contains(got, "s3cr3t") {
			t.Errorf("stderr shows the argument:\n%s", got)
		}
	}
}
