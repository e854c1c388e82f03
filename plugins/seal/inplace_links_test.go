package seal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// TestInPlaceWritesThroughSymlink: `seal -i` on a symbolic link encrypts
// the file it points to and keeps the link: no plaintext is left behind in
// the target (before, the link was replaced by a regular file and the
// target kept the plaintext).
func TestInPlaceWritesThroughSymlink(t *testing.T) {
	f := newFixture(t)
	link := filepath.Join(f.dir, "link.yaml")
	if err := os.Symlink("secret.yaml", link); err != nil {
		t.Fatal(err)
	}
	r := runSeal(t, nil, "", "-f", link, "--cert", f.cert, "-i")
	if r.code != cli.ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link.yaml is no longer a symbolic link (%v)", err)
	}
	got := read(t, f.secret)
	if strings.Contains(got, canary) || !strings.Contains(got, "kind: SealedSecret") {
		t.Errorf("the link's target is not sealed:\n%s", got)
	}
}

// TestInPlaceRefusesHardLinks: `seal -i` and `seal -i` for sops refuse a
// file with two names (the other would keep the plaintext): exit 2, both
// names unchanged, no value in the message.
func TestInPlaceRefusesHardLinks(t *testing.T) {
	f := newFixture(t)
	other := filepath.Join(f.dir, "copy.yaml")
	if err := os.Link(f.secret, other); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	before := read(t, f.secret)
	for _, args := range [][]string{
		{"-f", f.secret, "--cert", f.cert, "-i"},
		{"-f", f.secret, "--age", f.recipient, "-i"},
	} {
		r := runSeal(t, nil, "", args...)
		if r.code != cli.ExitError || !strings.Contains(r.stderr, "hard links") {
			t.Errorf("%v: exit %d stderr %q: want 2 and the hard links named", args, r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, canary) {
			t.Errorf("%v: the canary leaked", args)
		}
		for _, p := range []string{f.secret, other} {
			if read(t, p) != before {
				t.Errorf("%v: %s changed", args, filepath.Base(p))
			}
		}
	}
}
