package helmrender

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
)

// TestRenderConfinesRepositoryCharts: a chart in a repository checkout is
// untrusted. Helm's loader follows symbolic links, so a template linked to
// a file outside the checkout would be rendered (and shown in a diff), and
// a values schema's "$ref" to a file or URL would be read or fetched.
// Render refuses such a chart, naming the entry but never its content.
func TestRenderConfinesRepositoryCharts(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	outside := t.TempDir()
	secretFile := filepath.Join(outside, "kubeconfig.yaml")
	if err := os.WriteFile(secretFile, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leak}\ndata: {token: "+canary+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	chart := func(t *testing.T, extra func(dir string)) (root, dir string) {
		root = t.TempDir()
		dir = filepath.Join(root, "charts", "app")
		for name, data := range map[string]string{
			"Chart.yaml":          "apiVersion: v2\nname: app\nversion: 0.1.0\n",
			"values.yaml":         "replicas: 1\n",
			"templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {replicas: \"{{ .Values.replicas }}\"}\n",
			"templates/NOTES.txt": "hello\n",
		} {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		extra(dir)
		return root, dir
	}
	link := func(target, name string) func(string) {
		return func(dir string) {
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		extra func(dir string)
		want  string // "" = renders
	}{
		{"a plain chart renders", func(string) {}, ""},
		{"a link inside the checkout is fine", link("cm.yaml", "templates/cm2.yaml"), ""},
		{"a template linked out of the checkout", link(secretFile, "templates/leak.yaml"), "templates/leak.yaml is a symbolic link that leads out of the repository"},
		{"a file linked out of the checkout", link(secretFile, "files.yaml"), "files.yaml is a symbolic link that leads out of the repository"},
		{"a values schema $ref to a file", func(dir string) {
			if err := os.WriteFile(filepath.Join(dir, "values.schema.json"), []byte(`{"$ref": "file://`+secretFile+`"}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "values.schema.json has a $ref to file://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, dir := chart(t, tc.extra)
			res, err := Render(context.Background(), Release{Name: "app", Namespace: "default", Chart: dir, Root: root})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Render: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Render rendered %d objects, want the error %q", len(res.Objects), tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Render: %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), canary) {
				t.Fatalf("the error quotes the file: %v", err)
			}
		})
	}
}

// TestConfinerRemembersSchemasOnly: drift watch renders the same charts at
// every check, from a fresh checkout. A Confiner does not parse a values
// schema it has seen (same content, any directory) again, but every render
// still walks the chart: a template swapped for a symbolic link out of the
// checkout since the last render is refused, and so is a schema whose
// content changed (to the same size) to a $ref out of the chart.
func TestConfinerRemembersSchemasOnly(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leak}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	schema := `{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"n": {"type": "integer"}}, "properties": {"replicas": {"$ref": "#/definitions/n"}}}`
	checkout := func(t *testing.T) (root, dir string) {
		root = t.TempDir()
		dir = filepath.Join(root, "charts", "app")
		for name, data := range map[string]string{
			"Chart.yaml":         "apiVersion: v2\nname: app\nversion: 0.1.0\n",
			"values.yaml":        "replicas: 1\n",
			"values.schema.json": schema,
			"templates/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {replicas: \"{{ .Values.replicas }}\"}\n",
		} {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return root, dir
	}
	c := &Confiner{}
	render := func(root, dir string) error {
		_, err := Render(context.Background(), Release{Name: "app", Namespace: "default", Chart: dir, Root: root, Confiner: c})
		return err
	}
	root, dir := checkout(t)
	for i := range 3 {
		if err := render(root, dir); err != nil {
			t.Fatalf("render %d: %v", i, err)
		}
	}
	root2, dir2 := checkout(t) // the next check's fresh checkout
	if err := render(root2, dir2); err != nil {
		t.Fatal(err)
	}
	if c.parsed != 1 {
		t.Errorf("the schema was parsed %d times in 4 renders of the same content, want once", c.parsed)
	}

	// A template swapped for a link out of the checkout since.
	tpl := filepath.Join(dir, "templates", "cm.yaml")
	if err := os.Remove(tpl); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, tpl); err != nil {
		t.Fatal(err)
	}
	if err := render(root, dir); err == nil || !strings.Contains(err.Error(), "templates/cm.yaml is a symbolic link that leads out of the repository") {
		t.Errorf("after a link was swapped in: %v, want it refused", err)
	}

	// The schema changed to a $ref out of the chart, same size.
	bad := `{"$ref": "file://` + outside + `"}`
	bad += strings.Repeat(" ", len(schema)-len(bad))
	if len(bad) != len(schema) {
		t.Fatalf("the test's schemas differ in size: %d, %d", len(bad), len(schema))
	}
	if err := os.WriteFile(filepath.Join(dir2, "values.schema.json"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := render(root2, dir2); err == nil || !strings.Contains(err.Error(), "values.schema.json has a $ref to file://") {
		t.Errorf("after the schema changed: %v, want it refused", err)
	}
}

// TestConfinedChecksLinkedFiles: a values.schema.json that is a symbolic
// link to a file inside the checkout is read by Helm (helm lint's values
// rule, the validator) under the link's name: Confined checks the target's
// $refs as the schema's, not only where the link leads.
func TestConfinedChecksLinkedFiles(t *testing.T) {
	for _, tc := range []struct {
		name, schema, want string
	}{
		{"a linked schema with a $ref out of it", `{"$ref": "file:///etc/hostname"}`, "values.schema.json has a $ref to file:///etc/hostname"},
		{"a linked schema without one", `{"type": "object"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "app")
			for name, data := range map[string]string{"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n", "shared/schema.json": tc.schema} {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("../shared/schema.json", filepath.Join(dir, "values.schema.json")); err != nil {
				t.Fatal(err)
			}
			err := Confined(root, dir)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Confined: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Confined: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestConfinedWalksLinkedDirectories: Helm's loader walks a directory a
// symbolic link leads to; so does Confined, when it is inside the
// checkout: a link out of the checkout in it (a template rendered from
// any file of the machine) or a schema $ref is refused there too, and a
// link to a directory already walked (a cycle) ends the walk.
func TestConfinedWalksLinkedDirectories(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("k: v\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		links map[string]string // name in the checkout: target
		files map[string]string
		want  string
	}{
		{"a link out of the checkout in a linked directory", map[string]string{"app/templates/ext": "../../lib", "lib/leak.yaml": outside}, nil,
			"templates/ext/leak.yaml is a symbolic link that leads out of the repository"},
		{"a schema $ref in a linked subchart", map[string]string{"app/charts/sub": "../../lib/sub"},
			map[string]string{"lib/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n", "lib/sub/values.schema.json": `{"$ref": "https://example.com/s.json"}`},
			"charts/sub/values.schema.json has a $ref to https://example.com/s.json"},
		{"a cycle", map[string]string{"app/templates/loop": "..", "app/lib": "../lib", "lib/back": "../app"}, map[string]string{"lib/x.yaml": "k: v\n"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			files := map[string]string{"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n", "app/templates/cm.yaml": "k: v\n"}
			for name, data := range tc.files {
				files[name] = data
			}
			for name, data := range files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for name, target := range tc.links {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, p); err != nil {
					t.Fatal(err)
				}
			}
			err := Confined(root, filepath.Join(root, "app"))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Confined: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Confined: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestConfinedBoundsWhatItReads: a values schema (or a vendored archive)
// larger than Helm's loader reads of a whole chart is refused before it is
// held in memory, as Helm's loader refuses it.
func TestConfinedBoundsWhatItReads(t *testing.T) {
	defer func(n int64) { archive.MaxDecompressedChartSize = n }(archive.MaxDecompressedChartSize)
	archive.MaxDecompressedChartSize = 64
	root := t.TempDir()
	for name, data := range map[string]string{"Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"values.schema.json": `{"type": "object", "description": "` + strings.Repeat("x", 64) + `"}`} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Confined(root, root); err == nil || !strings.Contains(err.Error(), "values.schema.json is larger than a chart Helm loads (64 bytes)") {
		t.Fatalf("Confined: %v, want the schema refused as too large", err)
	}
}
