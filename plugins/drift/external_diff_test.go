package drift

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kdiff "k8s.io/kubectl/pkg/cmd/diff"
	"k8s.io/utils/exec"
	testingexec "k8s.io/utils/exec/testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// recordScript is a KUBECTL_EXTERNAL_DIFF program: it appends its arguments
// to $RECORD_OUT.args, the name and content of every file in its first two
// (directory) arguments to $RECORD_OUT, their paths to $RECORD_OUT.dirs, and
// exits with $RECORD_STATUS. (Paths cannot be its arguments: as kubectl
// diff, drift passes on only arguments of letters, digits, '-' and '='.)
const recordScript = `#!/bin/sh
export LC_ALL=C
out=$RECORD_OUT
printf '%s\n' "$*" >> "$out.args"
for d in "$1" "$2"; do
  printf '%s\n' "$d" >> "$out.dirs"
  printf '== %s\n' "$(basename "$d")" >> "$out"
  for f in "$d"/*; do
    printf -- '-- %s\n' "$(basename "$f")" >> "$out"
    cat "$f" >> "$out"
  done
done
echo "external diff ran"
exit "$RECORD_STATUS"
`

// externalDiffSetup writes the script and points KUBECTL_EXTERNAL_DIFF at
// it, followed by args; it returns the recording's path.
func externalDiffSetup(t *testing.T, status string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "record.sh")
	if err := os.WriteFile(script, []byte(recordScript), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "recording")
	t.Setenv("RECORD_OUT", out)
	t.Setenv("RECORD_STATUS", status)
	t.Setenv("KUBECTL_EXTERNAL_DIFF", strings.Join(append([]string{script}, args...), " "))
	return out
}

// diffDirs returns the directories the script was given, checking they were
// LIVE and MERGED side by side and are gone now.
func diffDirs(t *testing.T, recording string) {
	t.Helper()
	data, err := os.ReadFile(recording + ".dirs")
	if err != nil {
		t.Fatal(err)
	}
	dirs := strings.Fields(string(data))
	if len(dirs) != 2 || filepath.Base(dirs[0]) != "LIVE" || filepath.Base(dirs[1]) != "MERGED" || filepath.Dir(dirs[0]) != filepath.Dir(dirs[1]) {
		t.Fatalf("external diff got directories %q, want .../LIVE and .../MERGED", dirs)
	}
	if _, err := os.Stat(filepath.Dir(dirs[0])); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left behind (stat: %v)", filepath.Dir(dirs[0]), err)
	}
}

func TestExternalDiff(t *testing.T) {
	recording := externalDiffSetup(t, "1") // 1: differences found
	var out, errOut bytes.Buffer
	if err := render(&out, &errOut, goldenReport(), "diff", true, false); err != nil {
		t.Fatalf("render: %v", err)
	}
	if diff := cmp.Diff("external diff ran\n", out.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(errOut.String(), "error: example.com/v1 Widget shop/w") {
		t.Errorf("stderr does not report the object in error:\n%s", errOut.String())
	}
	data, err := os.ReadFile(recording)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	// The drifted objects only, as the report holds them: masked.
	golden.CheckString(t, "testdata/external-diff.golden", got)
	for _, want := range []string{"-- v1.Secret.shop.db\n", "password: '*** (before)'", "password: '*** (after)'"} {
		if !strings.Contains(got, want) {
			t.Errorf("recording lacks %q", want)
		}
	}
	if strings.Contains(got, goldenCanary) || strings.Contains(got, "unchanged") {
		t.Errorf("an unchanged object was written:\n%s", got)
	}
	diffDirs(t, recording)
}

func TestExternalDiffFailure(t *testing.T) {
	recording := externalDiffSetup(t, "2")
	var out bytes.Buffer
	err := render(&out, &bytes.Buffer{}, goldenReport(), "diff", false, false)
	if err == nil || !strings.Contains(err.Error(), "running KUBECTL_EXTERNAL_DIFF") || !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("render error %v, want the external diff's exit status 2", err)
	}
	diffDirs(t, recording)

	t.Setenv("KUBECTL_EXTERNAL_DIFF", filepath.Join(t.TempDir(), "no-such-diff"))
	if err := render(&out, &bytes.Buffer{}, goldenReport(), "diff", false, false); err == nil {
		t.Error("a missing external diff program is not an error")
	}
}

