package seal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/secretscan"
)

// outsideSecret names a plaintext Secret outside the scanned repository,
// reachable only through a symbolic link.
const outsideSecret = "outside-only"

// badLinkRepo is a repository holding a plaintext Secret, a dangling link
// and a link leading out of it to another plaintext Secret.
func badLinkRepo(t *testing.T, inGit bool) string {
	t.Helper()
	files := map[string]string{"apps/secret.yaml": plainSecret}
	var dir string
	if inGit {
		dir = gitRepo(t, files)
	} else {
		dir = scanTree(t, files)
	}
	outside := t.TempDir()
	scanWrite(t, outside, "s.yaml", strings.Replace(plainSecret, "name: db", "name: "+outsideSecret, 1))
	for name, target := range map[string]string{
		"apps/dangling.yaml": "nowhere.yaml",
		"apps/escape.yaml":   filepath.Join(outside, "s.yaml"),
		"apps/rel-out.yaml":  "../../" + filepath.Base(outside) + "/s.yaml",
		"apps/loop.yaml":     "loop.yaml",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestScanBadSymlinksWarnAndGoOn: dangling links, loops and links leading
// out of the repository are warnings; the scan goes on and reports the
// plaintext Secret elsewhere (exit 1), and nothing outside is read.
func TestScanBadSymlinksWarnAndGoOn(t *testing.T) {
	for _, inGit := range []bool{true, false} {
		name := "plain directory"
		if inGit {
			name = "git work tree"
		}
		t.Run(name, func(t *testing.T) {
			dir := badLinkRepo(t, inGit)
			code, out, errOut := runScan(t, dir)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if !strings.Contains(out, "apps/secret.yaml:6") {
				t.Errorf("the plaintext Secret is not reported:\n%s", out)
			}
			for _, link := range []string{"dangling.yaml", "escape.yaml", "rel-out.yaml", "loop.yaml"} {
				if !strings.Contains(errOut, "warning: "+filepath.Join(dir, "apps", link)) {
					t.Errorf("no warning for %s:\n%s", link, errOut)
				}
			}
			if strings.Contains(out+errOut, outsideSecret) {
				t.Errorf("a Secret outside the repository was read through a link:\n%s%s", out, errOut)
			}

			code, out, _ = runScan(t, "-o", "json", dir)
			var got []secretscan.Finding
			if err := json.Unmarshal([]byte(out), &got); err != nil || code != 1 {
				t.Fatalf("exit %d, %v: %s", code, err, out)
			}
			warnings := 0
			for _, f := range got {
				if f.Rule == secretscan.RuleSymlinkNotFollowed && f.Severity == secretscan.SeverityWarning {
					warnings++
				}
			}
			if warnings != 4 {
				t.Errorf("%d symlink warnings in JSON, want 4: %s", warnings, out)
			}
		})
	}
}
