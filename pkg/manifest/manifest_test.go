package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// summary is one line per object: source, document, apiVersion/kind and
// namespace/name (generateName with a trailing "*").
func summary(set *Set) []string {
	var out []string
	for _, o := range set.Objects {
		name := o.Obj.GetName()
		if name == "" {
			name = o.Obj.GetGenerateName() + "*"
		}
		if ns := o.Obj.GetNamespace(); ns != "" {
			name = ns + "/" + name
		}
		out = append(out, fmt.Sprintf("%s doc=%d %s/%s %s", o.Source, o.Source.Doc, o.Obj.GetAPIVersion(), o.Obj.GetKind(), name))
	}
	return out
}

func skippedSummary(set *Set) []string {
	var out []string
	for _, s := range set.Skipped {
		out = append(out, fmt.Sprintf("%s doc=%d: %s", s.Source, s.Source.Doc, s.Reason))
	}
	return out
}

const stdinManifests = `apiVersion: v1
kind: ConfigMap
metadata:
  name: from-stdin
---
apiVersion: v1
kind: Secret
metadata:
  name: s
`

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        Options
		want        []string
		wantSkipped []string
	}{
		{
			name: "multi-document YAML with comments and empty documents",
			opts: Options{Filenames: []string{"testdata/multidoc.yaml"}},
			want: []string{
				"testdata/multidoc.yaml:3 doc=0 v1/ConfigMap first",
				"testdata/multidoc.yaml:15 doc=3 v1/Service second",
			},
		},
		{
			name: "single JSON object",
			opts: Options{Filenames: []string{"testdata/single.json"}},
			want: []string{"testdata/single.json:1 doc=0 apps/v1/Deployment prod/web"},
		},
		{
			name: "JSON stream",
			opts: Options{Filenames: []string{"testdata/stream.json"}},
			want: []string{
				"testdata/stream.json:1 doc=0 v1/ConfigMap a",
				"testdata/stream.json:2 doc=1 v1/ConfigMap b",
				"testdata/stream.json:4 doc=2 v1/Secret c",
			},
		},
		{
			name: "v1 List and ConfigMapList flattened with item lines",
			opts: Options{Filenames: []string{"testdata/lists.yaml"}},
			want: []string{
				"testdata/lists.yaml:4 doc=0 v1/ConfigMap one",
				"testdata/lists.yaml:8 doc=0 v1/ConfigMap two",
				"testdata/lists.yaml:18 doc=1 v1/ConfigMap three",
				"testdata/lists.yaml:22 doc=1 v1/ConfigMap four",
				"testdata/lists.yaml:24 doc=2 example.com/v1/AllowList not-a-list",
			},
		},
		{
			name: "JSON List with item lines",
			opts: Options{Filenames: []string{"testdata/list.json"}},
			want: []string{
				"testdata/list.json:5 doc=0 v1/ConfigMap j1",
				"testdata/list.json:6 doc=0 v1/ConfigMap j2",
			},
		},
		{
			name: "generateName instead of name",
			opts: Options{Filenames: []string{"testdata/generatename.yaml"}},
			want: []string{"testdata/generatename.yaml:1 doc=0 batch/v1/Job migrate-*"},
		},
		{
			name: "CRLF line endings",
			opts: Options{Filenames: []string{"testdata/crlf.yaml"}},
			want: []string{
				"testdata/crlf.yaml:1 doc=0 v1/ConfigMap crlf-1",
				"testdata/crlf.yaml:6 doc=1 v1/ConfigMap crlf-2",
			},
		},
		{
			name: "byte order mark",
			opts: Options{Filenames: []string{"testdata/bom.yaml"}},
			want: []string{"testdata/bom.yaml:1 doc=0 v1/ConfigMap bom"},
		},
		{
			name: "a file named explicitly is read whatever its extension",
			opts: Options{Filenames: []string{"testdata/other/manifest.txt"}},
			want: []string{"testdata/other/manifest.txt:1 doc=0 v1/Namespace from-txt"},
		},
		{
			name: "flow-style YAML that is not JSON",
			opts: Options{Filenames: []string{"testdata/other/flow.json"}},
			want: []string{"testdata/other/flow.json:1 doc=0 v1/ConfigMap flow"},
		},
		{
			name: "directory without -R",
			opts: Options{Filenames: []string{"testdata/dir"}},
			want: []string{
				"testdata/dir/a.yaml:1 doc=0 v1/ConfigMap dir-a",
				"testdata/dir/b.yml:1 doc=0 v1/ConfigMap dir-b",
				"testdata/dir/c.json:1 doc=0 v1/ConfigMap dir-c",
				"testdata/dir/z.yaml:7 doc=1 v1/ConfigMap dir-z",
			},
			wantSkipped: []string{
				"testdata/dir/kustomization.yaml doc=0: kustomization file, not a cluster object: build it with -k testdata/dir",
				"testdata/dir/z.yaml:1 doc=0: Component is kustomize configuration, not a cluster object: build it with -k testdata/dir",
			},
		},
		{
			name: "directory with -R",
			opts: Options{Filenames: []string{"testdata/dir"}, Recursive: true},
			want: []string{
				"testdata/dir/a.yaml:1 doc=0 v1/ConfigMap dir-a",
				"testdata/dir/b.yml:1 doc=0 v1/ConfigMap dir-b",
				"testdata/dir/c.json:1 doc=0 v1/ConfigMap dir-c",
				"testdata/dir/nested/d.yaml:1 doc=0 v1/ConfigMap dir-d",
				"testdata/dir/nested/deeper/e.yaml:1 doc=0 v1/ConfigMap dir-e",
				"testdata/dir/z.yaml:7 doc=1 v1/ConfigMap dir-z",
			},
			wantSkipped: []string{
				"testdata/dir/kustomization.yaml doc=0: kustomization file, not a cluster object: build it with -k testdata/dir",
				"testdata/dir/z.yaml:1 doc=0: Component is kustomize configuration, not a cluster object: build it with -k testdata/dir",
			},
		},
		{
			name: "files in the order given",
			opts: Options{Filenames: []string{"testdata/dir/nested/d.yaml", "testdata/dir/a.yaml", "testdata/dir/nested"}},
			want: []string{
				"testdata/dir/nested/d.yaml:1 doc=0 v1/ConfigMap dir-d",
				"testdata/dir/a.yaml:1 doc=0 v1/ConfigMap dir-a",
				"testdata/dir/nested/d.yaml:1 doc=0 v1/ConfigMap dir-d",
			},
		},
		{
			name: "stdin",
			opts: Options{Filenames: []string{"-"}, Stdin: strings.NewReader(stdinManifests)},
			want: []string{
				"-:1 doc=0 v1/ConfigMap from-stdin",
				"-:6 doc=1 v1/Secret s",
			},
		},
		{
			name: "stdin between files",
			opts: Options{Filenames: []string{"testdata/dir/a.yaml", "-", "testdata/dir/b.yml"}, Stdin: strings.NewReader(stdinManifests)},
			want: []string{
				"testdata/dir/a.yaml:1 doc=0 v1/ConfigMap dir-a",
				"-:1 doc=0 v1/ConfigMap from-stdin",
				"-:6 doc=1 v1/Secret s",
				"testdata/dir/b.yml:1 doc=0 v1/ConfigMap dir-b",
			},
		},
		{
			name: "kustomization document on stdin",
			opts: Options{Filenames: []string{"-"}, Stdin: strings.NewReader("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")},
			wantSkipped: []string{
				"-:1 doc=0: Kustomization is kustomize configuration, not a cluster object: build it with -k DIR",
			},
		},
		{
			name: "kustomization file named explicitly",
			opts: Options{Filenames: []string{"testdata/dir/kustomization.yaml"}},
			wantSkipped: []string{
				"testdata/dir/kustomization.yaml doc=0: kustomization file, not a cluster object: build it with -k testdata/dir",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := Load(context.Background(), tt.opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, summary(set)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSkipped, skippedSummary(set)); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodedValues checks the values, and their Go types, of whole objects.
func TestDecodedValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []map[string]any
	}{
		{
			file: "testdata/types.yaml",
			want: []map[string]any{{
				"apiVersion": "apps/v1",
				"kind":       "Deployment",
				"metadata": map[string]any{
					"name":        "types",
					"labels":      map[string]any{"quoted": "yes", "number": "3"},
					"annotations": map[string]any{"date": "2024-01-02"},
				},
				"spec": map[string]any{
					"replicas":   int64(3),
					"ratio":      0.5,
					"whole":      int64(2),
					"paused":     false,
					"legacyBool": true, // YAML 1.1, as kubectl -f
					"octal":      int64(0o644),
					"empty":      nil,
					"list":       []any{int64(1), "2", 3.5, nil, true},
				},
			}},
		},
		{
			file: "testdata/single.json",
			want: []map[string]any{{
				"apiVersion": "apps/v1",
				"kind":       "Deployment",
				"metadata":   map[string]any{"name": "web", "namespace": "prod"},
				"spec":       map[string]any{"replicas": int64(3), "ratio": 1.0, "paused": false},
			}},
		},
		{
			file: "testdata/stream.json",
			want: []map[string]any{
				{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "a"}, "data": map[string]any{"emoji": "😀"}},
				{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "b"}},
				{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "c"}},
			},
		},
		{
			file: "testdata/multidoc.yaml",
			want: []map[string]any{
				{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "first"}, "data": map[string]any{"enabled": "yes"}},
				{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "second"}, "spec": map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			set, err := Load(context.Background(), Options{Filenames: []string{tt.file}})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var got []map[string]any
			for _, o := range set.Objects {
				got = append(got, o.Obj.Object)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{
			name: "-f and -k together",
			opts: Options{Filenames: []string{"a.yaml"}, Kustomize: "dir"},
			want: "only one of -f or -k can be specified",
		},
		{
			name: "neither -f nor -k",
			opts: Options{},
			want: "one of -f or -k must be specified",
		},
		{
			name: "stdin twice",
			opts: Options{Filenames: []string{"-", "-"}, Stdin: strings.NewReader("")},
			want: `"-" (stdin) can be given to -f only once`,
		},
		{
			name: "URL",
			opts: Options{Filenames: []string{"testdata/dir", "https://example.com/app.yaml"}},
			want: "reading https://example.com/app.yaml: remote manifests are not supported: download it first and pass the local path",
		},
		{
			name: "URL to -k",
			opts: Options{Kustomize: "HTTP://example.com/overlay"},
			want: "reading HTTP://example.com/overlay: remote manifests are not supported: download it first and pass the local path",
		},
		{
			name: "empty filename",
			opts: Options{Filenames: []string{""}},
			want: "empty filename in -f",
		},
		{
			name: "no stdin reader",
			opts: Options{Filenames: []string{"-"}},
			want: "reading -: no standard input was given",
		},
		{
			name: "missing file",
			opts: Options{Filenames: []string{"testdata/nope.yaml"}},
			want: "reading testdata/nope.yaml: no such file or directory",
		},
		{
			name: "syntax error in the third document, and the document after it",
			opts: Options{Filenames: []string{"testdata/bad/1-scanner.yaml"}},
			want: "testdata/bad/1-scanner.yaml:14: yaml: mapping values are not allowed in this context\n" +
				`testdata/bad/1-scanner.yaml:16: object is missing "kind"`,
		},
		{
			name: "parser error in the third document",
			opts: Options{Filenames: []string{"testdata/bad/2-parser.yaml"}},
			want: "testdata/bad/2-parser.yaml:15: yaml: did not find expected key",
		},
		{
			name: "missing and mistyped fields",
			opts: Options{Filenames: []string{"testdata/bad/3-missing.yaml"}},
			want: strings.Join([]string{
				`testdata/bad/3-missing.yaml:1: object is missing "kind"`,
				`testdata/bad/3-missing.yaml:5: object is missing "metadata.name" (or "metadata.generateName")`,
				`testdata/bad/3-missing.yaml:10: object is missing "apiVersion" and "metadata.name" (or "metadata.generateName")`,
				`testdata/bad/3-missing.yaml:12: "metadata" must be a mapping, found a sequence`,
				`testdata/bad/3-missing.yaml:16: expected a Kubernetes object (a mapping), found the string "just…"`,
				`testdata/bad/3-missing.yaml:18: "kind" must be a string, found the number 5`,
				`testdata/bad/3-missing.yaml:26: object is missing "metadata.name" (or "metadata.generateName")`,
				`testdata/bad/3-missing.yaml:28: List items[1]: expected a Kubernetes object (a mapping), found the number 42`,
			}, "\n"),
		},
		{
			name: "duplicate key in YAML",
			opts: Options{Filenames: []string{"testdata/bad/4-duplicate.yaml"}},
			want: `testdata/bad/4-duplicate.yaml:8: duplicate key "app" (first at line 6)`,
		},
		{
			name: "duplicate key in JSON",
			opts: Options{Filenames: []string{"testdata/bad/5-duplicate.json"}},
			want: `testdata/bad/5-duplicate.json:5: duplicate key "kind" (first at line 3)`,
		},
		{
			name: "JSON syntax error",
			opts: Options{Filenames: []string{"testdata/bad/6-syntax.json"}},
			want: `testdata/bad/6-syntax.json:5: json: invalid character '"' after object key:value pair`,
		},
		{
			name: "flow YAML in a .json file is checked as YAML",
			opts: Options{Filenames: []string{"testdata/bad/8-flow.json"}},
			want: `testdata/bad/8-flow.json:1: object is missing "apiVersion"`,
		},
		{
			name: "content after a separator",
			opts: Options{Filenames: []string{"testdata/bad/7-separator.yaml"}},
			want: `testdata/bad/7-separator.yaml:5: content after the document separator "---" is not supported: "--- …"; move it to the next line`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := Load(context.Background(), tt.opts)
			if err == nil {
				t.Fatalf("Load returned %d objects and no error, want %q", len(set.Objects), tt.want)
			}
			if set != nil {
				t.Errorf("Load returned a Set with its error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAllBadFilesReported checks that every bad file in a directory is
// reported, each as a *ParseError carrying its file and line.
func TestAllBadFilesReported(t *testing.T) {
	t.Parallel()
	_, err := Load(context.Background(), Options{Filenames: []string{"testdata/bad", "testdata/nope.yaml"}})
	if err == nil {
		t.Fatal("no error")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not a joined error", err)
	}
	type place struct {
		File string
		Line int
	}
	var got []place
	for _, e := range joined.Unwrap() {
		var pe *ParseError
		if !errors.As(e, &pe) {
			if !errors.Is(e, fs.ErrNotExist) {
				t.Errorf("%v: neither a *ParseError nor fs.ErrNotExist", e)
			}
			got = append(got, place{"not found", 0})
			continue
		}
		got = append(got, place{pe.File, pe.Line})
	}
	want := []place{
		{"testdata/bad/1-scanner.yaml", 14},
		{"testdata/bad/1-scanner.yaml", 16},
		{"testdata/bad/2-parser.yaml", 15},
		{"testdata/bad/3-missing.yaml", 1},
		{"testdata/bad/3-missing.yaml", 5},
		{"testdata/bad/3-missing.yaml", 10},
		{"testdata/bad/3-missing.yaml", 12},
		{"testdata/bad/3-missing.yaml", 16},
		{"testdata/bad/3-missing.yaml", 18},
		{"testdata/bad/3-missing.yaml", 26},
		{"testdata/bad/3-missing.yaml", 28},
		{"testdata/bad/4-duplicate.yaml", 8},
		{"testdata/bad/5-duplicate.json", 5},
		{"testdata/bad/6-syntax.json", 5},
		{"testdata/bad/7-separator.yaml", 5},
		{"testdata/bad/8-flow.json", 1},
		{"not found", 0}, // in the order the names were given
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestLoadCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, opts := range []Options{
		{Filenames: []string{"testdata/dir"}},
		{Kustomize: "testdata/kustomize/overlays/prod"},
	} {
		if _, err := Load(ctx, opts); !errors.Is(err, context.Canceled) {
			t.Errorf("Load(%+v) error = %v, want context.Canceled", opts, err)
		}
	}
}

func TestKustomize(t *testing.T) {
	t.Parallel()
	const dir = "testdata/kustomize/overlays/prod"
	set, err := Load(context.Background(), Options{Kustomize: dir})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	golden.CheckString(t, "testdata/kustomize-prod.golden", render(t, set))

	// The points of the overlay, checked directly as well as in the golden.
	byKind := map[string]*unstructured.Unstructured{}
	for _, o := range set.Objects {
		if want := (Source{File: dir, Doc: o.Source.Doc, Kustomize: true}); o.Source != want {
			t.Errorf("source = %#v, want %#v", o.Source, want)
		}
		byKind[o.Obj.GetKind()] = o.Obj
	}
	cm, deploy := byKind["ConfigMap"], byKind["Deployment"]
	if cm == nil || deploy == nil {
		t.Fatalf("want a ConfigMap and a Deployment, got %v", summary(set))
	}
	if !strings.HasPrefix(cm.GetName(), "prod-web-config-") {
		t.Errorf("ConfigMap name = %q, want a generated prod-web-config-<hash>", cm.GetName())
	}
	for _, o := range set.Objects {
		if got := o.Obj.GetNamespace(); got != "prod" {
			t.Errorf("%s namespace = %q, want prod", o.Obj.GetName(), got)
		}
		if got := o.Obj.GetLabels()["env"]; got != "prod" {
			t.Errorf("%s label env = %q, want prod", o.Obj.GetName(), got)
		}
	}
	replicas, _, _ := unstructured.NestedFieldNoCopy(deploy.Object, "spec", "replicas")
	if replicas != int64(3) {
		t.Errorf("replicas = %#v, want int64(3)", replicas)
	}
	feature, _, _ := unstructured.NestedFieldNoCopy(cm.Object, "data", "FEATURE")
	if feature != "on" {
		t.Errorf(`FEATURE = %#v, want the string "on"`, feature)
	}
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	envFrom := containers[0].(map[string]any)["envFrom"].([]any)
	refName, _, _ := unstructured.NestedString(envFrom[0].(map[string]any), "configMapRef", "name")
	if refName != cm.GetName() {
		t.Errorf("Deployment refers to ConfigMap %q, want the generated %q", refName, cm.GetName())
	}
}

func TestKustomizeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir      string
		contains string
	}{
		{"testdata/kustomize/broken", "missing.yaml"},
		{"testdata/dir/nested", "unable to find one of 'kustomization.yaml'"},
		{"testdata/nope", "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			_, err := Load(context.Background(), Options{Kustomize: tt.dir})
			if err == nil {
				t.Fatal("no error")
			}
			prefix := "building kustomization " + tt.dir + ": "
			if got := err.Error(); !strings.HasPrefix(got, prefix) || !strings.Contains(got, tt.contains) {
				t.Errorf("error = %q, want it to start with %q and contain %q", got, prefix, tt.contains)
			}
		})
	}
}

// render prints a Set for a golden file: each object's source and its JSON.
func render(t *testing.T, set *Set) string {
	t.Helper()
	var b strings.Builder
	for _, o := range set.Objects {
		data, err := json.MarshalIndent(o.Obj.Object, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "# %s doc=%d\n%s\n", o.Source, o.Source.Doc, data)
	}
	for _, s := range set.Skipped {
		fmt.Fprintf(&b, "# skipped %s doc=%d: %s\n", s.Source, s.Source.Doc, s.Reason)
	}
	return b.String()
}

func TestSourceString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    Source
		want string
	}{
		{Source{File: "dir/a.yaml", Line: 12, Doc: 2}, "dir/a.yaml:12"},
		{Source{File: "-", Line: 3}, "-:3"},
		{Source{File: "dir/kustomization.yaml"}, "dir/kustomization.yaml"},
		{Source{File: "overlays/prod", Doc: 4, Kustomize: true}, "overlays/prod (kustomize)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestParseError(t *testing.T) {
	t.Parallel()
	inner := errors.New("boom")
	tests := []struct {
		e    *ParseError
		want string
	}{
		{&ParseError{File: "a.yaml", Line: 7, Err: inner}, "a.yaml:7: boom"},
		{&ParseError{File: "a.yaml", Err: inner}, "a.yaml: boom"},
		{&ParseError{File: "-", Line: 1, Err: inner}, "-:1: boom"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.e, inner) {
			t.Errorf("%q does not unwrap to its Err", tt.want)
		}
	}
}

func TestSplitDocuments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string // chunk start line and text
	}{
		{"a: 1\n", []string{"1:a: 1\n"}},
		{"---\na: 1\n", []string{"1:", "2:a: 1\n"}},
		{"a: 1\n--- # c\nb: 2\n---\t\n---\n", []string{"1:a: 1\n", "3:b: 2\n", "5:", "6:"}},
		{"a: 1\n---x: 2\n", []string{"1:a: 1\n---x: 2\n"}},
		{"a: |\n  ---\n", []string{"1:a: |\n  ---\n"}},
		{"a: 1\r\n---\r\nb: 2", []string{"1:a: 1\r\n", "3:b: 2"}},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range splitDocuments([]byte(tt.in)) {
			got = append(got, fmt.Sprintf("%d:%s", c.start, c.text))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitDocuments(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestErrorsShowNoValues: a secret in the wrong place — a PEM key in a .yaml
// file, a bare token, a value under the wrong tag, text after "---" — is
// named by its file and line, with at most a short masked prefix of the
// value (redact.Quote), never the value.
func TestErrorsShowNoValues(t *testing.T) {
	t.Parallel()
	const canary = "canary-s3cr3t-7f3a"
	tests := []struct {
		name, file, text, want string
	}{
		{"PEM key", "key.yaml", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg" + canary + "\n-----END PRIVATE KEY-----\n",
			`key.yaml:1: expected a Kubernetes object (a mapping), found the string "----…"`},
		{"bare token", "token.yaml", canary + "\n", `token.yaml:1: expected a Kubernetes object (a mapping), found the string "cana…"`},
		{"JSON string", "token.json", `"` + canary + `"`, `token.json:1: expected a Kubernetes object (a mapping), found the string "cana…"`},
		{"token in a list", "list.yaml", "apiVersion: v1\nkind: List\nitems: [" + canary + "]\n", `list.yaml:3: List items[0]: expected a Kubernetes object (a mapping), found the string "cana…"`},
		{"wrong tag", "tag.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: !!int " + canary + "\n",
			`tag.yaml:5: cannot decode !!str "cana…" as a !!int`},
		{"after a separator", "sep.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n--- " + canary + "\n",
			`sep.yaml:4: content after the document separator "---" is not supported: "--- …"; move it to the next line`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(context.Background(), Options{Filenames: []string{path}})
			if err == nil {
				t.Fatal("no error")
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), "")
			if strings.Contains(msg, "cana"+"ry") || strings.Contains(msg, "MIIE") {
				t.Errorf("the value is in the error: %s", msg)
			}
			if msg != tt.want {
				t.Errorf("error = %s\nwant    %s", msg, tt.want)
			}
		})
	}
}

// TestEach: with Options.Each, Load gives every object to Each, in
// Set.Objects' order with the same sources and values, and keeps none in
// the Set (what it skipped stays there): for files, a directory, a JSON
// file read as YAML, and a kustomization.
func TestEach(t *testing.T) {
	t.Parallel()
	for _, opts := range []Options{
		{Filenames: []string{"testdata/multidoc.yaml", "testdata/lists.yaml", "testdata/list.json", "testdata/stream.json", "testdata/types.yaml"}},
		{Filenames: []string{"testdata/dir"}, Recursive: true},
		{Filenames: []string{"testdata/other/flow.json"}},
		{Kustomize: "testdata/kustomize/overlays/prod"},
	} {
		t.Run(fmt.Sprint(opts.Filenames, opts.Kustomize), func(t *testing.T) {
			t.Parallel()
			want, err := Load(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []Object
			opts.Each = func(o Object) { got = append(got, o) }
			set, err := Load(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Objects) != 0 {
				t.Errorf("%d objects kept in the Set", len(set.Objects))
			}
			if len(want.Objects) == 0 {
				t.Fatal("no objects read")
			}
			if diff := cmp.Diff(want.Objects, got); diff != "" {
				t.Errorf("objects given to Each (-Set.Objects +Each):\n%s", diff)
			}
			if diff := cmp.Diff(want.Skipped, set.Skipped); diff != "" {
				t.Errorf("skipped (-without Each +with Each):\n%s", diff)
			}
		})
	}
}
