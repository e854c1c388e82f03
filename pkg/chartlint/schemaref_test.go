package chartlint

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/chartrepo"
)

// TestCheckValuesRefusesExternalSchemaRef: repo lint checks a
// HelmRelease's values against the schema of a chart fetched from a chart
// repository (an archive, never Confined as a checkout's directory is).
// A schema whose $ref points at a URL is refused, naming the chart and the
// file, and the URL is never asked.
func TestCheckValuesRefusesExternalSchemaRef(t *testing.T) {
	var hits atomic.Int32
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"type": "string"}`))
	}))
	t.Cleanup(web.Close)
	src := filepath.Join(t.TempDir(), "web")
	for name, data := range map[string]string{
		"Chart.yaml":         "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"values.yaml":        "a: 1\n",
		"values.schema.json": `{"type": "object", "properties": {"a": {"$ref": "` + web.URL + `/a.json"}}}`,
	} {
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	archive, err := chartrepo.Package(src, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := CheckValues(t.Context(), archive, Options{Values: map[string]any{"a": 2}, Namespace: "default"})
	want := "chart web 0.1.0 not loaded: values.schema.json has a $ref to " + web.URL + "/a.json, outside the chart"
	if err == nil || err.Error() != want {
		t.Errorf("CheckValues: %v %v, want the error %q", msgs, err, want)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the $ref'd URL was asked %d times", n)
	}
}
