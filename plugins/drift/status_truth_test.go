package drift

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestStatusTellsTheTruth: `drift status` on an Application whose every
// object is of an apiVersion the server no longer serves (HelmRelease
// helm.toolkit.fluxcd.io/v2beta1; the installed CRD serves newer
// versions), and on one whose repository cannot be cloned. The first is
// an error with the count, not in-sync, and its objects' reason names the
// versions served instead of suggesting to install the CRD; the second's
// NOTE keeps the git error's cause, as -o json does.
func TestStatusTellsTheTruth(t *testing.T) {
	cp := controlplane.ForTest(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	setGitEnv(t)
	const ns = "gitops-truth"
	kubectl(t, cp, "", "create", "namespace", ns)

	base := t.TempDir()
	work, bare := filepath.Join(base, "work"), filepath.Join(base, "fleet.git")
	gitRun(t, base, "init", "--quiet", work)
	gitRun(t, base, "init", "--quiet", "--bare", bare)
	hr := func(name string) string {
		return "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata: {name: " + name + "}\n" +
			"spec:\n  interval: 5m\n  chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}\n"
	}
	if err := os.MkdirAll(filepath.Join(work, "releases"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"podinfo", "redis"} {
		if err := os.WriteFile(filepath.Join(work, "releases", name+".yaml"), []byte(hr(name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun(t, work, "add", "-A")
	gitRun(t, work, "commit", "--quiet", "-m", "releases")
	gitRun(t, work, "push", "--quiet", bare, "main")

	const origURL = "https://git.example.com/org/fleet.git"
	// The repository URL holds a credential: the whole note is shown now,
	// and must not show it.
	const goneURL = "https://bot:" + canary + "@git.example.com/platform-team/infrastructure/cluster-fleet-definitions.git"
	missing := filepath.Join(base, "mirrors", "platform-team", "infrastructure", "cluster-fleet-definitions.git")
	overrides := []string{"--repo-override=" + origURL + "=file://" + bare, "--repo-override=" + goneURL + "=file://" + missing}
	kubectl(t, cp, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: releases, namespace: `+ns+`}
spec:
  project: default
  source: {repoURL: `+origURL+`, targetRevision: main, path: releases}
  destination: {server: "https://kubernetes.default.svc", namespace: `+ns+`}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: gone, namespace: `+ns+`}
spec:
  project: default
  source: {repoURL: `+goneURL+`, targetRevision: main, path: apps}
  destination: {server: "https://kubernetes.default.svc", namespace: `+ns+`}
`, "apply", "-f", "-")

	r := runDrift(t, cp, append([]string{"status", "-n", ns, "-o", "json"}, overrides...)...)
	if r.code != cli.ExitError {
		t.Errorf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	var st JSONStatus
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	rows := map[string]JSONStatusSource{}
	for _, s := range st.Sources {
		rows[s.Name] = s
	}
	rel, gone := rows["argocd/"+ns+"/releases"], rows["argocd/"+ns+"/gone"]
	if rel.Drift != "error" || rel.Summary["error"] != 2 || rel.Summary["unchanged"] != 0 || !strings.Contains(rel.Reason, "2 of 2 objects could not be compared") {
		t.Errorf("every object in error: drift %q, summary %v, reason %q; want error, 2 errors, the count in the reason", rel.Drift, rel.Summary, rel.Reason)
	}
	if gone.Drift != "error" || gone.Reason == "" {
		t.Fatalf("unclonable repository: %+v", gone)
	}

	// The objects' reason: the apiVersion is not served, the versions that are.
	rep := runDrift(t, cp, append([]string{"--argocd-app", ns + "/releases", "-o", "json"}, overrides...)...)
	s := parseSources(t, rep)
	if len(s.Sources) != 1 || s.Sources[0].Report == nil || len(s.Sources[0].Report.Objects) != 2 {
		t.Fatalf("sources: %+v\n%s", s.Sources, rep.stderr)
	}
	for _, o := range s.Sources[0].Report.Objects {
		if o.Status != "error" || !strings.Contains(o.Reason, "apiVersion not served by the API server: helm.toolkit.fluxcd.io/v2beta1 HelmRelease") ||
			!regexp.MustCompile(`\bv2\b`).MatchString(o.Reason) || strings.Contains(o.Reason, "CRD") {
			t.Errorf("%s: %s %q; want error naming the versions served, not the CRD", o.Name, o.Status, o.Reason)
		}
	}

	// The table says the same, and keeps the whole cause of the fetch failure.
	tab := runDrift(t, cp, append([]string{"status", "-n", ns}, overrides...)...)
	t.Logf("drift status:\n%s", tab.stdout)
	lines := map[string]string{}
	for _, l := range strings.Split(tab.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	relRow := regexp.MustCompile(`^argocd/` + ns + `/releases\s+-\s+-\s+-\s+error\s+0\s+0\s+0\s+-\s+2 of 2 objects could not be compared`)
	if !relRow.MatchString(lines["argocd/"+ns+"/releases"]) {
		t.Errorf("releases row: %q\n%s", lines["argocd/"+ns+"/releases"], tab.stdout)
	}
	if want := strings.Join(strings.Fields(gone.Reason), " "); !strings.HasSuffix(lines["argocd/"+ns+"/gone"], "  "+want) {
		t.Errorf("gone row's NOTE is not the whole reason %q:\n%s", want, tab.stdout)
	}
	for _, out := range []string{r.stdout, r.stderr, rep.stdout, rep.stderr, tab.stdout, tab.stderr} {
		if strings.Contains(out, canary) {
			t.Errorf("the repository URL's credential leaks:\n%s", out)
		}
	}
	assertNoCheckouts(t, tmp)
}

// A source's DRIFT: drift found is drifted whatever else; objects not
// compared and no drift is error, never in-sync; the note counts them.
func TestStatusDriftOfObjectsInError(t *testing.T) {
	obj := func(name string, st compare.Status) compare.ObjectReport {
		r := compare.ObjectReport{Kind: "ConfigMap", Namespace: "shop", Name: name, Status: st}
		if st == compare.StatusError {
			r.Reason = "forbidden"
		}
		return r
	}
	tests := []struct {
		name, drift, reason string
		objects             []compare.ObjectReport
	}{
		{"all compared", "in-sync", "", []compare.ObjectReport{obj("a", compare.StatusUnchanged)}},
		{"one of two in error", "error", "1 of 2 objects could not be compared, first ConfigMap shop/b: forbidden",
			[]compare.ObjectReport{obj("a", compare.StatusUnchanged), obj("b", compare.StatusError)}},
		{"drift and an error", "drifted", "1 of 2 objects could not be compared, first ConfigMap shop/b: forbidden",
			[]compare.ObjectReport{obj("a", compare.StatusMissing), obj("b", compare.StatusError)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := toStatus([]sourceReport{{Source: source{Name: "argocd/x/y", Type: "argocd"}, Report: &compare.Report{Objects: tt.objects}}}, "server")
			if got := st.Sources[0]; got.Drift != tt.drift || got.Reason != tt.reason {
				t.Errorf("drift %q reason %q, want %q %q", got.Drift, got.Reason, tt.drift, tt.reason)
			}
		})
	}
}
