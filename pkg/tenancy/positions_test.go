package tenancy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlsplice"
)

// TestParseNamesLineAndColumn: structural mistakes and validation errors
// in tenants.yaml are reported at their line and column (checked against
// the input with yamlsplice's line index), also inside a flow list.
func TestParseNamesLineAndColumn(t *testing.T) {
	src := func(text string, m ...string) string {
		var lines []string
		for i := 0; i < len(m); i += 2 {
			off := strings.Index(text, m[i])
			s := yamlsplice.NewSource([]byte(text))
			lines = append(lines, fmt.Sprintf("t.yaml:%d:%d: %s", s.LineOf(off), s.Column(off), m[i+1]))
		}
		return strings.Join(lines, "\n")
	}
	structural := header + "- name: a\n  owners: {groups: [g], groups: [h]}\n  namespaces: {a: b}\n"
	invalid := header + "- name: a\n  owners: {groups: [g]}\n  namespaces: [ok, -bad]\n"
	for text, want := range map[string]string{
		structural: src(structural,
			"groups: [h]", "tenants[0].owners.groups: field is given twice",
			"{a: b}", "tenants[0].namespaces: must be a list of strings, not a mapping"),
		invalid: src(invalid, "-bad", `tenants[0].namespaces[1]: invalid name "-bad": a lowercase RFC 1123 label`),
	} {
		_, err := Parse("t.yaml", []byte(text))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse:\n got %v\nwant %s…", err, want)
		}
	}
}
