package yamlsplice

import (
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// breaks are the line breaks yaml.v3 counts lines by.
var breaks = map[string]string{"LF": "\n", "CRLF": "\r\n", "CR": "\r", "NEL": "\u0085", "LS": "\u2028", "PS": "\u2029"}

// scalars walks every scalar node under n.
func scalars(n *yaml.Node, visit func(*yaml.Node)) {
	if n.Kind == yaml.ScalarNode {
		visit(n)
	}
	for _, c := range n.Content {
		scalars(c, visit)
	}
}

// Every position yaml.v3 reports maps to the bytes of its node, whatever
// the line breaks, with or without a BOM, with multi-byte characters before
// the node on its line.
func TestOffsetIsWhereYAMLv3SaysTheNodeIs(t *testing.T) {
	const doc = "# comment é\nkind: ConfigMap\nmetadata: {name: ü-cm, labels: {a: b}}\ndata:\n  key: value\n  'quoted': \"x\"\n  list: [one, two]\n  é: ü\n"
	for name, brk := range breaks {
		for _, bom := range []string{"", BOM} {
			data := []byte(bom + strings.ReplaceAll(doc, "\n", brk))
			var root yaml.Node
			if err := yaml.Unmarshal(data, &root); err != nil {
				t.Fatalf("%s, BOM %v: %v", name, bom != "", err)
			}
			src := NewSource(data)
			n := 0
			scalars(&root, func(s *yaml.Node) {
				n++
				off, err := src.Offset(s.Line, s.Column)
				if err != nil {
					t.Errorf("%s, BOM %v: %q at %d:%d: %v", name, bom != "", s.Value, s.Line, s.Column, err)
					return
				}
				text := string(data[off:])
				if s.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
					text = text[1:]
				}
				if !strings.HasPrefix(text, s.Value) {
					t.Errorf("%s, BOM %v: %q at %d:%d maps to %.10q", name, bom != "", s.Value, s.Line, s.Column, data[off:])
				}
				if src.LineOf(off) != s.Line || src.Column(off) != s.Column {
					t.Errorf("%s, BOM %v: offset %d maps back to %d:%d, want %d:%d", name, bom != "", off, src.LineOf(off), src.Column(off), s.Line, s.Column)
				}
			})
			if n != 18 {
				t.Errorf("%s: %d scalars visited, want 18", name, n)
			}
			if got := src.Break(); got != brk {
				t.Errorf("%s: Break() = %q", name, got)
			}
		}
	}
}

func TestApply(t *testing.T) {
	data := []byte("a: 1\r\nb: 2\r\n")
	out, err := Apply(data, []Edit{{9, 10, "3"}, {3, 4, "x"}, {3, 4, "x"}, {6, 6, WithBreaks("c: 0\n", NewSource(data).Break())}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "a: x\r\nc: 0\r\nb: 3\r\n"; got != want {
		t.Errorf("Apply = %q, want %q", got, want)
	}
	if _, err := Apply(data, []Edit{{3, 5, "x"}, {4, 6, "y"}}); !errors.Is(err, ErrOverlap) {
		t.Errorf("overlapping edits: %v, want ErrOverlap", err)
	}
}

// Plain only when YAML 1.1 and 1.2 readers both read the string back.
func TestPlainSafe(t *testing.T) {
	for _, s := range []string{"1.4.2", "v1.4.2", "nginx", "ghcr.io/acme/web", "nginx:1.27", "main-abc1234", "é", "a-b", "x:y"} {
		if !PlainSafe(s, false) {
			t.Errorf("PlainSafe(%q) = false", s)
		}
	}
	for _, s := range []string{"yes", "no", "on", "off", "y", "n", "Y", "True", "null", "~", "", "1", "1.0", "0644", "0x1F",
		"1e3", "1_000", "0b101", "2024-01-01", "a: b", "a #b", "#x", "- x", "-", "?", ":x:", "*a", "&a", "!t", "%p", "|", ">",
		"---", "...", " lead", "trail ", "tab\tx", "multi\nline", "'q'", `"q"`, "@x", "`x"} {
		if PlainSafe(s, false) {
			t.Errorf("PlainSafe(%q) = true", s)
		}
	}
	if PlainSafe("a,b", true) || !PlainSafe("a,b", false) {
		t.Error(`"a,b" is plain-safe in block context only`)
	}
}

// Scalar's output reads back as the string with YAML 1.1 and 1.2, in
// every style it replaces, in block and flow context.
func TestScalarRoundTrip(t *testing.T) {
	values := []string{"yes", "no", "on", "off", "y", "n", "true", "null", "~", "", " lead", "trail ", "1", "0644", "1_000", "1e3",
		"a: b", "a #b", "#x", "-x", "- x", "it's", `say "hi"`, "é ü", "tab\there", "multi\nline", "back\\slash", "1.4.2", "nginx:1.27", "\u2028"}
	for _, v := range values {
		for _, style := range []yaml.Style{0, yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle} {
			for _, flow := range []bool{false, true} {
				doc := "k: " + Scalar(v, style, flow) + "\n"
				if flow {
					doc = "k: {v: " + Scalar(v, style, flow) + "}\n"
				}
				var v11, v12 map[string]any
				if err := sigsyaml.Unmarshal([]byte(doc), &v11); err != nil {
					t.Errorf("%q: YAML 1.1: %v", doc, err)
					continue
				}
				if err := yaml.Unmarshal([]byte(doc), &v12); err != nil {
					t.Errorf("%q: YAML 1.2: %v", doc, err)
					continue
				}
				for reader, got := range map[string]any{"1.1": v11["k"], "1.2": v12["k"]} {
					if flow {
						m, _ := got.(map[string]any)
						got = m["v"]
					}
					if got != v {
						t.Errorf("%q written as %q reads back as %#v with YAML %s", v, doc, got, reader)
					}
				}
			}
		}
	}
}
