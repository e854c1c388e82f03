package repolayout

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/sopsfile"
)

// snapshot maps every file under dir (slash paths) to its content, and
// every directory to "<dir>".
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[filepath.ToSlash(rel)] = "<dir>"
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unwritable makes p refuse writes even to root: immutable (chattr +i) as
// root, read-only otherwise. It skips the test when neither is possible.
func unwritable(t *testing.T, p string) {
	t.Helper()
	if os.Geteuid() != 0 {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o555&st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(p, st.Mode().Perm()) })
		return
	}
	if out, err := exec.Command("chattr", "+i", p).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s immutable: %v: %s", p, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", p).Run() })
}

// TestWriteAllOrNothing: when a file cannot be written, the files written
// before it are taken back, and the tree is as it was (no half-written
// skeleton, no temporary files, no new directories).
func TestWriteAllOrNothing(t *testing.T) {
	files, err := Generate(Spec{Operator: OperatorFlux})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// prepare lays out dir and makes something in it unwritable.
		prepare func(t *testing.T, dir string)
		force   bool
	}{
		{
			// tenants/ is written last: the temporary file cannot be
			// created there, after every other file was staged.
			name: "directory in the way",
			prepare: func(t *testing.T, dir string) {
				if err := os.MkdirAll(filepath.Join(dir, "tenants"), 0o755); err != nil {
					t.Fatal(err)
				}
				unwritable(t, filepath.Join(dir, "tenants"))
			},
		},
		{
			// README.md is renamed after .gitops/* and .sops.yaml: those
			// must be taken back. Only root can make a file in a writable
			// directory refuse a rename (chattr +i).
			name: "file in the way with --force",
			prepare: func(t *testing.T, dir string) {
				if os.Geteuid() != 0 {
					t.Skip("needs root for chattr +i on a file")
				}
				readme := filepath.Join(dir, "README.md")
				if err := os.WriteFile(readme, []byte("mine\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				unwritable(t, readme)
			},
			force: true,
		},
		{
			// With --force, an overwritten file gets its old content back.
			name: "overwritten file restored",
			prepare: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte("mine\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(dir, "tenants"), 0o755); err != nil {
					t.Fatal(err)
				}
				unwritable(t, filepath.Join(dir, "tenants"))
			},
			force: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.prepare(t, dir)
			before := snapshot(t, dir)
			_, err := Write(dir, files, WriteOptions{Force: tt.force})
			if err == nil {
				t.Fatal("Write succeeded, want an error")
			}
			if !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("error %q does not say the tree is unchanged", err)
			}
			after := snapshot(t, dir)
			var added, changed []string
			for p, v := range after {
				old, ok := before[p]
				switch {
				case !ok:
					added = append(added, p)
				case old != v:
					changed = append(changed, p)
				}
			}
			slices.Sort(added)
			slices.Sort(changed)
			if len(added)+len(changed) > 0 {
				t.Errorf("a failed Write left the tree changed: added %v, changed %v", added, changed)
			}
			if st, err := os.Stat(filepath.Join(dir, ".sops.yaml")); err == nil && tt.name == "overwritten file restored" && st.Mode().Perm() != 0o600 {
				t.Errorf("restored .sops.yaml has mode %v, want its old 0600", st.Mode().Perm())
			}
		})
	}
}

// TestPlanErrorNamesPathOnce: a file where a directory should be is
// reported with its path once, not twice.
func TestPlanErrorNamesPathOnce(t *testing.T) {
	files, err := Generate(Spec{Operator: OperatorFlux})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".gitops"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Write(dir, files, WriteOptions{})
	if err == nil {
		t.Fatal("want an error")
	}
	p := filepath.Join(dir, ".gitops")
	if n := strings.Count(err.Error(), p); n != 1 {
		t.Errorf("error %q names %s %d times", err, p, n)
	}
}

// TestReadmeSealCommandMatchesSopsRule: the README's seal example names a
// file that the generated .sops.yaml has a rule for, so that following it
// encrypts with SOPS instead of looking for a Sealed Secrets controller.
func TestReadmeSealCommandMatchesSopsRule(t *testing.T) {
	for _, spec := range specs() {
		t.Run(string(spec.Operator)+"-"+string(spec.Layout)+"-"+string(spec.EnvStrategy), func(t *testing.T) {
			files, err := Generate(spec)
			if err != nil {
				t.Fatal(err)
			}
			m := fileMap(files)
			var file string
			for _, line := range strings.Split(string(m["README.md"]), "\n") {
				fields := strings.Fields(line)
				for i := 0; i+1 < len(fields); i++ {
					if len(fields) > 3 && fields[2] == "seal" && fields[i] == "-f" {
						file = fields[i+1]
					}
				}
			}
			if file == "" {
				t.Fatal("README.md has no `kubectl gitops seal -f FILE` example")
			}
			cfg, err := sopsfile.ParseConfig(bytes.Clone(m[".sops.yaml"]))
			if err != nil {
				t.Fatal(err)
			}
			rule, err := cfg.RuleFor(file)
			if err != nil || rule == nil {
				t.Errorf("README.md seals %s, which no .sops.yaml rule matches: %v", file, err)
			}
		})
	}
}
