package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// realSops runs the real sops in dir with the age identity file (may be
// empty); it returns stdout, stderr and the exit code.
func realSops(t *testing.T, dir, identity string, args ...string) (string, string, int) {
	t.Helper()
	bin := peertools.Require(t, peertools.Sops, "sops")
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"SOPS_DISABLE_VERSION_CHECK=1", "HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", "GNUPGHOME=" + t.TempDir()}
	if identity != "" {
		cmd.Env = append(cmd.Env, "SOPS_AGE_KEY_FILE="+identity)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running sops: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

// TestBrokenSopsConfigIsNeverAFallback: a .sops.yaml that exists but cannot
// be used makes `seal -i` fail (exit 2) with the config's file:line and the
// reason, and leaves the input byte for byte as it was. Before, format
// inference took it for "no SOPS rule" and sealed for the cluster: here a
// certificate in SEALED_SECRETS_CERT makes that fallback succeed, as it
// does for a kubeseal user.
func TestBrokenSopsConfigIsNeverAFallback(t *testing.T) {
	f := newFixture(t)
	t.Setenv("SEALED_SECRETS_CERT", f.cert)
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	_, _ = peertools.Dir(peertools.Sops) // found from the repository, before t.Chdir
	t.Chdir(f.dir)
	plain := read(t, f.secret)

	// The fallback is real: a valid config without a rule for the file.
	writeTestFile(t, f.dir, ".sops.yaml", []byte("creation_rules:\n  - path_regex: ^elsewhere/\n    age: "+f.recipient+"\n"))
	if r := runSeal(t, nil, "", "-f", "secret.yaml"); r.code != 0 || !strings.Contains(r.stdout, "kind: SealedSecret") {
		t.Fatalf("no matching rule: exit %d, want a SealedSecret: %s", r.code, r.stderr)
	}

	for _, tc := range []struct {
		name, config string
		want         []string // in stderr, after the config's path
		// sopsPlaintext: the real sops (v3.13.3) accepts this config, exits
		// 0 and encrypts nothing: the compiled regex is silently unusable.
		sopsPlaintext bool
		// withAge: --age replaces the rule's keys, so the rule is usable.
		withAge bool
	}{
		{"invalid YAML", "creation_rules:\n  - path_regex: secret\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: [" + f.recipient + "\n",
			[]string{".sops.yaml:3: invalid YAML"}, false, false},
		{"bad path_regex", "creation_rules:\n  - path_regex: '(secret\\.yaml$'\n    age: " + f.recipient + "\n",
			[]string{".sops.yaml:2: creation rule 1: invalid path_regex"}, false, false},
		{"bad encrypted_regex", "creation_rules:\n  - path_regex: secret\\.yaml$\n    encrypted_regex: ^(data|stringData$\n    age: " + f.recipient + "\n",
			[]string{".sops.yaml:3: creation rule 1: invalid regular expression"}, true, false},
		{"PGP-only rule", "creation_rules:\n  - path_regex: .*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n",
			[]string{".sops.yaml:2: the creation rule", "asks for pgp keys"}, false, true},
		{"misspelt creation_rules", "creation-rules:\n  - path_regex: secret\\.yaml$\n    age: " + f.recipient + "\n",
			[]string{".sops.yaml:1: unknown key \"creation-rules\""}, false, false},
		{"invalid age recipient", "creation_rules:\n  - path_regex: secret\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: age1notarecipient\n",
			[]string{".sops.yaml:2: the creation rule", "invalid age recipient"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeTestFile(t, f.dir, ".sops.yaml", []byte(tc.config))
			in := writeTestFile(t, f.dir, "secret.yaml", []byte(plain))
			before := read(t, in)
			r := runSeal(t, nil, "", "-f", "secret.yaml", "-i")
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, r.stderr)
				}
			}
			if !strings.Contains(r.stderr, cfg) {
				t.Errorf("stderr does not name %s: %s", cfg, r.stderr)
			}
			if got := read(t, in); got != before {
				t.Errorf("the input was rewritten:\n%s", got)
			}
			b64 := base64.StdEncoding.EncodeToString([]byte(canary))
			if strings.Contains(r.stdout+r.stderr, canary) || strings.Contains(r.stdout+r.stderr, b64) {
				t.Errorf("the value leaked: %s%s", r.stdout, r.stderr)
			}
			entries, _ := os.ReadDir(f.dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temporary file left: %s", e.Name())
				}
			}
			// --age replaces the rule's recipients, not a broken config.
			r = runSeal(t, nil, "", "-f", "secret.yaml", "--age", f.recipient, "--output-file", "out.yaml")
			switch {
			case tc.withAge && (r.code != 0 || !strings.Contains(read(t, filepath.Join(f.dir, "out.yaml")), "encrypted_regex: ^(data|stringData)$")):
				t.Errorf("with --age: exit %d, want 0 with the rule's encrypted_regex: %s", r.code, r.stderr)
			case !tc.withAge && r.code != 2:
				t.Errorf("with --age: exit %d, want 2: %s", r.code, r.stderr)
			}

			// The real sops cannot use this config either, or worse.
			t.Run("the real sops", func(t *testing.T) {
				out, serr, code := realSops(t, f.dir, "", "encrypt", filepath.Base(in))
				switch {
				case tc.sopsPlaintext && (code != 0 || !strings.Contains(out, canary)):
					t.Errorf("sops was expected to exit 0 leaving the value in clear: exit %d: %s", code, serr)
				case !tc.sopsPlaintext && code == 0:
					t.Errorf("sops encrypted with this config; stderr: %s", serr)
				case tc.sopsPlaintext:
					// seal scan does not take sops' file for encrypted.
					dir := t.TempDir()
					writeTestFile(t, dir, "secret.yaml", []byte(out))
					if code, sout, _ := runScan(t, dir, "-o", "json"); code != 1 || !strings.Contains(sout, `"key": "token"`) || !strings.Contains(sout, `"key": "password"`) {
						t.Errorf("seal scan of sops' output: exit %d, want 1 naming password and token:\n%s", code, sout)
					}
				}
			})
		})
	}
}
