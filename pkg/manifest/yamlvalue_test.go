package manifest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// decodeOne converts a single YAML document with this package's converter.
func decodeOne(t *testing.T, doc string) (any, error) {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(doc))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	c := &converter{file: "test.yaml"}
	v, _, err := c.value(&n)
	return v, err
}

// kubectlDecode decodes doc the way kubectl -f does: sigs.k8s.io/yaml to
// JSON, then apimachinery's JSON (as the unstructured decoder does).
func kubectlDecode(doc string) (any, error) {
	j, err := sigsyaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return nil, err
	}
	var v any
	if err := utiljson.Unmarshal(j, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// TestValuesMatchKubectl compares the converter with kubectl's real
// decoding pipeline on YAML whose meaning differs between YAML 1.1 and 1.2
// or between YAML and JSON.
func TestValuesMatchKubectl(t *testing.T) {
	t.Parallel()
	docs := []string{
		// booleans, YAML 1.1 style
		"a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\ng: Y\nh: N\ni: YES\nj: Off\n",
		"a: true\nb: True\nc: TRUE\nd: false\ne: tRUE\nf: yEs\n",
		"a: 'yes'\nb: \"on\"\nc: |\n  yes\nd: >\n  no\n",
		// nulls
		"a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nULL\n",
		// integers
		"a: 3\nb: -3\nc: +3\nd: 0777\ne: 0x1F\nf: 0b101\ng: -0b101\nh: 1_000\ni: 0o17\nj: 08\nk: 09.5\n",
		"a: 9223372036854775807\nb: -9223372036854775808\nc: 9223372036854775808\nd: 18446744073709551615\ne: 18446744073709551616\n",
		// floats
		"a: 1.5\nb: 1.0\nc: 1e3\nd: 1E3\ne: .5\nf: -.5\ng: 1.\nh: 1e21\ni: 1e20\nj: 3.0e-7\nk: -0.0\nl: 0.1\nm: 2.5e+2\n",
		"a: 123456789012345678901234567890\nb: 9.223372036854775807e18\n",
		// timestamps and look-alikes stay strings
		"a: 2001-12-14\nb: 2001-12-14T21:59:43.10Z\nc: 2001-12-14 21:59:43.10\nd: 2001-12-14t21:59:43.10-05:00\ne: 20011214\nf: 2001-13-45\n",
		// strings that look like other things
		"a: 1.2.3\nb: 0x\nc: .inf.\nd: +\ne: -x\nf: 1_\ng: 0b2\nh: v1\ni: '123'\nj: \"1e3\"\nk: 12:30\nl: 190:20:30\n",
		// explicit tags
		"a: !!str 123\nb: !!int \"42\"\nc: !!float 3\nd: !!bool yes\ne: !!null ~\nf: !!str yes\ng: !custom hello\nh: !!binary aGVsbG8=\ni: !!timestamp 2001-12-14\n",
		// non-string keys
		"1: a\n2.5: b\nyes: c\nno: d\n0x10: e\n0.1: g\n1e3: h\n2001-12-14: i\n-.5: j\n",
		"1.0: f\n",
		"on: push\n",
		// merge keys and aliases
		"base: &b\n  x: 1\n  y: 2\nchild:\n  <<: *b\n  y: 3\n",
		"a: &a {x: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n  w: 0\n",
		"base: &b {x: 1}\nc:\n  x: 0\n  <<: *b\n",
		"list: &l [1, 2]\nother: *l\nq: '<<'\n\"<<\": quoted\n",
		// nesting, flow style, JSON
		"a: {b: [1, {c: d}], e: []}\nf: {}\n",
		`{"apiVersion": "v1", "n": 1.0, "m": [1, 2.5, true, null, "x"]}`,
		"a: \"\\u00e9\\t\\x41\"\nb: 'it''s'\nc: |-\n  line1\n  line2\nd: >-\n  folded\n  text\n",
	}
	for _, doc := range docs {
		t.Run(strings.SplitN(doc, "\n", 2)[0], func(t *testing.T) {
			t.Parallel()
			want, err := kubectlDecode(doc)
			if err != nil {
				t.Fatalf("kubectl decoding: %v", err)
			}
			got, err := decodeOne(t, doc)
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoding differs from kubectl's (-kubectl +ours):\n%s", diff)
			}
		})
	}
}

// TestValuesKubectlRejects checks that YAML kubectl cannot turn into JSON
// is an error here too, with the line of the offending node.
func TestValuesKubectlRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  string
		want string
	}{
		{"a: 1\nb: .inf\n", "test.yaml:2: unsupported value +Inf: JSON has no NaN or infinity"},
		{"a: 1\nb: -.Inf\n", "test.yaml:2: unsupported value -Inf: JSON has no NaN or infinity"},
		{"a: .nan\n", "test.yaml:1: unsupported value NaN: JSON has no NaN or infinity"},
		{"a: 1\n~: x\n", `test.yaml:2: unsupported map key "~": JSON keys must be strings, numbers or booleans`},
		{"a: 1\n18446744073709551615: x\n", `test.yaml:2: unsupported map key "18446744073709551615": JSON keys must be strings, numbers or booleans`},
		{"a: 1\n? [x]\n: y\n", "test.yaml:2: invalid map key: a key must be a scalar, not a collection"},
		{"a: !!int abc\n", `test.yaml:1: cannot decode !!str "a…" as a !!int`},
		{"a: !!null x\n", `test.yaml:1: cannot decode !!str "…" as a !!null`},
		{"a: !!binary '*'\n", "test.yaml:1: !!binary value contains invalid base64 data"},
		{"a: 1\nb:\n  <<: 3\n", "test.yaml:3: map merge requires map or sequence of maps as the value"},
		{"a: 1\na: 2\n", `test.yaml:2: duplicate key "a" (first at line 1)`},
		{"1: a\n\"1\": b\n", `test.yaml:2: duplicate key "1" (first at line 1)`},
		{"a: &a\n  b: *a\n", `test.yaml:2: anchor "a" value contains itself`},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			t.Parallel()
			_, err := decodeOne(t, tt.doc)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAliasBomb(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	_, err := decodeOne(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "aliases expand to more than") {
		t.Errorf("error = %v, want the alias expansion limit", err)
	}
}
