package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is the one -update flag of every test binary that imports this
// package.
var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Update reports whether the test binary runs with -update, for tests
// whose golden data is not a file Check can read (an embedded script).
func Update() bool { return *update }

// Check compares got with the golden file at path (relative to the test's
// package directory). With -update it writes got to path (creating its
// directory) and passes; otherwise a missing file is fatal and a
// difference is reported with a (-want +got) line diff.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v (run go test -run '%s' -update in this package to create it)", err, t.Name())
	}
	if bytes.Equal(want, got) {
		return
	}
	t.Errorf("%s differs (-want +got); if the change is intended, run go test -run '%s' -update in this package:\n%s",
		path, t.Name(), cmp.Diff(string(want), string(got)))
}

// CheckString is Check for text.
func CheckString(t testing.TB, path, got string) {
	t.Helper()
	Check(t, path, []byte(got))
}
