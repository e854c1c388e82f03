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
// every seal command's errors, by the suite's one rule (redact.Quote, as
// the CLI kit and every other plugin quote such values): the message holds
// redact.Quote of what was typed, and never 5 characters of the canary.
func TestArgumentsNeverEchoed(t *testing.T) {
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	t.Setenv("HOME", t.TempDir())
	f := newFixture(t)
	t.Chdir(f.dir)
	cases := []struct {
		args   []string
		quoted string // the value the message quotes, masked
	}{
		{[]string{"scan", canary}, canary},
		{[]string{"scan", f.dir, canary}, canary},
		{[]string{"scan", "--install-hook", canary}, canary},
		{[]string{canary}, canary},
		{[]string{"unseal", canary, "-f", f.secret}, canary},
		{[]string{"decrypt", "-f", f.secret, canary}, canary},
		{[]string{"-f", canary, "--cert", f.cert}, canary},
		{[]string{"-f", f.secret, "--cert", canary}, canary},
		{[]string{"-f", f.secret, "--cert", f.cert, "--merge-into", canary}, canary},
		{[]string{"--name", "db", "--from-file", "password=" + canary, "--cert", f.cert}, canary},
		{[]string{"--name", "db", "--from-file", "=" + canary, "--cert", f.cert}, "=" + canary},
		{[]string{"--name", "db", "--from-file", canary + "=", "--cert", f.cert}, canary + "="},
		{[]string{"-f", f.secret, "--format", canary}, canary},
		{[]string{"scan", "--allow", canary, f.dir}, canary},
		{[]string{"unseal", "-f", f.secret, "--private-key", canary}, canary},
		{[]string{"decrypt", "-f", canary}, canary},
		{[]string{"updatekeys", "-f", canary, "--age", f.recipient}, canary},
		{[]string{"scan", "--force=" + canary}, canary},
		{[]string{"unseal", "-f", f.secret, "-x" + canary}, "-x" + canary},
		{[]string{"-x" + canary}, "-x" + canary},
		{[]string{"--allow-expired-cert=" + canary, "-f", f.secret}, canary},
		{[]string{"-f", f.secret, "--cert", f.cert, "-o", canary}, canary},
		{[]string{"scan", "-o", canary, f.dir}, canary},
	}
	for _, tt := range cases {
		r := runSeal(t, nil, "", tt.args...)
		if r.code != cli.ExitError {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tt.args, r.code, cli.ExitError, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, canary[:5]) {
			t.Errorf("%q: the argument is echoed: %q", tt.args, r.stdout+r.stderr)
		}
		if !strings.Contains(r.stderr, redact.Quote(tt.quoted)) {
			t.Errorf("%q: %s not masked by redact.Quote (%s): %q", tt.args, tt.quoted, redact.Quote(tt.quoted), r.stderr)
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
}
