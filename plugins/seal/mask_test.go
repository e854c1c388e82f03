package seal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// TestArgumentsNeverEchoed: a secret value given where a path, a command
// or a choice was expected is quoted at most as a short masked prefix, in
// every seal command's errors. A bad -o is the CLI kit's message, masked by
// the suite's one rule (redact.Quote: at most 4 characters), the others by
// seal's maskArg (at most 3).
func TestArgumentsNeverEchoed(t *testing.T) {
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	t.Setenv("HOME", t.TempDir())
	f := newFixture(t)
	t.Chdir(f.dir)
	cases := [][]string{
		{"scan", canary},
		{"scan", f.dir, canary},
		{"scan", "--install-hook", canary},
		{canary},
		{"unseal", canary, "-f", f.secret},
		{"decrypt", "-f", f.secret, canary},
		{"-f", canary, "--cert", f.cert},
		{"-f", f.secret, "--cert", canary},
		{"-f", f.secret, "--cert", f.cert, "--merge-into", canary},
		{"--name", "db", "--from-file", "password=" + canary, "--cert", f.cert},
		{"--name", "db", "--from-file", "=" + canary, "--cert", f.cert},
		{"--name", "db", "--from-file", canary + "=", "--cert", f.cert},
		{"-f", f.secret, "--format", canary},
		{"scan", "--allow", canary, f.dir},
		{"unseal", "-f", f.secret, "--private-key", canary},
		{"decrypt", "-f", canary},
		{"updatekeys", "-f", canary, "--age", f.recipient},
		{"scan", "--force=" + canary},
		{"unseal", "-f", f.secret, "-x" + canary},
		{"-x" + canary},
		{"--allow-expired-cert=" + canary, "-f", f.secret},
	}
	kit := [][]string{
		{"-f", f.secret, "--cert", f.cert, "-o", canary},
		{"scan", "-o", canary, f.dir},
	}
	for i, args := range append(cases, kit...) {
		r := runSeal(t, nil, "", args...)
		leak := canary[:4] // maskArg shows at most 3 characters
		if i >= len(cases) {
			leak = canary[:5] // redact.Quote at most 4
			if !strings.Contains(r.stderr, redact.Quote(canary)) {
				t.Errorf("%q: not masked by redact.Quote: %q", args, r.stderr)
			}
		}
		if r.code != cli.ExitError {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, r.code, cli.ExitError, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, leak) {
			t.Errorf("%q: the argument is echoed: %q", args, r.stdout+r.stderr)
		}
		if !strings.Contains(r.stderr, "…") {
			t.Errorf("%q: no masked argument in %q", args, r.stderr)
		}
	}
}

// TestUnknownCommandStillSuggests: the masked message of a mistyped
// command still suggests the command meant.
func TestUnknownCommandStillSuggests(t *testing.T) {
	r := runSeal(t, nil, "", "scna")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "did you mean scan?") {
		t.Errorf("exit %d stderr %q: want a suggestion", r.code, r.stderr)
	}
}

// TestExistingPathsStayNamed: an argument naming a file is a path, not a
// value: errors about it name it whole.
func TestExistingPathsStayNamed(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret.yaml")
	if err := os.WriteFile(p, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// root reads a 0000 file: use a directory instead.
		p = dir
	}
	r := runSeal(t, nil, "", "-f", p, "--cert", p)
	if r.code != cli.ExitError || !strings.Contains(r.stderr, p) {
		t.Errorf("exit %d stderr %q: want the path named", r.code, r.stderr)
	}
	if got, want := maskArg("canary-s3cr3t"), `"can…"`; got != want {
		t.Errorf("maskArg = %s, want %s", got, want)
	}
	if got, want := maskArg("hunter2"), `"h…"`; got != want {
		t.Errorf("maskArg = %s, want %s", got, want)
	}
}
