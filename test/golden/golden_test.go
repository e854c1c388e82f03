package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return "TestX" }
func (r *recorder) Errorf(f string, a ...any) {
	r.errors = append(r.errors, strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.Errorf(f, a...)
	r.fatal = true
}
func (r *recorder) Fatal(a ...any) { r.Fatalf("%v", a...) }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.golden")
	if err := os.WriteFile(path, []byte("line one\nline two\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := &recorder{TB: t}
	Check(r, path, []byte("line one\nline two\n"))
	if len(r.errors) != 0 {
		t.Errorf("equal bytes failed: %v", r.errors)
	}

	r = &recorder{TB: t}
	CheckString(r, path, "line one\nline 2\n")
	if len(r.errors) != 1 || r.fatal {
		t.Fatalf("a difference: errors %v, fatal %v; want one error", r.errors, r.fatal)
	}
	for _, want := range []string{path, "-update", "line two", "line 2"} {
		if !strings.Contains(r.errors[0], want) {
			t.Errorf("the report lacks %q:\n%s", want, r.errors[0])
		}
	}

	r = &recorder{TB: t}
	Check(r, filepath.Join(dir, "missing.golden"), []byte("x"))
	if !r.fatal || !strings.Contains(r.errors[0], "-update") {
		t.Errorf("a missing golden file: errors %v, fatal %v", r.errors, r.fatal)
	}
}

func TestCheckUpdate(t *testing.T) {
	defer func(old bool) { *update = old }(*update)
	*update = true
	path := filepath.Join(t.TempDir(), "new", "dir", "out.golden")
	r := &recorder{TB: t}
	Check(r, path, []byte("fresh\n"))
	if len(r.errors) != 0 || !Update() {
		t.Fatalf("update: errors %v", r.errors)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "fresh\n" {
		t.Errorf("update wrote %q, %v", b, err)
	}
}