func TestExternalDiffBlank(t *testing.T) {
	t.Setenv("KUBECTL_EXTERNAL_DIFF", "  ")
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("render panicked: %v", r)
		}
	}()
	var out bytes.Buffer
	if err := render(&out, &bytes.Buffer{}, goldenReport(), "diff", false, false); err != nil {
		t.Logf("render: %v", err) // an error or the built-in diff are both fine
	}
}

// hostileDiffArgs are KUBECTL_EXTERNAL_DIFF arguments kubectl diff does not
// pass on: paths, shell syntax, quotes, globs, options with paths.
var hostileDiffArgs = []string{"--output=/tmp/pwned", ";", "rm;id", "$HOME", "`id`", "$(id)", "../../etc/passwd",
	"a|b", "x>y", "'-u'", "*", "%s", "-x.yaml", "--opt=a,b", "--from-file=~/.ssh/id_rsa"}

// KUBECTL_EXTERNAL_DIFF's arguments are filtered as kubectl diff filters
// them: the program gets only words of letters, digits, '-' and '=', and
// stderr says which were dropped (masked as every quoted user value is).
func TestExternalDiffArgumentsFilteredAsKubectl(t *testing.T) {
	recording := externalDiffSetup(t, "1", append([]string{"-u", "-N", "--color=always", "-U3"}, hostileDiffArgs...)...)
	var out, errOut bytes.Buffer
	if err := render(&out, &errOut, goldenReport(), "diff", false, false); err != nil {
		t.Fatalf("render: %v", err)
	}
	data, err := os.ReadFile(recording + ".args")
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(string(data))
	if len(args) != 6 {
		t.Fatalf("external diff got arguments %q, want LIVE MERGED -u -N --color=always -U3", args)
	}
	if diff := cmp.Diff([]string{"-u", "-N", "--color=always", "-U3"}, args[2:]); diff != "" {
		t.Errorf("arguments passed on (-want +got):\n%s", diff)
	}
	diffDirs(t, recording)
	if got := strings.Count(errOut.String(), "warning: KUBECTL_EXTERNAL_DIFF: argument "); got != len(hostileDiffArgs) {
		t.Errorf("%d warnings about dropped arguments, want one per dropped word; stderr:\n%s", got, errOut.String())
	}
	if strings.Contains(errOut.String(), "/tmp/pwned") || strings.Contains(errOut.String(), "etc/passwd") {
		t.Errorf("a dropped argument is quoted whole on stderr:\n%s", errOut.String())
	}
}

// kubectlDiffCommand is the command kubectl diff's own DiffProgram runs for
// the value of KUBECTL_EXTERNAL_DIFF: the oracle for externalDiffCommand.
func kubectlDiffCommand(t *testing.T, value string) []string {
	t.Helper()
	t.Setenv("KUBECTL_EXTERNAL_DIFF", value)
	var argv []string
	fake := &testingexec.FakeExec{CommandScript: []testingexec.FakeCommandAction{
		func(cmd string, args ...string) exec.Cmd {
			argv = append([]string{cmd}, args...)
			return &testingexec.FakeCmd{DisableScripts: true}
		},
	}}
	p := &kdiff.DiffProgram{Exec: fake, IOStreams: genericiooptions.NewTestIOStreamsDiscard()}
	if err := p.Run("FROM", "TO"); err != nil {
		t.Fatalf("kubectl's DiffProgram: %v", err)
	}
	return argv
}

func TestExternalDiffCommandAsKubectl(t *testing.T) {
	values := []string{
		"diff",
		"colordiff -N -u",
		"diff -u -N --color=always",
		"meld",
		"/usr/local/bin/my-diff -u",
		"diff  -u", // two spaces: an empty word, dropped by both
		"dyff between --omit-header",
		"diff --label=x -u",
	}
	for _, a := range hostileDiffArgs {
		values = append(values, "diff -u "+a)
	}
	for _, v := range values {
		want := kubectlDiffCommand(t, v)
		prog, args, _ := externalDiffCommand(v)
		got := append([]string{prog, "FROM", "TO"}, args...)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("KUBECTL_EXTERNAL_DIFF=%q: command (-kubectl +ours):\n%s", v, diff)
		}
	}
}
