package drift

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recordScript is a KUBECTL_EXTERNAL_DIFF program: it appends the name and
// content of every file in its two directory arguments to OUT, their paths
// to OUT.dirs, and exits with STATUS.
const recordScript = `#!/bin/sh
export LC_ALL=C
out=$1; status=$2; shift 2
for d in "$@"; do
  printf '%s\n' "$d" >> "$out.dirs"
  printf '== %s\n' "$(basename "$d")" >> "$out"
  for f in "$d"/*; do
    printf -- '-- %s\n' "$(basename "$f")" >> "$out"
    cat "$f" >> "$out"
  done
done
echo "external diff ran"
exit "$status"
`

// externalDiffSetup writes the script and points KUBECTL_EXTERNAL_DIFF at
// it; it returns the recording's path.
func externalDiffSetup(t *testing.T, status string) string {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "record.sh")
	if err := os.WriteFile(script, []byte(recordScript), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "recording")
	t.Setenv("KUBECTL_EXTERNAL_DIFF", script+" "+out+" "+status)
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
	golden(t, "external-diff", got)
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
