package seal

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// scanTestdata is testdata/scan, absolute: tests change directory.
var scanTestdata = func() string {
	abs, err := filepath.Abs(filepath.Join("testdata", "scan"))
	if err != nil {
		panic(err)
	}
	return abs
}()

// copyTree copies the fixture tree src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fixtureRepo copies testdata/scan/repo into a new directory, a git
// repository when inGit, and makes it the working directory.
func fixtureRepo(t *testing.T, inGit bool) string {
	t.Helper()
	src := filepath.Join(scanTestdata, "repo")
	var dir string
	if inGit {
		dir = gitRepo(t, nil)
	} else {
		dir = t.TempDir()
	}
	copyTree(t, src, dir)
	t.Chdir(dir)
	return dir
}

// checkGolden compares the exit code and output of a scan with a golden
// file under testdata/scan.
func checkGolden(t *testing.T, name string, code int, stdout, stderr string) {
	t.Helper()
	got := fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", code, stdout, stderr)
	golden.CheckString(t, filepath.Join(scanTestdata, name+".golden"), got)
}

// TestScanFixtureRepo scans testdata/scan/repo: every kind of finding, as a
// table and as JSON, with an allow-list, from a subdirectory, in and out
// of git.
func TestScanFixtureRepo(t *testing.T) {
	tests := []struct {
		name   string
		inGit  bool
		allow  string
		args   []string
		golden string
	}{
		{name: "table", inGit: true, golden: "repo-table"},
		{name: "json", inGit: true, args: []string{"-o", "json"}, golden: "repo-json"},
		{name: "outside git", golden: "repo-table"},
		{name: "subdirectory", inGit: true, args: []string{"overlay"}, golden: "repo-overlay"},
		{name: "allow-list drops a generator's file and a values file", inGit: true, golden: "repo-allow",
			allow: "- path: overlay/token.txt\n  reason: test token\n- path: charts/**\n  reason: demo chart\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fixtureRepo(t, tt.inGit)
			if tt.allow != "" {
				scanWrite(t, dir, filepath.Join(".gitops", "scan-allow.yaml"), tt.allow)
			}
			code, out, errOut := runScan(t, tt.args...)
			checkGolden(t, tt.golden, code, out, errOut)
		})
	}
}

// TestScanCanary runs the scan over findings of every kind, each holding
// the canary, in every output and mode, and checks that every kind was
// found (runScan fails the test when the canary is printed).
func TestScanCanary(t *testing.T) {
	dir := fixtureRepo(t, true)
	scanGit(t, dir, "add", "-A")
	wantRules := []string{"plaintext-secret", "secret-generator-literal", "secret-generator-env", "secret-generator-file",
		"values-secret", "github-token", "secret-generator-missing"}
	for _, args := range [][]string{nil, {"-o", "json"}, {"--staged"}, {"--staged", "-o", "json"}, {"overlay", "charts"}, {"apps/secret.yaml"}} {
		code, out, errOut := runScan(t, args...)
		if code != 1 {
			t.Errorf("scan %v: exit %d, want 1\n%s%s", args, code, out, errOut)
		}
		if !slices.Contains(args, "json") {
			continue
		}
		var found []struct{ Rule string }
		if err := json.Unmarshal([]byte(out), &found); err != nil {
			t.Fatalf("scan %v: %v", args, err)
		}
		for _, r := range wantRules {
			if !slices.ContainsFunc(found, func(f struct{ Rule string }) bool { return f.Rule == r }) {
				t.Errorf("scan %v found no %s: %s", args, r, out)
			}
		}
	}
	// The help text holds no value either.
	if _, out, _ := runScan(t, "--help"); !strings.Contains(out, "--staged") {
		t.Errorf("--help lacks --staged:\n%s", out)
	}
}

