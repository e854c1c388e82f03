package ignore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlsplice"
)

// TestParseNamesLineAndColumn: a mistake in a rule file is reported at its
// line and column (checked against the input with yamlsplice's line
// index), also inside a flow list where several values share a line.
func TestParseNamesLineAndColumn(t *testing.T) {
	text := "ignoreDifferences:\n- kind: Deployment\n  jsonPointers: [/spec/replicas, spec/template]\n  kind: Service\n"
	var want []string
	for _, m := range []struct{ marker, msg string }{
		{"spec/template", `ignoreDifferences[0].jsonPointers[1]: invalid JSON pointer "spec/template": must start with "/"`},
		{"kind: Service", `ignoreDifferences[0].kind: repeated key`},
	} {
		off := strings.Index(text, m.marker)
		src := yamlsplice.NewSource([]byte(text))
		want = append(want, fmt.Sprintf("parsing f.yaml:%d:%d: %s", src.LineOf(off), src.Column(off), m.msg))
	}
	_, err := Parse([]byte(text), "f.yaml")
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("Parse:\n got %v\nwant %s", err, strings.Join(want, "\n"))
	}
}
