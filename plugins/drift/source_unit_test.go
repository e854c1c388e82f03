package drift

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

func TestValidateSources(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // "" for valid
	}{
		{"nothing", nil, "must specify one of -f, -k, --repo"},
		{"-f and --repo", []string{"-f", "x.yaml", "--repo", "file:///r"}, "-f/-k cannot be combined"},
		{"-k and --argocd-app", []string{"-k", "dir", "--argocd-app", "a"}, "-f/-k cannot be combined"},
		{"--revision alone", []string{"--argocd-app", "a", "--revision", "main"}, "--revision and --path need --repo"},
		{"--path alone", []string{"--all-flux", "--path", "x"}, "--revision and --path need --repo"},
		{"--applied-revision with --repo", []string{"--repo", "file:///r", "--applied-revision"}, "--applied-revision needs Argo CD or Flux sources"},
		{"--repo-override with -f", []string{"-f", "x.yaml", "--repo-override", "a=b"}, "--repo-override needs"},
		{"bad --repo-override", []string{"--all-flux", "--repo-override", "nope"}, `invalid --repo-override "nope"`},
		{"repo", []string{"--repo", "file:///r", "--revision", "v1", "--path", "apps"}, ""},
		{"several sources", []string{"--repo", "file:///r", "--argocd-app", "a", "--argocd-app", "ns/b", "--all-flux", "--repo-override", "https://x/=file:///y/"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			argv := append([]string{"kubectl-gitops-drift", "--kubeconfig", os.DevNull, "-s", "https://127.0.0.1:1", "--request-timeout", "1s"}, tt.args...)
			code := cli.Run(context.Background(), argv, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, NewCmd)
			usage := strings.Contains(errOut.String(), "See 'kubectl gitops drift --help'")
			if tt.want == "" {
				if usage {
					t.Errorf("usage error for valid flags:\n%s", errOut.String())
				}
				return
			}
			if code != cli.ExitUsage || !usage || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant a usage error containing %q", code, errOut.String(), tt.want)
			}
		})
	}
}

func TestOverrideURL(t *testing.T) {
	o := &Options{RepoOverrides: []string{
		"https://git.example.com/org/fleet.git=file:///srv/fleet.git",
		"https://github.com/acme/=file:///mirror/acme/",
	}}
	tests := []struct{ in, want string }{
		{"https://git.example.com/org/fleet.git", "file:///srv/fleet.git"},
		{"https://git.example.com/org/fleet", "file:///srv/fleet.git"},
		{"https://git.example.com/org/fleet.git/", "file:///srv/fleet.git"},
		{"https://github.com/acme/app.git", "file:///mirror/acme/app.git"},
		{"https://github.com/other/app.git", "https://github.com/other/app.git"},
	}
	for _, tt := range tests {
		if got := o.overrideURL(tt.in); got != tt.want {
			t.Errorf("overrideURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitName(t *testing.T) {
	for in, want := range map[string][2]string{"web": {"argocd", "web"}, "team/web": {"team", "web"}} {
		if ns, n := splitName(in, "argocd"); ns != want[0] || n != want[1] {
			t.Errorf("splitName(%q) = %s, %s", in, ns, n)
		}
	}
}

func TestResultAll(t *testing.T) {
	clean := &compare.Report{Objects: []compare.ObjectReport{{Status: compare.StatusUnchanged}}}
	drifted := &compare.Report{Objects: []compare.ObjectReport{{Status: compare.StatusModified}}}
	broken := &compare.Report{Objects: []compare.ObjectReport{{Status: compare.StatusError}}}
	tests := []struct {
		name    string
		reports []sourceReport
		want    int
	}{
		{"in sync", []sourceReport{{Report: clean}}, cli.ExitOK},
		{"skipped is no error", []sourceReport{{Report: clean}, {Source: source{Skip: "disabled"}}}, cli.ExitOK},
		{"drift", []sourceReport{{Report: clean}, {Report: drifted}}, cli.ExitFindings},
		{"a source failed", []sourceReport{{Report: drifted}, {Err: errors.New("fetch failed")}}, cli.ExitFailure},
		{"an object failed", []sourceReport{{Report: drifted}, {Report: broken}}, cli.ExitFailure},
	}
	for _, tt := range tests {
		if got := cli.ExitCodeOf(resultAll(tt.reports, true)); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
	if err := resultAll([]sourceReport{{Report: drifted}}, false); err != nil {
		t.Errorf("--exit-code=false: %v", err)
	}
}

// A --repo run against a server that cannot be reached fails with one
// line, as the file mode does, and leaves no clone behind.
func TestSourcesUnreachableServer(t *testing.T) {
	repo := newFleetRepo(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), []string{"kubectl-gitops-drift", "--kubeconfig", os.DevNull, "-s", "https://127.0.0.1:1",
		"--repo", "file://" + repo.bare, "--path", "kustomized", "--request-timeout", "5s"},
		genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, NewCmd)
	if code != cli.ExitFailure {
		t.Errorf("exit %d, want 2", code)
	}
	if lines := strings.Split(strings.TrimSpace(errOut.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "127.0.0.1:1") {
		t.Errorf("want one line naming the server, got:\n%s", errOut.String())
	}
	assertNoCheckouts(t, tmp)
}
