package promotion

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlsplice"
)

// TestParseNamesLineAndColumnOfDocumentMistakes: a second document and an
// alias bomb are refused at their line:column (checked against the input
// with yamlsplice's line index), like every field mistake.
func TestParseNamesLineAndColumnOfDocumentMistakes(t *testing.T) {
	const valid = header + "environments: [{name: a, path: a}]\napplications: [{name: x, versions: [{file: k.yaml, kustomizeImage: x}]}]\n"
	bomb := "  a0: &a0 [x]\n"
	for i := 1; i <= 9; i++ {
		bomb += fmt.Sprintf("  a%d: &a%d [%s]\n", i, i, strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9)+fmt.Sprintf("*a%d", i-1))
	}
	tests := []struct{ name, text, marker, want string }{
		{"a second document", valid + "  # the end\n---\nkind: Pipeline\n", "---", "only one YAML document is allowed"},
		{"a billion laughs (10^9 nodes through aliases)", valid + "x:\n" + bomb,
			"*a3", "invalid YAML: document contains excessive aliasing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.text))
			off := strings.Index(tt.text, tt.marker)
			src := yamlsplice.NewSource([]byte(tt.text))
			want := fmt.Sprintf("p.yaml:%d:%d: %s", src.LineOf(off), src.Column(off), tt.want)
			if err == nil || err.Error() != want {
				t.Errorf("Parse:\n got %v\nwant %s", err, want)
			}
		})
	}
}

// TestParseRefusesAliasFanOut: aliases that multiply applications by
// versions (300 × 300 locations from 2.6 KB) are refused as one error, as
// yaml.v3 refuses them when it decodes into Go values. Before, every
// location was checked and compared with the others: 5.8 MB of errors
// and a cost cubic in the file's size.
func TestParseRefusesAliasFanOut(t *testing.T) {
	list := func(alias string) string { return strings.TrimSuffix(strings.Repeat(alias+", ", 300), ", ") }
	text := header + "environments: [{name: a, path: a}]\nx-l: &l {file: k.yaml, kustomizeImage: x}\n" +
		"x-v: &v [" + list("*l") + "]\nx-a: &a {name: x, versions: *v}\napplications: [" + list("*a") + "]\n"
	_, err := Parse("p.yaml", []byte(text))
	if err == nil || !strings.HasSuffix(err.Error(), ": invalid YAML: document contains excessive aliasing") || len(err.Error()) > 200 {
		t.Errorf("Parse: %.300v", err)
	}
}
