package yamlpos

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// at is the line:column of the first occurrence of marker in text, so
// that a test's expected position is checked against its input.
func at(t *testing.T, text, marker string) string {
	t.Helper()
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("%q not in the input", marker)
	}
	line := strings.Count(text[:i], "\n") + 1
	return fmt.Sprintf("%d:%d", line, i-strings.LastIndex(text[:i], "\n"))
}

// billionLaughs nests nine lists of ten aliases each: 10^9 nodes expanded.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestLoadErrors(t *testing.T) {
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	tests := []struct {
		name, text string
		want       string // "" for no error; POS is replaced by the marker's line:column
		marker     string
	}{
		{"empty", "", "", ""},
		{"comments only", "# nothing\n", "", ""},
		{"syntax error at its line (yaml.v3 gives no column)", "a: 1\nb: [\n", "f.yaml:2: invalid YAML: did not find expected node content", ""},
		{"second document at its line:column", "a: 1\n---\nb: 2\n", "f.yaml:POS: only one YAML document is allowed", "---"},
		{"syntax error in the second document", "a: 1\n---\nb: [\n", "f.yaml:3: invalid YAML: did not find expected node content", ""},
		{"billion laughs, at the alias being expanded", billionLaughs(), "f.yaml:POS: invalid YAML: document contains excessive aliasing", "*a3"},
		{"anchor containing itself", "a: &a\n  b: [*a]\n", "f.yaml:POS: invalid YAML: anchor 'a' value contains itself", "*a"},
		{"nesting deeper than yaml.v3 allows", deep, "f.yaml: invalid YAML: exceeded max depth of 10000", ""},
		{"a few aliases are fine", "base: &b {x: 1}\none: *b\ntwo: *b\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("f.yaml", []byte(tt.text))
			want := tt.want
			if tt.marker != "" {
				want = strings.Replace(want, "POS", at(t, tt.text, tt.marker), 1)
			}
			got := ""
			if err != nil {
				got = err.Error()
				var e *Error
				if !errors.As(err, &e) || e.File != "f.yaml" {
					t.Errorf("error %v is not an *Error for f.yaml", err)
				}
			}
			if got != want {
				t.Errorf("Load:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestLoadRoot(t *testing.T) {
	for text, want := range map[string]string{
		"":                   "<nil>",
		"---\n":              "null",
		"null\n":             "null",
		"&r {a: 1}\n":        "mapping",
		"--- [1]\n":          "list",
		"--- !!str x\n...\n": "scalar",
	} {
		root, err := Load("f.yaml", []byte(text))
		if err != nil {
			t.Fatalf("Load(%q): %v", text, err)
		}
		got := "<nil>"
		switch {
		case root == nil:
		case IsNull(root):
			got = "null"
		case root.Kind == yaml.MappingNode:
			got = "mapping"
		case root.Kind == yaml.SequenceNode:
			got = "list"
		case root.Kind == yaml.ScalarNode:
			got = "scalar"
		}
		if got != want {
			t.Errorf("Load(%q) root = %s, want %s", text, got, want)
		}
	}
}

// decoded is what the walker test fills: the Go struct a caller builds.
type decoded struct {
	Name  string
	Tags  []string
	Limit map[string]string
}

func walk(w *Walker, root *yaml.Node) decoded {
	var d decoded
	w.Mapping(root, "", []string{"name", "tags", "limit"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			d.Name, _ = w.String(v, key)
		case "tags":
			items, _ := w.List(v, key)
			for i, item := range items {
				if s, ok := w.String(item, Index(key, i)); ok {
					d.Tags = append(d.Tags, s)
				}
			}
		case "limit":
			d.Limit = map[string]string{}
			w.Mapping(v, key, nil, func(k string, _, v *yaml.Node) {
				d.Limit[k], _ = w.String(v, Join(key, k))
			})
		}
	})
	return d
}

func TestWalkerErrors(t *testing.T) {
	tests := []struct {
		name, text string
		words      Words
		want       []string // POS is replaced by the marker's line:column
		marker     string
	}{
		{"not a mapping", "- a\n", Words{}, []string{`f.yaml:POS: must be a mapping, not a list`}, "- a"},
		{"unknown field", "name: a\ncolour: red\n", Words{}, []string{`f.yaml:POS: colour: unknown field (want one of name, tags, limit)`}, "colour"},
		{"duplicate key", "name: a\ntags: []\nname: b\n", Words{}, []string{`f.yaml:POS: name: given twice`}, "name: b"},
		{"key not a string", "name: a\n[x]: 1\n", Words{}, []string{`f.yaml:POS: keys must be strings, not a list`}, "[x]"},
		{"want a list, got a string", "tags: web\n", Words{}, []string{`f.yaml:POS: tags: must be a list, not "web"`}, "web"},
		{"want a string, got a list", "name: [a]\n", Words{}, []string{`f.yaml:POS: name: must be a string, not a list`}, "[a]"},
		{"want a string, got null", "name:\ntags: [a]\n", Words{}, []string{`f.yaml:POS: name: must be a string, not empty`}, "\ntags"},
		{"list item of the wrong type", "tags: [a, {b: c}]\n", Words{}, []string{`f.yaml:POS: tags[1]: must be a string, not a mapping`}, "{b"},
		{"any key in a map of the user's names, still no repeats", "limit: {cpu: 1, cpu: 2}\n", Words{}, []string{`f.yaml:POS: limit.cpu: given twice`}, "cpu: 2"},
		{"every mistake, in file order", "name: [a]\ncolour: red\ntags: x\n", Words{}, []string{
			`f.yaml:1:7: name: must be a string, not a list`,
			`f.yaml:2:1: colour: unknown field (want one of name, tags, limit)`,
			`f.yaml:3:7: tags: must be a list, not "x"`,
		}, ""},
		{"a caller's words", "colour: red\nname: a\nname: b\ntags: x\n", Words{
			Twice:   "repeated key",
			NotList: "must be a list",
			Unknown: func(mapField, _, key string, _ []string) (string, string) {
				return "top level", fmt.Sprintf("unknown field %q", key)
			},
		}, []string{
			`f.yaml:1:1: top level: unknown field "colour"`,
			`f.yaml:3:1: name: repeated key`,
			`f.yaml:4:7: tags: must be a list`,
		}, ""},
		{"aliases are resolved, positions are the anchor's", "limit: &l {cpu: [1]}\nname: *l\n", Words{}, []string{
			`f.yaml:1:17: limit.cpu: must be a string, not a list`, // [1]
			`f.yaml:1:8: name: must be a string, not a mapping`,    // yaml.v3 places an anchored node at its &
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := Load("f.yaml", []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			w := &Walker{File: "f.yaml", Words: tt.words}
			walk(w, root)
			var got []string
			for _, e := range w.Errs {
				got = append(got, e.Error())
			}
			want := tt.want
			if tt.marker != "" {
				pos := at(t, tt.text, strings.TrimPrefix(tt.marker, "\n"))
				if strings.HasPrefix(tt.marker, "\n") { // the position of a null value: the end of its key's line
					pos = at(t, tt.text, tt.marker)
				}
				want = []string{strings.Replace(want[0], "POS", pos, 1)}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWalkerFillsStruct(t *testing.T) {
	root, err := Load("f.yaml", []byte("name: web\ntags: &t [a, b]\nlimit: {cpu: '1', memory: 2Gi}\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := &Walker{File: "f.yaml"}
	got := walk(w, root)
	want := decoded{Name: "web", Tags: []string{"a", "b"}, Limit: map[string]string{"cpu": "1", "memory": "2Gi"}}
	if diff := cmp.Diff(want, got); diff != "" || len(w.Errs) > 0 {
		t.Errorf("decoded (-want +got):\n%s\nerrors: %v", diff, w.Errs)
	}
}

// FuzzLoadAndWalk: no input makes Load or a walk over everything it
// accepts panic, and a walk resolving every alias visits a bounded number
// of nodes (yaml.v3's ratio: at most 99% of them through aliases, for
// documents of this size).
func FuzzLoadAndWalk(f *testing.F) {
	for _, s := range []string{"", "a: 1\n", "a: &a [1, *a]\n", billionLaughs(), "- [a, {b: c}]\n---\nx\n",
		"? [a]\n: b\n", "name: &n x\ntags: [*n, *n]\nlimit: {a: *n}\n", "\ufeffa: b\r\n", "{a: 1, a: 2}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := Load("f.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		if root == nil {
			return
		}
		w := &Walker{File: "f.yaml"}
		walk(w, root)
		var s spec
		w.Decode(root, "", &s, nil)
		visited := 0
		var all func(n *yaml.Node)
		all = func(n *yaml.Node) {
			visited++
			if visited > 1000+100*(len(data)+2) {
				t.Fatalf("a walk visits more than %d nodes of a %d-byte document", visited, len(data))
			}
			for _, c := range Deref(n).Content {
				all(c)
			}
		}
		all(root)
		for _, e := range w.Errs {
			if e.Pos.Line <= 0 || e.Pos.Column <= 0 {
				t.Errorf("error without a position: %v", e)
			}
		}
	})
}

type spec struct {
	Name   string            `json:"name"`
	Tags   []string          `json:"tags,omitempty"`
	Limit  map[string]string `json:"limit,omitempty"`
	Owner  *owner            `json:"owner,omitempty"`
	hidden string            //nolint:unused // an unexported field is no YAML field
}

type owner struct {
	Users []string `json:"users"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, text string
		want       spec
		errs       []string
		seen       []string
	}{
		{"fills the struct, reporting where each key and item is", "name: web\ntags: [a, b]\nlimit: {cpu: '1'}\nowner:\n  users: [u]\n",
			spec{Name: "web", Tags: []string{"a", "b"}, Limit: map[string]string{"cpu": "1"}, Owner: &owner{Users: []string{"u"}}}, nil,
			[]string{"x.name 1:1", "x.tags 2:1", "x.tags[0] 2:8", "x.tags[1] 2:11", "x.limit 3:1", "x.limit.cpu 3:9", "x.owner 4:1", "x.owner.users 5:3", "x.owner.users[0] 5:11"}},
		{"unknown fields are listed in the struct's order; unexported ones are not fields", "hidden: x\nowner: {groups: [g]}\n", spec{Owner: &owner{}}, []string{
			"f.yaml:1:1: x.hidden: unknown field (want one of name, tags, limit, owner)",
			"f.yaml:2:9: x.owner.groups: unknown field (want one of users)",
		}, []string{"x.owner 2:1"}},
		{"want a list, got a string", "tags: web\nname: [a]\n", spec{}, []string{
			"f.yaml:1:7: x.tags: must be a list of strings, not a single value (write [web])",
			`f.yaml:2:7: x.name: must be a string, not a list`,
		}, []string{"x.tags 1:1", "x.name 2:1"}},
		{"want a list, got a mapping; a map's keys once each", "tags: {a: b}\nlimit: {cpu: 1, cpu: 2}\n", spec{Limit: map[string]string{"cpu": "1"}}, []string{
			"f.yaml:1:7: x.tags: must be a list of strings, not a mapping",
			"f.yaml:2:17: x.limit.cpu: given twice",
		}, []string{"x.tags 1:1", "x.limit 2:1", "x.limit.cpu 2:9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := Load("f.yaml", []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			w := &Walker{File: "f.yaml"}
			var got spec
			var seen []string
			w.Decode(root, "x", &got, func(field string, at Pos) { seen = append(seen, field+" "+at.String()) })
			var errs []string
			for _, e := range w.Errs {
				errs = append(errs, e.Error())
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(spec{})); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.errs, errs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.seen, seen); diff != "" {
				t.Errorf("seen (-want +got):\n%s", diff)
			}
		})
	}
}
