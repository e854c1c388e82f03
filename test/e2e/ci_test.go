package e2e

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const installScript = "../../hack/install-release.sh"

// installedBinaries are what hack/install-release.sh copies out of the archive.
var installedBinaries = []string{"kubectl-gitops", "kubectl-gitops-drift", "kubectl-gitops-promote",
	"kubectl-gitops-tenant", "kubectl-gitops-seal", "kubectl-gitops-repo", "argocd-gitops"}

// sh runs a POSIX sh script with args and env added to this process's
// environment (PATH first in pathDirs when given).
func sh(t *testing.T, pathDirs []string, env []string, script string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "sh", append([]string{script}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if len(pathDirs) > 0 {
		cmd.Env = append(cmd.Env, "PATH="+strings.Join(append(pathDirs, os.Getenv("PATH")), string(os.PathListSeparator)))
	}
	cmd.Env = append(cmd.Env, env...)
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", script, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// serve serves dir over HTTP on the loopback address.
func serve(t *testing.T, dir string) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// copyDir copies the regular files of dir (not recursively) into a new one.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// assertNothingInstalled fails when dir holds any file.
func assertNothingInstalled(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s was installed into %s", e.Name(), dir)
	}
}

// TestInstallRelease runs hack/install-release.sh, the install step of
// action.yml and the GitLab CI template, against archives made by
// hack/release.sh and served over HTTP: a verified archive installs binaries
// that run; a tampered archive, or one checksums.txt does not name, is
// refused with nothing installed; an unknown platform is a clear error.
func TestInstallRelease(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the install script is POSIX sh")
	}
	dist := release(t)
	url := serve(t, dist)

	t.Run("verified archive installs", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "bin")
		r := sh(t, nil, nil, installScript, "--version", releaseVersion, "--dir", dir, "--base-url", url)
		if r.code != 0 || strings.TrimSpace(r.stdout) != dir || !strings.Contains(r.stderr, "checksum ok") {
			t.Fatalf("exit %d, want 0 and %s on stdout:\n%s\n%s", r.code, dir, r.stdout, r.stderr)
		}
		for _, b := range installedBinaries {
			fi, err := os.Stat(filepath.Join(dir, b))
			if err != nil || fi.Mode().Perm()&0o111 == 0 {
				t.Errorf("%s not installed as an executable: %v", b, err)
			}
		}
		// The dispatcher finds the verb binaries next to it, as installed.
		out, err := exec.CommandContext(t.Context(), filepath.Join(dir, "kubectl-gitops"), "drift", "version", "--client").CombinedOutput()
		if err != nil || !strings.Contains(string(out), releaseVersion) {
			t.Fatalf("installed kubectl-gitops drift version: %v\n%s", err, out)
		}
	})

	t.Run("tampered archive is refused", func(t *testing.T) {
		bad := copyDir(t, dist)
		p := filepath.Join(bad, hostArchive)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0xff
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "bin")
		r := sh(t, nil, nil, installScript, "--version", releaseVersion, "--dir", dir, "--base-url", serve(t, bad))
		if r.code != 2 || !strings.Contains(r.stderr, "checksum mismatch for "+hostArchive) || r.stdout != "" {
			t.Fatalf("exit %d, want 2 and a checksum mismatch:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		assertNothingInstalled(t, dir)
	})

	t.Run("archive missing from checksums.txt is refused", func(t *testing.T) {
		bad := copyDir(t, dist)
		sums, err := os.ReadFile(filepath.Join(bad, "checksums.txt"))
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, l := range strings.Split(string(sums), "\n") {
			if !strings.HasSuffix(l, " "+hostArchive) {
				kept = append(kept, l)
			}
		}
		if err := os.WriteFile(filepath.Join(bad, "checksums.txt"), []byte(strings.Join(kept, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "bin")
		r := sh(t, nil, nil, installScript, "--version", releaseVersion, "--dir", dir, "--base-url", serve(t, bad))
		if r.code != 2 || !strings.Contains(r.stderr, "does not name "+hostArchive) {
			t.Fatalf("exit %d, want 2, the archive not named:\n%s", r.code, r.stderr)
		}
		assertNothingInstalled(t, dir)
	})

	t.Run("unknown platform", func(t *testing.T) {
		for _, tt := range []struct{ s, m, want string }{
			{"SunOS", "x86_64", "no release archive for operating system SunOS"},
			{"Linux", "riscv64", "no release archive for architecture riscv64"},
		} {
			fake := t.TempDir()
			uname := "#!/bin/sh\ncase \"$1\" in -s) echo " + tt.s + ";; -m) echo " + tt.m + ";; esac\n"
			if err := os.WriteFile(filepath.Join(fake, "uname"), []byte(uname), 0o755); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "bin")
			r := sh(t, []string{fake}, nil, installScript, "--version", releaseVersion, "--dir", dir, "--base-url", url)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%s/%s: exit %d, want 2 and %q:\n%s", tt.s, tt.m, r.code, tt.want, r.stderr)
			}
			assertNothingInstalled(t, dir)
		}
	})

	t.Run("plain http to another host is refused", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "bin")
		r := sh(t, nil, nil, installScript, "--version", releaseVersion, "--dir", dir, "--base-url", "http://example.invalid/x")
		if r.code != 2 || !strings.Contains(r.stderr, "want https") {
			t.Fatalf("exit %d, want 2 and https required:\n%s", r.code, r.stderr)
		}
		assertNothingInstalled(t, dir)
	})

	t.Run("gitlab template job", func(t *testing.T) {
		// The template's script, run as GitLab runs it (sh), with the
		// repository's install script and the release served here.
		job := gitlabJob(t)
		script := filepath.Join(t.TempDir(), "job.sh")
		if err := os.WriteFile(script, []byte(strings.Join(job.Script, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		abs, err := filepath.Abs(installScript)
		if err != nil {
			t.Fatal(err)
		}
		project := t.TempDir()
		r := sh(t, nil, []string{
			"KUBECTL_GITOPS_VERSION=" + releaseVersion,
			"KUBECTL_GITOPS_COMMAND=drift version --client",
			"KUBECTL_GITOPS_COMMENT=true",
			"KUBECTL_GITOPS_FAIL_ON_FINDINGS=true",
			"KUBECTL_GITOPS_INSTALL_SCRIPT=" + abs,
			"KUBECTL_GITOPS_RELEASE_URL=" + url,
			"CI_PROJECT_DIR=" + project,
		}, script)
		if r.code != 0 || !strings.Contains(r.stdout, "kubectl gitops drift version "+releaseVersion) {
			t.Fatalf("exit %d, want the installed drift's version:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
}

// compositeAction is the part of action.yml the tests check.
type compositeAction struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Inputs      map[string]struct {
		Description string `json:"description"`
		Required    *bool  `json:"required"`
		Default     string `json:"default"`
	} `json:"inputs"`
	Outputs map[string]struct {
		Description string `json:"description"`
		Value       string `json:"value"`
	} `json:"outputs"`
	Runs struct {
		Using string `json:"using"`
		Steps []struct {
			ID    string            `json:"id"`
			Name  string            `json:"name"`
			Uses  string            `json:"uses"`
			Run   string            `json:"run"`
			Shell string            `json:"shell"`
			Env   map[string]string `json:"env"`
		} `json:"steps"`
	} `json:"runs"`
}

var (
	inputRef = regexp.MustCompile(`\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}`)
	stepRef  = regexp.MustCompile(`steps\.([A-Za-z0-9_-]+)\.outputs\.`)
	anyExpr  = regexp.MustCompile(`\$\{\{[^}]*\}\}`)
)

// TestActionYAML checks action.yml is a well-formed composite action: its
// required keys, a shell on every run step, every input used exists and
// every input is used, outputs name existing steps, no expression is
// interpolated into a script, and the install script it runs exists. It then
// runs the command step with a stand-in kubectl-gitops, as a pull request
// runs it, to check the arguments --comment-on-pr gets.
func TestActionYAML(t *testing.T) {
	raw, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a compositeAction
	if err := yaml.Unmarshal(raw, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" || len(a.Runs.Steps) == 0 {
		t.Fatalf("action.yml lacks name, description, runs.using: composite or steps: %+v", a)
	}
	ids := map[string]bool{}
	for i, s := range a.Runs.Steps {
		if s.Run != "" && s.Shell == "" {
			t.Errorf("step %d (%s) runs a script without shell", i, s.Name)
		}
		if (s.Run == "") == (s.Uses == "") {
			t.Errorf("step %d (%s): want exactly one of run and uses", i, s.Name)
		}
		if anyExpr.MatchString(s.Run) {
			t.Errorf("step %d (%s) interpolates an expression into its script (pass it through env): %s", i, s.Name, anyExpr.FindString(s.Run))
		}
		if s.ID != "" {
			ids[s.ID] = true
		}
	}
	used := map[string]bool{}
	for _, m := range inputRef.FindAllStringSubmatch(string(raw), -1) {
		used[m[1]] = true
		if _, ok := a.Inputs[m[1]]; !ok {
			t.Errorf("action.yml uses inputs.%s, which is not declared", m[1])
		}
	}
	for name, in := range a.Inputs {
		if !used[name] {
			t.Errorf("input %s is declared but never used", name)
		}
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	for name, out := range a.Outputs {
		for _, m := range stepRef.FindAllStringSubmatch(out.Value, -1) {
			if !ids[m[1]] {
				t.Errorf("output %s reads step %s, which does not exist", name, m[1])
			}
		}
	}
	if !strings.Contains(a.Runs.Steps[0].Run, "$ACTION_PATH/hack/install-release.sh") {
		t.Errorf("the install step does not run hack/install-release.sh:\n%s", a.Runs.Steps[0].Run)
	}
	if _, err := os.Stat(installScript); err != nil {
		t.Error(err)
	}
	if runtime.GOOS == "windows" {
		return
	}

	// The command step, with the env GitHub would give it on a pull request.
	step := a.Runs.Steps[len(a.Runs.Steps)-1]
	fake := t.TempDir()
	argsFile := filepath.Join(t.TempDir(), "args")
	stub := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + argsFile + "\nprintf '%s\\n' \"$GITHUB_TOKEN\" >> " + argsFile + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fake, "kubectl-gitops"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "run.sh")
	if err := os.WriteFile(script, []byte(step.Run), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		failOnFindings string
		wantCode       int
	}{{"true", 1}, {"false", 0}} {
		output := filepath.Join(t.TempDir(), "output")
		cmd := exec.CommandContext(t.Context(), "bash", script)
		cmd.Env = append(os.Environ(),
			"PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"),
			`INPUT_COMMAND=drift -k 'overlays/prod env' -o markdown`,
			"INPUT_COMMENT=true",
			"INPUT_FAIL_ON_FINDINGS="+tt.failOnFindings,
			"PR_NUMBER=42",
			"GITHUB_TOKEN=canary-s3cr3t-7f3a",
			"GITHUB_SERVER_URL=https://github.com",
			"GITHUB_REPOSITORY=acme/fleet",
			"GITHUB_API_URL=https://api.github.com",
			"GITHUB_OUTPUT="+output,
		)
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.wantCode {
			t.Errorf("fail-on-findings %s: exit %d, want %d:\n%s", tt.failOnFindings, code, tt.wantCode, out)
		}
		if strings.Contains(string(out), "canary-s3cr3t-7f3a") {
			t.Errorf("the token is in the step's output:\n%s", out)
		}
		got, err := os.ReadFile(argsFile)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"drift", "-k", "overlays/prod env", "-o", "markdown", "--comment-on-pr", "42",
			"--forge-remote", "https://github.com/acme/fleet", "--forge-type", "github", "--forge-url", "https://api.github.com",
			"canary-s3cr3t-7f3a"}
		if lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n"); !slices.Equal(lines, want) {
			t.Errorf("kubectl-gitops got\n%q\nwant\n%q", lines, want)
		}
		if o, _ := os.ReadFile(output); string(o) != "exit-code=1\n" {
			t.Errorf("GITHUB_OUTPUT = %q, want exit-code=1", o)
		}
	}
}

// gitlabTemplate is the part of the GitLab CI template the tests check.
type gitlabTemplate struct {
	Image     string            `json:"image"`
	Variables map[string]string `json:"variables"`
	Rules     []map[string]any  `json:"rules"`
	Script    []string          `json:"script"`
}

func gitlabJob(t *testing.T) gitlabTemplate {
	t.Helper()
	raw, err := os.ReadFile("../../ci/gitlab/kubectl-gitops.gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]gitlabTemplate
	if err := yaml.UnmarshalStrict(raw, &doc); err != nil {
		t.Fatalf("ci/gitlab/kubectl-gitops.gitlab-ci.yml: %v", err)
	}
	job, ok := doc[".kubectl-gitops"]
	if !ok || len(doc) != 1 {
		t.Fatalf("the template defines %d jobs, want only the hidden .kubectl-gitops", len(doc))
	}
	return job
}

// TestGitLabTemplate checks the GitLab CI template: one hidden job to
// extend, run in merge request pipelines, whose script installs with the
// repository's install script, comments with GitLab's merge request
// variables and the token variable drift reads, and declares every
// KUBECTL_GITOPS_ variable it reads.
func TestGitLabTemplate(t *testing.T) {
	job := gitlabJob(t)
	script := strings.Join(job.Script, "\n")
	if job.Image == "" || len(job.Rules) == 0 || script == "" {
		t.Fatalf("the job lacks image, rules or script: %+v", job)
	}
	if !strings.Contains(script, "/hack/install-release.sh") {
		t.Error("the job does not run hack/install-release.sh")
	}
	if _, err := os.Stat(installScript); err != nil {
		t.Error(err)
	}
	for _, v := range []string{"CI_MERGE_REQUEST_IID", "CI_API_V4_URL", "CI_PROJECT_URL", "GITLAB_TOKEN", "--comment-on-pr", "--forge-type gitlab"} {
		if !strings.Contains(script, v) {
			t.Errorf("the job's script does not use %s", v)
		}
	}
	// GITLAB_TOKEN is the variable drift reads for a GitLab forge.
	drift, err := os.ReadFile("../../pkg/promotion/pipeline.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(drift), `return "GITLAB_TOKEN"`) {
		t.Error("pkg/promotion no longer reads GITLAB_TOKEN: update the template")
	}
	for _, m := range regexp.MustCompile(`\$\{?(KUBECTL_GITOPS_[A-Z_]+)`).FindAllStringSubmatch(script, -1) {
		if _, ok := job.Variables[m[1]]; !ok {
			t.Errorf("the script reads %s, which the job does not declare", m[1])
		}
	}
	for name := range job.Variables {
		if !strings.Contains(script, name) {
			t.Errorf("variable %s is declared but never read", name)
		}
	}
}
