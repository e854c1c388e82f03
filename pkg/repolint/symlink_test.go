package repolint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/secretscan"
)

// TestSecretsNeverFollowLinksOut: the secret check reads the repository
// through an os.Root, like seal scan: a link leading out of the repository
// (absolute or ../) is a warning and its target is never read, a dangling
// link is a warning, and the plaintext Secret inside is still reported.
// Nothing else repo lint reads (lint:ignore comments, generator files, its
// config) is read through a link out either.
func TestSecretsNeverFollowLinksOut(t *testing.T) {
	const secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: NAME\n  namespace: x\nstringData:\n  password: hunter2hunter2\n"
	dir := writeTree(t, map[string]string{"apps/secret.yaml": strings.Replace(secret, "NAME", "inside", 1)})
	// The outside file also tries to silence the warning about the link to
	// it: its comments must not be read either.
	outside := writeTree(t, map[string]string{"s.yaml": "# lint:ignore symlink-not-followed\n" + strings.Replace(secret, "NAME", "outside-only", 1)})
	for name, target := range map[string]string{
		"apps/escape.yaml":   filepath.Join(outside, "s.yaml"),
		"apps/rel-out.yaml":  "../../" + filepath.Base(outside) + "/s.yaml",
		"apps/dangling.yaml": "nowhere.yaml",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	for _, files := range [][]string{nil, {"apps/secret.yaml", "apps/escape.yaml", "apps/rel-out.yaml", "apps/dangling.yaml"}} {
		// The whole lint, as repo lint runs it: reading the repository
		// (repograph) must not stop at a bad link either.
		rep, err := Lint(context.Background(), Options{Root: dir, Files: files})
		if err != nil {
			t.Fatalf("files %v: %v", files, err)
		}
		var secrets, warnings []string
		for _, f := range rep.Findings {
			switch {
			case f.Rule == secretscan.RuleSymlinkNotFollowed && f.Severity == SeverityWarning:
				warnings = append(warnings, f.File)
			case f.Rule == secretscan.RulePlaintextSecret:
				secrets = append(secrets, f.File+" "+f.Subject)
			}
		}
		if len(secrets) != 1 || secrets[0] != "apps/secret.yaml Secret inside" {
			t.Errorf("files %v: plaintext findings %q, want only apps/secret.yaml's (no Secret read through a link out)", files, secrets)
		}
		if len(warnings) != 3 {
			t.Errorf("files %v: symlink warnings for %q, want 3", files, warnings)
		}
	}
}
