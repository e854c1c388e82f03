package helmrender

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalDependency: a file:// dependency not in charts/ is loaded from
// its directory, as helm dependency build packages it, when that directory
// is inside the checkout; one outside it (.., a symbolic link) is refused
// and never read; without a checkout (a fetched chart) it is an error.
func TestLocalDependency(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write := func(dir string, files map[string]string) {
		for name, data := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	sub := map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
		"templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-sub}\ndata: {from: {{ .Values.from | quote }}}\n",
		"values.yaml":         "from: sub\n",
		"templates/NOTES.txt": "",
	}
	write(filepath.Join(root, "charts-src", "sub"), sub)
	write(outside, sub)
	if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
		t.Fatal(err)
	}
	// A dependency inside the checkout whose template links out of it.
	write(filepath.Join(root, "charts-src", "leaky"), sub)
	if err := os.Symlink(filepath.Join(outside, "values.yaml"), filepath.Join(root, "charts-src", "leaky", "templates", "leak.yaml")); err != nil {
		t.Fatal(err)
	}
	parent := func(name, repository string) string {
		dir := filepath.Join(root, name)
		write(dir, map[string]string{
			"Chart.yaml":  "apiVersion: v2\nname: " + name + "\nversion: 1.0.0\ndependencies:\n- {name: sub, version: 0.1.0, repository: \"" + repository + "\"}\n",
			"values.yaml": "sub: {from: parent}\n",
		})
		return dir
	}
	noFetch := func(context.Context, Dependency) (string, error) {
		t.Fatal("a local dependency was fetched")
		return "", nil
	}
	res, err := Render(t.Context(), Release{Name: "r", Namespace: "ns", Chart: parent("inside", "file://../charts-src/sub"), Root: root, BuildDependencies: noFetch})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 1 || res.Objects[0].Obj.GetName() != "r-sub" || res.Objects[0].Obj.Object["data"].(map[string]any)["from"] != "parent" {
		t.Errorf("rendered %+v", res.Objects)
	}
	for _, tc := range []struct{ chart, root, want string }{
		{parent("dotdot", "file://../../"+filepath.Base(outside)), root, "outside the repository"},
		{parent("link", "file://../linked"), root, "outside the repository"},
		{parent("leaky", "file://../charts-src/leaky"), root, "leads out of the repository"},
		{parent("fetched", "file://../charts-src/sub"), "", "a local dependency of a chart that is not in a checkout"},
	} {
		_, err := Render(t.Context(), Release{Name: "r", Namespace: "ns", Chart: tc.chart, Root: tc.root, BuildDependencies: noFetch})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", filepath.Base(tc.chart), err, tc.want)
		}
	}
}
