package chartlint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// moduleChart locates a chart that ships in a Go module, in the module
// cache (go mod download, outside this module so that go.sum is left
// alone): charts other people wrote, pinned by version and checksum.
func moduleChart(t *testing.T, module, dir string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	var m struct{ Dir string }
	if err == nil {
		err = json.Unmarshal(out, &m)
	}
	p := filepath.Join(m.Dir, filepath.FromSlash(dir))
	if err == nil {
		_, err = os.Stat(filepath.Join(p, "Chart.yaml"))
	}
	if err != nil {
		if os.Getenv("KUBECTL_GITOPS_REQUIRE_CLUSTER") != "" {
			t.Fatalf("chart %s of %s not available: %v", dir, module, err)
		}
		t.Skipf("chart %s of %s not available: %v", dir, module, err)
	}
	return p
}

func sealedSecrets(t *testing.T) string {
	return moduleChart(t, "github.com/bitnami-labs/sealed-secrets@v0.40.0", "helm/sealed-secrets")
}

func metricsServer(t *testing.T) string {
	return moduleChart(t, "sigs.k8s.io/metrics-server@v0.8.0", "charts/metrics-server")
}

// copyChart copies a chart (the module cache is read-only) into a
// temporary directory and applies edits: file → new content, or a
// function of the old content.
func copyChart(t *testing.T, src string, edits map[string]func(string) string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range edits {
		p := filepath.Join(dst, filepath.FromSlash(name))
		old, _ := os.ReadFile(p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(edit(string(old))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func content(c string) func(string) string { return func(string) string { return c } }

func writeValues(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// helmLint runs the real helm CLI's lint and returns its report of the
// chart: the messages as it prints them.
func helmLint(t *testing.T, helm, dir, namespace string, valueFiles []string, kubeVersion string) string {
	t.Helper()
	args := []string{"lint", dir, "--namespace", namespace}
	for _, f := range valueFiles {
		args = append(args, "-f", f)
	}
	if kubeVersion != "" {
		args = append(args, "--kube-version", kubeVersion)
	}
	cmd := exec.Command(helm, args...)
	home := t.TempDir()
	cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + filepath.Join(home, "none"), "HELM_CACHE_HOME=" + home, "HELM_CONFIG_HOME=" + home, "HELM_DATA_HOME=" + home, "PATH=/usr/bin:/bin"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	out := stdout.String()
	// The summary line, printed on success only.
	if i := strings.LastIndex(out, "\n\n"); i >= 0 {
		out = out[:i+2]
	}
	return out
}

// ours prints our messages as helm lint prints them.
func ours(dir string, msgs []Message) string {
	var b strings.Builder
	b.WriteString("==> Linting " + dir + "\n")
	for _, m := range msgs {
		b.WriteString(m.String() + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func normalize(dir, s string) string {
	abs, _ := filepath.Abs(dir)
	s = strings.ReplaceAll(strings.ReplaceAll(s, abs+"/", ""), abs, ".")
	// Helm's JSON schema library reports violations in map order: sorted
	// (as Lint sorts them), the first one too, printed after "path: ".
	s = strings.ReplaceAll(s, ": - at '", ":\n- at '")
	return SortViolations(s)
}

// TestLintSameAsHelmCLI: a differential test against the real helm CLI
// v4.3.2: `helm lint CHART --namespace NS -f VALUES…` and Lint with the
// same values (composed as the CLI composes -f files) give the same
// messages, severities and texts, in the same order — on real charts
// other people wrote (sealed-secrets, metrics-server) with their own and
// an environment's values, and on broken copies of each (metadata,
// template parse and execution errors, invalid rendered YAML, a values
// file a template fails on, a deprecated API an environment turns on, a
// values schema an environment breaks). Every broken case must produce
// the errors it is built for, so the comparison cannot pass on two empty
// reports.
func TestLintSameAsHelmCLI(t *testing.T) {
	helm := peertools.Require(t, peertools.Helm, "helm")
	ss, ms := sealedSecrets(t), metricsServer(t)
	schemaChart := filepath.Join("testdata", "schema")
	type tc struct {
		name        string
		dir         string
		values      []string
		kubeVersion string
		// want are substrings of the messages, with their rule, file and
		// line (0: not checked).
		want []Message
	}
	cases := []tc{
		{name: "sealed-secrets", dir: ss},
		{name: "sealed-secrets with values", dir: ss, values: []string{writeValues(t, "fullnameOverride: sealed-secrets-controller\nmetrics:\n  serviceMonitor:\n    enabled: true\n")}},
		{name: "metrics-server", dir: ms},
		{name: "metrics-server ci values", dir: ms, values: []string{filepath.Join(ms, "ci", "ci-values.yaml"), filepath.Join(ms, "ci", "tls-helm-values.yaml")}},
		{
			name: "sealed-secrets broken metadata",
			dir: copyChart(t, ss, map[string]func(string) string{
				"Chart.yaml": func(s string) string {
					return strings.Replace(replace("icon: ", "icon: ftp:/")(s), "\nversion:", "\nversionx:", 1)
				},
			}),
			want: []Message{{Severity: SeverityError, Rule: RuleChart, File: "Chart.yaml", Text: "version is required"}, {Severity: SeverityWarning, Rule: RuleChart, Text: "unknown field"}},
		},
		{
			name: "sealed-secrets template parse error",
			dir: copyChart(t, ss, map[string]func(string) string{
				"templates/service.yaml": func(s string) string { return s + "\n{{ .Values.service.port | nosuchfunc }}\n" },
			}),
			want: []Message{{Severity: SeverityError, Rule: RuleTemplate, File: "templates/service.yaml", Text: `function "nosuchfunc" not defined`}},
		},
		{
			name: "sealed-secrets template fails with an environment's values",
			dir: copyChart(t, ss, map[string]func(string) string{
				"templates/extra.yaml": content("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  zone: {{ if .Values.zones }}{{ index .Values.zones 2 }}{{ end }}\n"),
			}),
			values: []string{writeValues(t, "zones: [a]\n")},
			want:   []Message{{Severity: SeverityError, Rule: RuleTemplate, File: "templates/extra.yaml", Line: 6, Text: "index out of range"}},
		},
		{
			name: "metrics-server invalid rendered YAML",
			dir: copyChart(t, ms, map[string]func(string) string{
				"templates/bad.yaml": content("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n    labels: {{ .Values.bad }}\n"),
			}),
			want: []Message{{Severity: SeverityError, Rule: RuleTemplate, File: "templates/bad.yaml", Text: "unable to parse YAML"}},
		},
		{
			name: "metrics-server environment turns on a PDB and a ServiceMonitor",
			dir:  ms, kubeVersion: "v1.30.0",
			values: []string{writeValues(t, "podDisruptionBudget:\n  enabled: true\n  minAvailable: 1\nserviceMonitor:\n  enabled: true\n")},
		},
		{
			name: "schema chart", dir: schemaChart,
		},
		{
			name: "schema broken by an environment", dir: schemaChart,
			values: []string{writeValues(t, "replicaCount: three\nimage:\n  tag: canary\n  pullPolicy: Sometimes\n")},
			want:   []Message{{Severity: SeverityError, Rule: RuleValues, File: "values.yaml", Text: "at '/replicaCount'"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var files [][]byte
			for _, f := range c.values {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, data)
			}
			vals, err := helmrender.ComposeCLIValues(helmrender.CLIValues{Files: files})
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := Lint(context.Background(), c.dir, c.dir, Options{Values: vals, Namespace: "ns1", KubeVersion: c.kubeVersion})
			if err != nil {
				t.Fatal(err)
			}
			want := normalize(c.dir, helmLint(t, helm, c.dir, "ns1", c.values, c.kubeVersion))
			got := normalize(c.dir, ours(c.dir, msgs))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("helm lint (-helm +ours):\n%s", diff)
			}
			for _, w := range c.want {
				found := false
				for _, m := range msgs {
					if m.Severity == w.Severity && m.Rule == w.Rule && strings.Contains(m.Text, w.Text) &&
						(w.File == "" || m.File == w.File) && (w.Line == 0 || m.Line == w.Line) {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s %s message %q at %s:%d in %+v", w.Severity, w.Rule, w.Text, w.File, w.Line, msgs)
				}
			}
		})
	}
}

// TestLintNotAChart: a directory without Chart.yaml is an error, as the
// lint action's guard makes it.
func TestLintNotAChart(t *testing.T) {
	dir := t.TempDir()
	_, err := Lint(context.Background(), dir, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "not a chart") {
		t.Fatalf("error %v", err)
	}
}

// TestLintConfinesTheChart: Lint itself refuses a chart that would read
// outside the checkout it is given — a template that is a symbolic link
// out of it, one inside a directory linked inside it — so no caller can
// lint a repository's chart unchecked: the error is a *NotConfinedError
// naming the link, and the outside file's content is in no message. A
// link that stays inside the checkout is linted.
func TestLintConfinesTheChart(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, root, name, data string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chart := func(t *testing.T) (root, dir string) {
		root = t.TempDir()
		dir = filepath.Join(root, "charts", "web")
		write(t, root, "charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n")
		write(t, root, "charts/web/values.yaml", "replicaCount: 1\n")
		write(t, root, "charts/web/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n")
		return root, dir
	}
	for name, tc := range map[string]struct {
		link func(t *testing.T, root, dir string)
		want string
	}{
		"template linked out": {func(t *testing.T, root, dir string) {
			if err := os.Symlink(outside, filepath.Join(dir, "templates", "leak.yaml")); err != nil {
				t.Fatal(err)
			}
		}, "templates/leak.yaml is a symbolic link that leads out of the repository"},
		"through a linked directory": {func(t *testing.T, root, dir string) {
			write(t, root, "lib/README.md", "lib")
			if err := os.Symlink(outside, filepath.Join(root, "lib", "leak.yaml")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join("..", "..", "..", "lib"), filepath.Join(dir, "templates", "ext")); err != nil {
				t.Fatal(err)
			}
		}, "templates/ext/leak.yaml is a symbolic link that leads out of the repository"},
	} {
		t.Run(name, func(t *testing.T) {
			root, dir := chart(t)
			tc.link(t, root, dir)
			msgs, err := Lint(t.Context(), root, dir, Options{Namespace: "default"})
			var nc *NotConfinedError
			if !errors.As(err, &nc) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Lint = %+v, %v; want a *NotConfinedError saying %q", msgs, err, tc.want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error shows the outside file: %v", err)
			}
		})
	}
	root, dir := chart(t)
	write(t, root, "shared/notes.txt", "notes")
	if err := os.Symlink(filepath.Join("..", "..", "..", "shared", "notes.txt"), filepath.Join(dir, "templates", "NOTES.txt")); err != nil {
		t.Fatal(err)
	}
	if _, err := Lint(t.Context(), root, dir, Options{Namespace: "default"}); err != nil {
		t.Errorf("a link inside the checkout: %v", err)
	}
	if _, err := Lint(t.Context(), "", dir, Options{}); err == nil {
		t.Error("linted with no checkout root")
	}
}

func TestPointer(t *testing.T) {
	if diff := cmp.Diff([]string{"a", "b/c", "d~e"}, pointer("/a/b~1c/d~0e")); diff != "" {
		t.Error(diff)
	}
}