// TestScanStaged judges what the next commit holds: the index, not the work
// tree.
func TestScanStaged(t *testing.T) {
	const (
		cleanValues  = "database:\n  password: \"\"\n"
		secretValues = "database:\n  password: " + scanCanary + "\n"
		kustomize    = "secretGenerator:\n- name: app\n  envs:\n  - app.env\n"
	)
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string) // after a first commit of base
		golden string
	}{
		{"staged part clean, secret only in the work tree", func(t *testing.T, dir string) {
			scanWrite(t, dir, "values.yaml", "replicas: 2\n"+cleanValues)
			scanGit(t, dir, "add", "values.yaml")
			scanWrite(t, dir, "values.yaml", "replicas: 2\n"+secretValues)
		}, "staged-clean"},
		{"secret staged, work tree cleaned", func(t *testing.T, dir string) {
			scanWrite(t, dir, "values.yaml", "replicas: 2\n"+secretValues)
			scanGit(t, dir, "add", "values.yaml")
			scanWrite(t, dir, "values.yaml", cleanValues)
		}, "staged-secret"},
		{"staged env file of a committed kustomization", func(t *testing.T, dir string) {
			scanWrite(t, dir, "app.env", "DB_HOST=db\nDB_PASSWORD="+scanCanary+"\n")
			scanGit(t, dir, "add", "app.env")
		}, "staged-env"},
		{"untracked and unstaged files are not scanned", func(t *testing.T, dir string) {
			scanWrite(t, dir, "secret.yaml", plainSecret)
			scanWrite(t, dir, "app.env", "DB_PASSWORD="+scanCanary+"\n")
		}, "staged-nothing"},
		{"a staged deletion is not scanned", func(t *testing.T, dir string) {
			scanGit(t, dir, "rm", "-q", "values.yaml")
		}, "staged-nothing"},
		{"staged kustomization: ignored env file skipped, unstaged one warned", func(t *testing.T, dir string) {
			scanWrite(t, dir, ".gitignore", "*.local.env\n")
			scanWrite(t, dir, "dev.local.env", "TOKEN="+scanCanary+"\n")
			scanWrite(t, dir, "extra.env", "TOKEN="+scanCanary+"\n")
			scanWrite(t, dir, "kustomization.yaml", kustomize+"  - dev.local.env\n  - extra.env\n")
			scanGit(t, dir, "add", ".gitignore", "kustomization.yaml")
		}, "staged-kustomization"},
		{"staged file in a subdirectory, run from there", func(t *testing.T, dir string) {
			scanWrite(t, dir, filepath.Join("sub", "values.yaml"), secretValues)
			scanGit(t, dir, "add", "sub")
			t.Chdir(filepath.Join(dir, "sub"))
		}, "staged-subdir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := gitRepo(t, map[string]string{"values.yaml": cleanValues, "kustomization.yaml": kustomize, "app.env": "DB_HOST=db\n"})
			scanGit(t, dir, "add", "-A")
			scanGit(t, dir, "commit", "-q", "-m", "base")
			t.Chdir(dir)
			tt.setup(t, dir)
			code, out, errOut := runScan(t, "--staged")
			checkGolden(t, tt.golden, code, out, errOut)
		})
	}
	t.Run("outside a git work tree", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if code, _, errOut := runScan(t, "--staged"); code != 2 || !strings.Contains(errOut, "not in a git work tree") {
			t.Errorf("exit %d, want 2: %s", code, errOut)
		}
	})
}

// TestScanPreCommitHook installs the hook in a real repository and commits
// with the real git, with the real binary on PATH.
func TestScanPreCommitHook(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sh hooks")
	}
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-gitops-seal"), "../../cmd/kubectl-gitops-seal").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := gitRepo(t, map[string]string{"values.yaml": "replicas: 1\n"})
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if code, _, errOut := runScan(t, "--install-hook", dir); code != 0 {
		t.Fatalf("--install-hook: exit %d: %s", code, errOut)
	}
	scanGit(t, dir, "add", "-A")
	scanGit(t, dir, "commit", "-q", "-m", "base")

	commit := func(args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", dir, "commit", "-q", "-m", "change"}, args...)...).CombinedOutput()
		if strings.Contains(string(out), scanCanary) {
			t.Errorf("the canary leaked through the hook: %s", out)
		}
		return string(out), err
	}
	// A secret staged: refused, naming file and line.
	scanWrite(t, dir, filepath.Join("apps", "secret.yaml"), plainSecret)
	scanGit(t, dir, "add", "apps")
	if out, err := commit(); err == nil || !strings.Contains(out, "apps/secret.yaml:6") {
		t.Fatalf("commit of a plaintext Secret: err %v, output:\n%s", err, out)
	}
	scanGit(t, dir, "rm", "-q", "--cached", "apps/secret.yaml")
	// Partly staged: the staged part is clean, the work tree is not.
	scanWrite(t, dir, "values.yaml", "replicas: 2\n")
	scanGit(t, dir, "add", "values.yaml")
	scanWrite(t, dir, "values.yaml", "replicas: 2\npassword: "+scanCanary+"\n")
	if out, err := commit(); err != nil {
		t.Fatalf("commit of the clean staged part refused: %v\n%s", err, out)
	}
	// commit -a stages the work tree (a temporary index): refused.
	if out, err := commit("-a"); err == nil || !strings.Contains(out, "values.yaml:2") {
		t.Fatalf("commit -a with a secret: err %v, output:\n%s", err, out)
	}
	// --no-verify bypasses the hook.
	if out, err := commit("-a", "--no-verify"); err != nil {
		t.Fatalf("commit --no-verify: %v\n%s", err, out)
	}
}
