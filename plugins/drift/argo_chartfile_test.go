package drift

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/test/chartrepo"
)

// countingLoader counts the charts loaded through it.
type countingLoader struct {
	n atomic.Int32
	c *helmrender.Confiner
}

func (l *countingLoader) Load(path, root string) (*helmrender.Chart, error) {
	l.n.Add(1)
	return l.c.Load(path, root)
}

// TestArgoChartValueFilesBoundedLoadedOnce: the value files an Argo CD
// Application names in a chart it fetched from a Helm repository are
// repository input like a checkout's, bounded as they are (8 MiB, before
// they are parsed: a larger one is an error naming the file), and the
// chart is loaded once for its value files and its render.
func TestArgoChartValueFilesBoundedLoadedOnce(t *testing.T) {
	tmp := t.TempDir()
	isolateHelm(t, tmp)
	src := filepath.Join(tmp, "src", "web")
	big := "big: \"" + strings.Repeat("a", maxValuesFile) + "\"\n"
	for name, data := range map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"values.yaml":       "greeting: default\n",
		"values-prod.yaml":  "greeting: from-the-chart-file\n",
		"values-big.yaml":   big,
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {greeting: \"{{ .Values.greeting }}\"}\n",
	} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo := filepath.Join(tmp, "repo")
	if _, err := chartrepo.Package(src, repo, ""); err != nil {
		t.Fatal(err)
	}
	srv, err := chartrepo.ServeHTTP(repo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cf, err := chartsource.New(chartsource.Options{CacheDir: filepath.Join(tmp, "charts"), Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	archive, _, err := cf.Fetch(t.Context(), chartsource.ChartRef{RepoURL: srv.URL, Chart: "web", Version: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	caps := helmrender.Capabilities{KubeVersion: "v1.37.2"}

	t.Run("a value file of the chart larger than the bound", func(t *testing.T) {
		op := argoHelmSource(t, "    {repoURL: "+srv.URL+", chart: web, targetRevision: 0.1.0, helm: {valueFiles: [values-big.yaml]}}\n")
		l := &countingLoader{c: &helmrender.Confiner{}}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := renderArgoHelm(t.Context(), op, archive, "", caps, nil, l)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "values-big.yaml") || !strings.Contains(err.Error(), "larger than 8388608 bytes") {
			t.Fatalf("render: %v, want values-big.yaml refused as larger than 8388608 bytes", err)
		}
		// Loading the chart takes some 32 MiB; parsing the file, which
		// the bound prevents, some 300 more.
		if n := (after.TotalAlloc - before.TotalAlloc) >> 20; n > 160 {
			t.Errorf("%d MiB allocated: the file was parsed", n)
		}
	})
	t.Run("the chart is loaded once", func(t *testing.T) {
		op := argoHelmSource(t, "    {repoURL: "+srv.URL+", chart: web, targetRevision: 0.1.0, helm: {valueFiles: [values-prod.yaml], fileParameters: [{name: other, path: values-prod.yaml}]}}\n")
		l := &countingLoader{c: &helmrender.Confiner{}}
		r, err := renderArgoHelm(t.Context(), op, archive, "", caps, nil, l)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Set.Objects) != 1 {
			t.Fatalf("%d objects, want the ConfigMap", len(r.Set.Objects))
		}
		if got := r.Set.Objects[0].Obj.Object["data"].(map[string]any)["greeting"]; got != "from-the-chart-file" {
			t.Errorf("greeting %v, want the chart's value file's", got)
		}
		if n := l.n.Load(); n != 1 {
			t.Errorf("the chart was loaded %d times, want once", n)
		}
	})
}
