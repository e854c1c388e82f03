package remediate

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The editor finds a node's bytes where yaml.v3 says it is, also in a file
// with a BOM and in one whose earlier lines hold a break yaml.v3 counts
// (CR alone, NEL, LS, PS: a comment with U+2028 is one in the wild).
func TestEditorPositionsAsYAMLv3(t *testing.T) {
	for name, data := range map[string]string{
		"BOM":     "\ufeffkind: ConfigMap\ndata: {k: v}\n",
		"LS":      "# a\u2028\nkind: ConfigMap\ndata:\n  k: v\n",
		"PS":      "# a\u2029\nkind: ConfigMap\ndata:\n  k: v\n",
		"NEL":     "# a\u0085\nkind: ConfigMap\ndata:\n  k: v\n",
		"CR":      "kind: ConfigMap\rdata:\r  k: v\r",
		"CRLF":    "kind: ConfigMap\r\ndata:\r\n  k: v\r\n",
		"BOM+LS":  "\ufeff# \u2028\nkind: ConfigMap\ndata: {k: v}\n",
		"tab+é+ü": "kind: ConfigMap # é\ndata: {é: ü, k: v}\n",
	} {
		f, err := parseYAMLFile([]byte(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var check func(n *yaml.Node)
		check = func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode && !strings.HasPrefix(string(f.src[f.start(n):]), n.Value) {
				t.Errorf("%s: %q at %d:%d maps to %.12q", name, n.Value, n.Line, n.Column, f.src[f.start(n):])
			}
			for _, c := range n.Content {
				check(c)
			}
		}
		for _, d := range f.docs {
			check(d)
		}
	}
}
