package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGraphHelmAppOfApps: an Argo CD Application whose path is a Helm
// chart of the repository that renders Applications (the reference
// layout argocd-helm-app-of-apps) is rendered with the Application's
// values — its value files, then valuesObject — and the Applications it
// renders are its children, their own paths followed; a chart that does
// not render with the Application's values is a note, which repeats no
// secret-like value.
func TestGraphHelmAppOfApps(t *testing.T) {
	// A copy outside this checkout: in a clone, the origin remote's URL
	// would make the example's repoURL another repository.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/layouts/argocd-helm-app-of-apps")); err != nil {
		t.Fatal(err)
	}
	r := runRepo(t, "", "graph", dir)
	want := "bootstrap/\n" +
		"└── Application argocd/apps → apps (Helm chart) @main\n" +
		"    └── Application argocd/guestbook → guestbook\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("graph:\n%s\nwant stdout:\n%s", r, want)
	}

	root := filepath.Join(dir, "bootstrap", "root.yaml")
	data, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	withValues := strings.Replace(string(data), "      valueFiles:\n        - values.yaml\n",
		"      valueFiles:\n        - values.yaml\n      valuesObject:\n        applications:\n          - name: guestbook\n            namespace: guestbook\n          - name: billing\n            path: teams/billing\n            namespace: billing\n", 1)
	if err := os.WriteFile(root, []byte(withValues), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runRepo(t, "", "graph", dir)
	want = "bootstrap/\n" +
		"└── Application argocd/apps → apps (Helm chart) @main\n" +
		"    ├── Application argocd/guestbook → guestbook\n" +
		"    └── Application argocd/billing → teams/billing (missing)\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("graph with valuesObject:\n%s\nwant stdout:\n%s", r, want)
	}
	r = runRepo(t, "", "graph", dir, "-o", "dot")
	if r.code != 0 || !strings.Contains(r.stdout, `label="Application argocd/billing`) {
		t.Errorf("graph -o dot lacks the rendered child:\n%s", r)
	}

	// Values the chart's template fails on, quoting a secret-like value.
	tmpl := filepath.Join(dir, "apps", "templates", "check.yaml")
	if err := os.WriteFile(tmpl, []byte(`{{- if .Values.auth }}{{ fail (printf "bad token %s" .Values.auth.token) }}{{ end }}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withSecret := strings.Replace(withValues, "      valuesObject:\n", "      valuesObject:\n        auth:\n          token: "+helmCanary+"\n", 1)
	if err := os.WriteFile(root, []byte(withSecret), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runRepo(t, "", "graph", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "note: Application argocd/apps (bootstrap/root.yaml): Helm chart apps not rendered:") ||
		!strings.Contains(r.stdout, "bad token ***") || strings.Contains(r.stdout+r.stderr, helmCanary) {
		t.Errorf("graph of a chart that fails:\n%s", r)
	}

	// A chart with a symbolic link out of the repository is not rendered:
	// nothing outside is read.
	outside := filepath.Join(t.TempDir(), "apps.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: "+helmCanary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(tmpl); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "apps", "templates", "outside.yaml")); err != nil {
		t.Fatal(err)
	}
	r = runRepo(t, "", "graph", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Helm chart apps not rendered: templates/outside.yaml is a symbolic link that leads out of the repository") ||
		strings.Contains(r.stdout+r.stderr, helmCanary) {
		t.Errorf("graph of a chart linking outside:\n%s", r)
	}
}

// TestGraphHelmAppOfAppsCycle: a chart whose values make it render an
// Application of itself (repository input) is a cycle: the graph stops
// there with a note, instead of rendering until memory runs out.
func TestGraphHelmAppOfAppsCycle(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/layouts/argocd-helm-app-of-apps")); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "bootstrap", "root.yaml")
	data, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	self := strings.Replace(string(data), "      valueFiles:\n        - values.yaml\n",
		"      valueFiles:\n        - values.yaml\n      valuesObject:\n        applications:\n          - name: self\n            path: apps\n            namespace: argocd\n", 1)
	if self == string(data) {
		t.Fatal("the example's root Application changed: no valueFiles block to extend")
	}
	if err := os.WriteFile(root, []byte(self), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runRepo(t, "", "graph", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Helm chart apps not rendered again: it renders an application of itself (a cycle)") {
		t.Errorf("graph of a chart rendering itself:\n%s", r)
	}
}
