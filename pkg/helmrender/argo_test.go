package helmrender

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/getter"
)

// TestComposeCLIValues: values composed as the helm CLI composes them
// (differential: Helm's own values.Options.MergeValues on the same
// files): files merged in order, every --set over them, every
// --set-string over those, every --set-file last; escaped commas, lists,
// indexes and typed values as Helm's parser reads them.
func TestComposeCLIValues(t *testing.T) {
	tests := []struct {
		name string
		in   CLIValues
		want map[string]any
	}{{
		name: "precedence",
		in: CLIValues{
			Files:     [][]byte{[]byte("a: {b: 1, c: [1, 2]}\nx: file1\nkeep: {deep: true}\n"), []byte("a: {b: 2}\nx: file2\nw: file2\nz: file2\n")},
			Set:       map[string]string{"x": "set", "w": "set", "n": "8080", "l": "{p,q}", "c": `one\,two`, "i[1]": "second"},
			SetString: map[string]string{"w": "string", "n2": "8080", "z": "true"},
			SetFile:   map[string][]byte{"z": []byte("from file\n"), "f.g": []byte("ff")},
		},
		want: map[string]any{"a": map[string]any{"b": float64(2), "c": []any{float64(1), float64(2)}}, "keep": map[string]any{"deep": true},
			"x": "set", "w": "string", "z": "from file\n", "n": int64(8080), "n2": "8080", "l": []any{"p", "q"}, "c": "one,two",
			"i": []any{nil, "second"}, "f": map[string]any{"g": "ff"}},
	}, {
		name: "empty",
		in:   CLIValues{},
		want: map[string]any{},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ComposeCLIValues(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			// The same inputs through Helm's own CLI code.
			dir := t.TempDir()
			opts := values.Options{}
			for i, f := range tc.in.Files {
				p := filepath.Join(dir, "v"+string(rune('0'+i))+".yaml")
				if err := os.WriteFile(p, f, 0o600); err != nil {
					t.Fatal(err)
				}
				opts.ValueFiles = append(opts.ValueFiles, p)
			}
			for _, k := range keys(tc.in.Set) {
				opts.Values = append(opts.Values, k+"="+tc.in.Set[k])
			}
			for _, k := range keys(tc.in.SetString) {
				opts.StringValues = append(opts.StringValues, k+"="+tc.in.SetString[k])
			}
			i := 0
			for k, data := range tc.in.SetFile {
				p := filepath.Join(dir, "f"+string(rune('0'+i)))
				i++
				if err := os.WriteFile(p, data, 0o600); err != nil {
					t.Fatal(err)
				}
				opts.FileValues = append(opts.FileValues, k+"="+p)
			}
			helm, err := opts.MergeValues(getter.Providers{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(helm, got); diff != "" {
				t.Errorf("differs from Helm's MergeValues (-helm +ours):\n%s", diff)
			}
		})
	}
}

// TestComposeCLIValuesErrors: an unparsable --set names its key, never
// its value.
func TestComposeCLIValuesErrors(t *testing.T) {
	_, err := ComposeCLIValues(CLIValues{Set: map[string]string{"a[-1]": "canary-s3cr3t-7f3a"}})
	if err == nil {
		t.Fatal("no error")
	}
	if got := err.Error(); got != "--set a[-1]: cannot be parsed" {
		t.Errorf("error %q", got)
	}
	_, err = ComposeCLIValues(CLIValues{Files: [][]byte{[]byte("canary-s3cr3t-7f3a: [")}})
	if err == nil || err.Error() != "values file 1: not a values file (YAML)" {
		t.Errorf("error %v", err)
	}
}
