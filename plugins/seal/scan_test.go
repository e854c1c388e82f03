package seal

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
)

const scanCanary = "CANARY-scan-9d2e41"

func runScan(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	r := clitest.Run(t, NewCmd, clitest.Options{Binary: "kubectl-gitops-seal"}, append([]string{"scan"}, args...)...)
	if strings.Contains(r.Stdout+r.Stderr, scanCanary) {
		t.Errorf("the canary leaked: %s%s", r.Stdout, r.Stderr)
	}
	return r.Code, r.Stdout, r.Stderr
}

func scanTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// scanWrite writes dir/name, creating directories.
func scanWrite(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const plainSecret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + scanCanary + "\n"

func TestScanCommand(t *testing.T) {
	clean := map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"}
	dirty := map[string]string{"apps/secret.yaml": plainSecret}
	tests := []struct {
		name     string
		files    map[string]string
		args     func(dir string) []string
		wantCode int
		wantOut  []string
	}{
		{"clean", clean, func(d string) []string { return []string{d} }, 0, nil},
		{"plaintext table", dirty, func(d string) []string { return []string{d} }, 1, []string{"FILE:LINE", "apps/secret.yaml:6", "Secret", "db", `"password"`}},
		{"allow-list", dirty, func(d string) []string {
			allow := filepath.Join(d, "allow.yaml")
			if err := os.WriteFile(allow, []byte("- path: '**/apps/*.yaml'\n  name: db\n  reason: demo\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{"--allow", allow, d}
		}, 0, nil},
		{"missing allow-list", dirty, func(d string) []string { return []string{"--allow", filepath.Join(d, "nope.yaml"), d} }, 2, nil},
		{"missing path", clean, func(d string) []string { return []string{filepath.Join(d, "nope")} }, 2, nil},
		{"bad output", clean, func(d string) []string { return []string{"-o", "xml", d} }, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := scanTree(t, tt.files)
			code, out, errOut := runScan(t, tt.args(dir)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestScanNoHeaders: --no-headers prints the table's rows only, as
// 'kubectl get --no-headers' does.
func TestScanNoHeaders(t *testing.T) {
	dir := scanTree(t, map[string]string{"s.yaml": plainSecret})
	for _, noHeaders := range []bool{false, true} {
		args := []string{dir}
		if noHeaders {
			args = append(args, "--no-headers")
		}
		code, out, errOut := runScan(t, args...)
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		want := 2
		if noHeaders {
			want = 1
		}
		if code != 1 || len(lines) != want || strings.HasPrefix(lines[0], "FILE:LINE") == noHeaders ||
			!strings.Contains(lines[want-1], "s.yaml:6") {
			t.Errorf("--no-headers=%v: exit %d, want %d line(s)\n%s%s", noHeaders, code, want, out, errOut)
		}
	}
}

func TestScanJSON(t *testing.T) {
	dir := scanTree(t, map[string]string{"s.yaml": plainSecret})
	code, out, _ := runScan(t, "-o", "json", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != 1 {
		t.Fatalf("got %d findings: %s", len(got), out)
	}
	for _, k := range []string{"file", "line", "rule", "kind", "name", "key", "message"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("finding lacks %q: %v", k, got[0])
		}
	}
	if got[0]["line"] != float64(6) || got[0]["rule"] != "plaintext-secret" || got[0]["key"] != "password" {
		t.Errorf("finding = %v", got[0])
	}
	_, out, _ = runScan(t, "-o", "json", scanTree(t, map[string]string{"a.yaml": "a: b\n"}))
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("no findings as JSON = %q, want []", out)
	}
}

// scanIsolateGit makes git ignore the user's configuration and sets an author.
func scanIsolateGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		t.Setenv(k, "")
		_ = os.Unsetenv(k)
	}
	for _, k := range []string{"GIT_AUTHOR", "GIT_COMMITTER"} {
		t.Setenv(k+"_NAME", "Test")
		t.Setenv(k+"_EMAIL", "test@example.com")
	}
}

// scanGit runs git in dir and returns its combined output.
func scanGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	scanIsolateGit(t)
	dir := scanTree(t, files)
	scanGit(t, dir, "-c", "init.defaultBranch=main", "init", "-q")
	return dir
}

func TestScanGitignore(t *testing.T) {
	dir := gitRepo(t, map[string]string{
		".gitignore":        "local/\n",
		"local/secret.yaml": plainSecret,
		"apps/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
	})
	if code, out, errOut := runScan(t, dir); code != 0 {
		t.Fatalf("exit %d, want 0 (ignored file scanned?)\n%s%s", code, out, errOut)
	}
	// The same file, not ignored, is found (untracked files are listed too).
	if err := os.WriteFile(filepath.Join(dir, "apps", "secret.yaml"), []byte(plainSecret), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runScan(t, dir); code != 1 || !strings.Contains(out, "apps/secret.yaml:6") {
		t.Fatalf("exit %d, want 1 with apps/secret.yaml:6\n%s", code, out)
	}
}

func TestScanInstallHook(t *testing.T) {
	dir := gitRepo(t, nil)
	hook := filepath.Join(dir, ".git", "hooks", "pre-commit")
	if code, _, errOut := runScan(t, "--install-hook", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	st, err := os.Stat(hook)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("hook mode %v, want 0755", st.Mode().Perm())
	}
	b, _ := os.ReadFile(hook)
	if !strings.Contains(string(b), "exec kubectl-gitops-seal scan --staged\n") || !strings.HasPrefix(string(b), "#!/bin/sh\n") {
		t.Errorf("hook = %s", b)
	}
	if out, err := exec.Command("sh", "-n", hook).CombinedOutput(); err != nil {
		t.Errorf("sh -n %s: %v: %s", hook, err, out)
	}
	if code, _, _ := runScan(t, "--install-hook", dir); code != 0 {
		t.Errorf("reinstalling the same hook: exit %d", code)
	}
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho mine\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runScan(t, "--install-hook", dir); code != 2 {
		t.Errorf("overwriting another hook without --force: exit %d, want 2", code)
	}
	if code, _, _ := runScan(t, "--install-hook", "--force", dir); code != 0 {
		t.Errorf("with --force: exit %d, want 0", code)
	}
	// An older hook of ours (scanning the work tree) is upgraded without --force.
	old := "#!/bin/sh\n" + hookMarker + "\nexec kubectl-gitops-seal scan\n"
	if err := os.WriteFile(hook, []byte(old), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runScan(t, "--install-hook", dir); code != 0 {
		t.Errorf("upgrading our older hook: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(hook); string(b) != hookScript {
		t.Errorf("hook after the upgrade = %s", b)
	}
	if code, _, _ := runScan(t, "--staged", "--install-hook", dir); code != 2 {
		t.Errorf("--staged with --install-hook: exit %d, want 2", code)
	}
}
