package ignore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
)

// The object builders are test/builders'.
var (
	object          = builders.Object
	withLabels      = builders.Labels
	withAnnotations = builders.Annotations
)

// loadObject reads a YAML manifest from testdata the way the engine gets
// objects: through JSON, so integers are int64.
func loadObject(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("converting %s: %v", name, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return u
}

// mustParse parses a rule file given as text.
func mustParse(t *testing.T, text string) *Set {
	t.Helper()
	s, err := Parse([]byte(text), "rules.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

// ruleView is what a test compares of a rule.
type ruleView struct {
	Name, Description, Source string
	Targets                   []string
	JSONPointers              []string
	JQ                        []string
	Managers                  []string
	OwnedBy                   []string
}

func view(r *Rule) ruleView {
	v := ruleView{
		Name: r.Name, Description: r.Description, Source: r.Source,
		JSONPointers: r.JSONPointers, JQ: r.JQPathExpressions,
		Managers: r.ManagedFieldsManagers, OwnedBy: r.OwnedBy,
	}
	for i := range r.Targets {
		v.Targets = append(v.Targets, r.Targets[i].String())
	}
	return v
}

func names(rules []*Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Name)
	}
	return out
}

// errorLines splits an error (possibly joined) into its messages.
func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var out []string
		for _, e := range joined.Unwrap() {
			out = append(out, errorLines(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

// pointers renders paths as JSON pointers, for readable comparisons.
func pointers(ps []objpath.Path) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Pointer())
	}
	return out
}

// indent strips the common tab indentation of a raw string literal, so rule
// files can be written indented inside the tables.
func indent(s string) string {
	s = strings.TrimPrefix(s, "\n")
	lines := strings.Split(s, "\n")
	prefix := ""
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		prefix = l[:len(l)-len(strings.TrimLeft(l, "\t"))]
		break
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, prefix)
	}
	return strings.TrimRight(strings.Join(lines, "\n"), " \t\n") + "\n"
}
