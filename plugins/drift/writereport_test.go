package drift

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// TestWriteReportBytesAsWholeDocument: writing the report one object at a
// time gives the bytes of encoding the whole document at once, in JSON and
// YAML, whatever the objects hold (HTML-escaped characters, long and
// multi-line strings that YAML folds or blocks, nested values, no objects).
func TestWriteReportBytesAsWholeDocument(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 2, 11, 0, time.UTC)
	long := strings.Repeat("a long value that YAML may fold ", 8)
	objs := []compare.ObjectReport{
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-a", Name: "web", Source: "apps/web.yaml:1",
			Status: compare.StatusModified, FieldManager: "kustomize-controller", Changes: []objdiff.Change{
				{Path: objpath.Path{"spec", "replicas"}, Type: objdiff.Modified, Live: int64(5), Desired: int64(2),
					Owners: []objdiff.Owner{{Manager: "kubectl-scale", Operation: "Update", Subresource: "scale", Time: &at, Class: "human"}}},
				{Path: objpath.Path{"metadata", "annotations", "a/b<c>&d"}, Type: objdiff.Extra, Live: long + "\nsecond line\n", Note: "not in Git"},
				{Path: objpath.Path{"spec", "template", "spec", "containers"}, Type: objdiff.Modified,
					Live:    []any{map[string]any{"name": "app", "args": []any{"--x=1", 2.5, true, nil}}},
					Desired: []any{map[string]any{"name": "app", "args": []any{}}, map[string]any{}}},
			}},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "ünïcode-☃", Source: "cm.yaml:3", Status: compare.StatusUnchanged, FieldManager: "kustomize-controller"},
		{APIVersion: "v1", Kind: "Namespace", Name: "team-a", Status: compare.StatusError, Reason: "reading: \"quoted\" <b>\ttab"},
		{APIVersion: "v1", Kind: "Secret", Namespace: "x", Name: "s", Status: compare.StatusExtraneous, Reason: long},
		{APIVersion: "v1", Kind: "Service", Namespace: "x", Name: "objects: []", Status: compare.StatusMissing, Source: "\n  \"objects\": []"},
	}
	reports := map[string]*compare.Report{
		"none":        {Mode: compare.ModeServer},
		"one":         {Mode: compare.ModeLocal, Objects: objs[1:2]},
		"many":        {Mode: compare.ModeLocal, Objects: objs, Warnings: []string{"objects: []", "w<2>"}},
		"hybrid":      {Mode: compare.ModeHybrid, Objects: objs, ServerCompared: 3, ServerReasons: map[string]int{"defaulted": 2, "webhook": 1}},
		"hybrid-none": {Mode: compare.ModeHybrid},
	}
	for name, rep := range reports {
		for _, format := range []string{cli.FormatJSON, cli.FormatYAML} {
			var want, got bytes.Buffer
			if err := cli.WriteData(&want, format, toJSON(rep)); err != nil {
				t.Fatal(err)
			}
			if err := writeReport(&got, format, rep); err != nil {
				t.Fatalf("%s %s: %v", name, format, err)
			}
			if !bytes.Equal(want.Bytes(), got.Bytes()) {
				t.Errorf("%s -o %s: streamed bytes differ\nwant:\n%s\ngot:\n%s", name, format, want.String(), got.String())
			}
		}
	}
}
