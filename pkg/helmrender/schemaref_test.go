package helmrender

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/test/chartrepo"
)

// canaryFile is a named pipe at dir/canary.json standing for a file of the
// machine a chart's values schema $refs: the returned function says
// how many times anything opened it for reading (a regular file's reads
// leave no trace; a pipe's opener is seen). What it would read holds the
// canary.
func canaryFile(t *testing.T, dir, canary string) (path string, opened func() int32) {
	t.Helper()
	path = filepath.Join(dir, "canary.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	var was atomic.Int32
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			// Blocks until a reader opens the pipe.
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			if stop.Load() {
				_ = f.Close()
				return
			}
			was.Add(1)
			_, _ = f.WriteString(`{"type": "object", "description": "` + canary + `", "not": {}}`)
			_ = f.Close()
		}
	}()
	t.Cleanup(func() {
		// Release the writer.
		stop.Store(true)
		if r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			<-done
			_ = r.Close()
		}
	})
	// A reader reads until the writer closes: once Render returned, the
	// writer has run if anything opened the pipe.
	return path, was.Load
}

// TestFetchedChartSchemaRefsRefused: a chart fetched from a chart
// repository (a HelmRepository's, an Argo CD chart source's) and a
// dependency fetched by `helm dependency build` are untrusted as a
// checkout's charts are. Helm's validator (v4.3.2 ValidateAgainstSchema)
// reads a file:// "$ref" of values.schema.json from this machine and GETs
// an http(s):// one; the chart archive never goes through the directory
// check. Render refuses each such chart, naming it and the schema's file:
// nothing opened the file, the URL was never asked, the canary is in no
// error.
func TestFetchedChartSchemaRefsRefused(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	tmp := t.TempDir()
	t.Setenv("DOCKER_CONFIG", filepath.Join(tmp, "docker"))
	t.Setenv("HELM_REGISTRY_CONFIG", filepath.Join(tmp, "helm-registry.json"))
	fifo, opened := canaryFile(t, tmp, canary)
	var hits atomic.Int32
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"type": "object", "not": {}}`))
	}))
	t.Cleanup(web.Close)

	writeChart := func(dir, name, schema string, extra map[string]string) {
		files := map[string]string{
			"Chart.yaml":        "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n",
			"values.yaml":       "a: 1\n",
			"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n",
		}
		if schema != "" {
			files["values.schema.json"] = schema
		}
		for k, v := range extra {
			files[k] = v
		}
		for k, v := range files {
			p := filepath.Join(dir, filepath.FromSlash(k))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	fileRef := `{"type": "object", "properties": {"a": {"$ref": "file://` + fifo + `"}}}`
	httpRef := `{"type": "object", "properties": {"a": {"$ref": "` + web.URL + `/schema.json"}}}`
	src, repo := filepath.Join(tmp, "src"), filepath.Join(tmp, "repo")
	for name, schema := range map[string]string{"file-ref": fileRef, "http-ref": httpRef, "sub": httpRef} {
		writeChart(filepath.Join(src, name), name, schema, nil)
	}
	// A chart carrying its subchart (vendored in charts/).
	writeChart(filepath.Join(src, "parent"), "parent", "", nil)
	writeChart(filepath.Join(src, "parent", "charts", "inner"), "inner", fileRef, nil)
	for _, name := range []string{"file-ref", "http-ref", "sub", "parent"} {
		if _, err := chartrepo.Package(filepath.Join(src, name), repo, ""); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := chartrepo.ServeHTTP(repo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	f, err := chartsource.New(chartsource.Options{CacheDir: filepath.Join(tmp, "cache"), Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(t *testing.T, name string) string {
		p, _, err := f.Fetch(t.Context(), chartsource.ChartRef{RepoURL: srv.URL, Chart: name, Version: "0.1.0"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	deps := func(ctx context.Context, dep Dependency) (string, error) {
		p, _, err := f.Fetch(ctx, chartsource.ChartRef{RepoURL: dep.Repository, Chart: dep.Name, Version: dep.Version})
		return p, err
	}
	// A checkout's chart whose dependency comes from the repository.
	root := filepath.Join(tmp, "checkout")
	writeChart(filepath.Join(root, "app"), "app", "", map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 0.1.0\n  repository: " + srv.URL + "\n"})

	for _, tc := range []struct {
		name string
		rel  func(t *testing.T) Release
		want string
	}{
		{"an archive's schema $refs a file", func(t *testing.T) Release {
			return Release{Chart: fetch(t, "file-ref")}
		}, "chart file-ref 0.1.0 not loaded: values.schema.json has a $ref to file://" + fifo + ", outside the chart"},
		{"an archive's schema $refs a URL", func(t *testing.T) Release {
			return Release{Chart: fetch(t, "http-ref")}
		}, "chart http-ref 0.1.0 not loaded: values.schema.json has a $ref to " + web.URL + "/schema.json, outside the chart"},
		{"the schema of a subchart in an archive $refs a file", func(t *testing.T) Release {
			return Release{Chart: fetch(t, "parent"), Values: map[string]any{"inner": map[string]any{"a": 2}}}
		}, "chart parent 0.1.0 not loaded: charts/inner/values.schema.json has a $ref to file://" + fifo + ", outside the chart"},
		{"a fetched dependency's schema $refs a URL", func(t *testing.T) Release {
			return Release{Chart: filepath.Join(root, "app"), Root: root, BuildDependencies: deps, Values: map[string]any{"sub": map[string]any{"a": 2}}}
		}, "chart app: building dependencies: dependency sub: chart sub 0.1.0 not loaded: values.schema.json has a $ref to " + web.URL + "/schema.json, outside the chart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel := tc.rel(t)
			opens, asked := opened(), hits.Load()
			rel.Name, rel.Namespace = "rel", "default"
			res, err := Render(t.Context(), rel)
			if err == nil {
				t.Fatalf("Render rendered %d objects, want the error %q", len(res.Objects), tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Render: %v\nwant: %s", err, tc.want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error quotes the file: %v", err)
			}
			if n := opened() - opens; n != 0 {
				t.Errorf("the $ref'd file was opened %d times", n)
			}
			if n := hits.Load() - asked; n != 0 {
				t.Errorf("the $ref'd URL was asked %d times", n)
			}
		})
	}
}
