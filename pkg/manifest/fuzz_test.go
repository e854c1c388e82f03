package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the -f reader (as `-f -` reads stdin):
// it must not panic or hang, and what it returns must hold together —
// either objects or errors; every object with apiVersion, kind and a name,
// encodable as JSON (what is sent to the API server), from a line of the
// input; every error a *ParseError of that input; the same result twice.
// Run: go test -fuzz=FuzzLoad -fuzztime=3m ./pkg/manifest/
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	more, _ := filepath.Glob(filepath.Join("testdata", "*", "*.*"))
	for _, p := range append(seeds, more...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [&a {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}, *a]\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}} {"apiVersion":"v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		load := func() (*Set, error) {
			return Load(context.Background(), Options{Filenames: []string{Stdin}, Stdin: bytes.NewReader(data)})
		}
		set, err := load()
		if (set == nil) == (err == nil) {
			t.Fatalf("Load returned set %v and error %v: want exactly one", set != nil, err)
		}
		// YAML breaks lines at \n, \r\n, a lone \r, NEL, LS and PS;
		// counting each of them bounds the line numbers either way.
		lines := 1
		for _, b := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
			lines += bytes.Count(data, []byte(b))
		}
		if err != nil {
			for _, e := range flatten(err) {
				var pe *ParseError
				if !errors.As(e, &pe) {
					t.Fatalf("error %q is not a *ParseError", e)
				}
				if pe.File != Stdin || pe.Line < 0 || pe.Line > lines {
					t.Fatalf("error %q at %s:%d, input has %d lines", e, pe.File, pe.Line, lines)
				}
			}
		} else {
			for _, o := range set.Objects {
				u := o.Obj
				if u.GetAPIVersion() == "" || u.GetKind() == "" || (u.GetName() == "" && u.GetGenerateName() == "") {
					t.Fatalf("object without apiVersion, kind or name: %v", u.Object)
				}
				if o.Source.File != Stdin || o.Source.Line < 1 || o.Source.Line > lines {
					t.Fatalf("object %s from %s, input has %d lines", u.GetName(), o.Source, lines)
				}
				if _, err := json.Marshal(u.Object); err != nil {
					t.Fatalf("object %s cannot be encoded: %v", u.GetName(), err)
				}
			}
		}
		set2, err2 := load()
		if !reflect.DeepEqual(set, set2) || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("two loads of the same input differ")
		}
	})
}

// flatten returns the errors joined in err (errors.Join), or err.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
