package ignore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []ruleView
	}{
		{"empty", "", nil},
		{"comments only", "# nothing yet\n", nil},
		{"null document", "~\n", nil},
		{"empty lists", "ignoreDifferences: []\nignore:\n", nil},
		{
			"argo",
			indent(`
				ignoreDifferences:
				- group: apps
				  kind: Deployment
				  name: web
				  namespace: prod
				  jsonPointers: [/spec/replicas]
				  jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "istio-proxy")']
				  managedFieldsManagers: [kube-controller-manager]
				- kind: Service
				  jsonPointers:
				  - /spec/clusterIP
				- group: "*"
				  kind: "*"
				  managedFieldsManagers: [vpa-recommender]
				- group: "*.k8s.io"
				  kind: Deploy?ent
				  jsonPointers: [/a~1b/c~0d]
			`),
			[]ruleView{
				{
					Name: "rules.yaml:2", Source: "rules.yaml:2", Description: "ignoreDifferences[0] (Argo CD ignoreDifferences)",
					Targets:      []string{"group=apps kind=Deployment name=web namespace=prod"},
					JSONPointers: []string{"/spec/replicas"},
					JQ:           []string{`.spec.template.spec.containers[] | select(.name == "istio-proxy")`},
					Managers:     []string{"kube-controller-manager"},
				},
				{
					Name: "rules.yaml:9", Source: "rules.yaml:9", Description: "ignoreDifferences[1] (Argo CD ignoreDifferences)",
					Targets:      []string{`group="" kind=Service`},
					JSONPointers: []string{"/spec/clusterIP"},
				},
				{
					Name: "rules.yaml:12", Source: "rules.yaml:12", Description: "ignoreDifferences[2] (Argo CD ignoreDifferences)",
					Targets:  []string{"*"},
					Managers: []string{"vpa-recommender"},
				},
				{
					Name: "rules.yaml:15", Source: "rules.yaml:15", Description: "ignoreDifferences[3] (Argo CD ignoreDifferences)",
					Targets:      []string{"group=*.k8s.io kind=Deploy?ent"},
					JSONPointers: []string{"/a~1b/c~0d"},
				},
			},
		},
		{
			"flux",
			indent(`
				ignore:
				- paths: ["/spec/replicas"]
				  target:
				    group: apps
				    version: v1
				    kind: Deployment
				    name: "web-.*"
				    namespace: "prod|staging"
				    labelSelector: "app=web"
				    annotationSelector: "team=a"
				- paths:
				  - /metadata/annotations/example.com~1note
				- paths: [/data]
				  target: {}
			`),
			[]ruleView{
				{
					Name: "rules.yaml:2", Source: "rules.yaml:2", Description: "ignore[0] (Flux ignore)",
					Targets:      []string{"group=~apps version=~v1 kind=~Deployment name=~web-.* namespace=~prod|staging labels(app=web) annotations(team=a)"},
					JSONPointers: []string{"/spec/replicas"},
				},
				{
					Name: "rules.yaml:11", Source: "rules.yaml:11", Description: "ignore[1] (Flux ignore)",
					Targets:      []string{"*"},
					JSONPointers: []string{"/metadata/annotations/example.com~1note"},
				},
				{
					Name: "rules.yaml:13", Source: "rules.yaml:13", Description: "ignore[2] (Flux ignore)",
					Targets:      []string{"*"},
					JSONPointers: []string{"/data"},
				},
			},
		},
		{
			"both grammars, in file order",
			indent(`
				ignore:
				- paths: [/a]
				ignoreDifferences:
				- kind: ConfigMap
				  jsonPointers: [/b]
			`),
			[]ruleView{
				{Name: "rules.yaml:2", Source: "rules.yaml:2", Description: "ignore[0] (Flux ignore)", Targets: []string{"*"}, JSONPointers: []string{"/a"}},
				{Name: "rules.yaml:4", Source: "rules.yaml:4", Description: "ignoreDifferences[0] (Argo CD ignoreDifferences)", Targets: []string{`group="" kind=ConfigMap`}, JSONPointers: []string{"/b"}},
			},
		},
		{
			"anchors and aliases",
			indent(`
				ignoreDifferences:
				- kind: Deployment
				  group: apps
				  jsonPointers: &ptrs [/spec/replicas]
				- kind: StatefulSet
				  group: apps
				  jsonPointers: *ptrs
			`),
			[]ruleView{
				{Name: "rules.yaml:2", Source: "rules.yaml:2", Description: "ignoreDifferences[0] (Argo CD ignoreDifferences)", Targets: []string{"group=apps kind=Deployment"}, JSONPointers: []string{"/spec/replicas"}},
				{Name: "rules.yaml:5", Source: "rules.yaml:5", Description: "ignoreDifferences[1] (Argo CD ignoreDifferences)", Targets: []string{"group=apps kind=StatefulSet"}, JSONPointers: []string{"/spec/replicas"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse([]byte(tt.text), "rules.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []ruleView
			for _, r := range s.Rules() {
				got = append(got, view(r))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{
			"not yaml",
			"ignore: [\n",
			[]string{"parsing f.yaml:1: invalid YAML: did not find expected node content"},
		},
		{
			"two documents",
			"ignore: []\n---\nignore: []\n",
			[]string{"parsing f.yaml:2:1: only one YAML document is allowed"},
		},
		{
			"top level not a mapping",
			"- kind: Deployment\n",
			[]string{"parsing f.yaml:1:1: the file must be a mapping with ignoreDifferences (Argo CD) and/or ignore (Flux)"},
		},
		{
			"unknown top-level key",
			"ignoreDifferences: []\nignoreDiferences: []\n",
			[]string{`parsing f.yaml:2:1: top level: unknown field "ignoreDiferences"`},
		},
		{
			"repeated key",
			"ignore: []\nignore: []\n",
			[]string{`parsing f.yaml:2:1: ignore: repeated key`},
		},
		{
			"list expected",
			"ignoreDifferences:\n  kind: Deployment\n",
			[]string{`parsing f.yaml:2:3: ignoreDifferences: must be a list`},
		},
		{
			"argo entry not a mapping",
			"ignoreDifferences:\n- Deployment\n",
			[]string{`parsing f.yaml:2:3: ignoreDifferences[0]: must be a mapping`},
		},
		{
			"argo unknown key and missing kind",
			indent(`
				ignoreDifferences:
				- group: apps
				  knd: Deployment
				  jsonPointers: [/spec/replicas]
			`),
			[]string{
				`parsing f.yaml:3:3: ignoreDifferences[0]: unknown field "knd"`,
				`parsing f.yaml:2:3: ignoreDifferences[0].kind: required ("*" for any kind)`,
			},
		},
		{
			"argo empty kind",
			indent(`
				ignoreDifferences:
				- kind: ""
				  jsonPointers: [/spec/replicas]
			`),
			[]string{`parsing f.yaml:2:9: ignoreDifferences[0].kind: required ("*" for any kind)`},
		},
		{
			"argo ignores nothing",
			indent(`
				ignoreDifferences:
				- kind: Deployment
				  group: apps
			`),
			[]string{`parsing f.yaml:2:3: ignoreDifferences[0]: ignores nothing: set jsonPointers, jqPathExpressions or managedFieldsManagers`},
		},
		{
			"argo wrong types",
			indent(`
				ignoreDifferences:
				- kind: [Deployment]
				  jsonPointers: /spec/replicas
				  managedFieldsManagers: [{name: x}]
			`),
			[]string{
				`parsing f.yaml:2:9: ignoreDifferences[0].kind: must be a string`,
				`parsing f.yaml:3:17: ignoreDifferences[0].jsonPointers: must be a list`,
				`parsing f.yaml:4:27: ignoreDifferences[0].managedFieldsManagers[0]: must be a string`,
			},
		},
		{
			"bad JSON pointers",
			indent(`
				ignoreDifferences:
				- kind: Deployment
				  jsonPointers:
				  - /spec/replicas
				  - spec/replicas
				  - /metadata/annotations/a~2b
				  - ""
			`),
			[]string{
				`parsing f.yaml:5:5: ignoreDifferences[0].jsonPointers[1]: invalid JSON pointer "spec/replicas": must start with "/"`,
				`parsing f.yaml:6:5: ignoreDifferences[0].jsonPointers[2]: invalid JSON pointer "/metadata/annotations/a~2b": "~" must be followed by 0 or 1 ("~0" is "~", "~1" is "/")`,
				`parsing f.yaml:7:5: ignoreDifferences[0].jsonPointers[3]: invalid JSON pointer "": the empty pointer would ignore the whole object`,
			},
		},
		{
			"jq that does not compile",
			indent(`
				ignoreDifferences:
				- kind: Deployment
				  jqPathExpressions:
				  - .spec.template.spec.containers[
				  - 'undefined_function(1)'
				  - 'import "foo" as foo; .a'
				  - input
			`),
			[]string{
				`parsing f.yaml:4:5: ignoreDifferences[0].jqPathExpressions[0]: invalid jq expression ".spec.template.spec.containers[": unexpected EOF`,
				`parsing f.yaml:5:5: ignoreDifferences[0].jqPathExpressions[1]: invalid jq expression "undefined_function(1)": function not defined: undefined_function/1`,
				`parsing f.yaml:6:5: ignoreDifferences[0].jqPathExpressions[2]: invalid jq expression "import \"foo\" as foo; .a": module directives (import, include, module) are not supported`,
				`parsing f.yaml:7:5: ignoreDifferences[0].jqPathExpressions[3]: invalid jq expression "input": input(s)/0 is not allowed`,
			},
		},
		{
			"flux missing and empty paths, unknown keys",
			indent(`
				ignore:
				- target:
				    kind: Deployment
				- paths: []
				- paths: [/a]
				  targets: {}
				- paths: [/a]
				  target:
				    apiVersion: apps/v1
			`),
			[]string{
				`parsing f.yaml:2:3: ignore[0].paths: required`,
				`parsing f.yaml:4:10: ignore[1].paths: must not be empty`,
				`parsing f.yaml:6:3: ignore[2]: unknown field "targets"`,
				`parsing f.yaml:9:5: ignore[3].target: unknown field "apiVersion"`,
			},
		},
		{
			"flux bad regexes and selectors",
			indent(`
				ignore:
				- paths: [/spec/replicas]
				  target:
				    name: "web-["
				    kind: "(Deployment"
				    labelSelector: "app=web,"
				    annotationSelector: "team in (a"
			`),
			[]string{
				"parsing f.yaml:4:11: ignore[0].target.name: invalid regular expression \"web-[\": error parsing regexp: missing closing ]: `[)$`",
				"parsing f.yaml:5:11: ignore[0].target.kind: invalid regular expression \"(Deployment\": error parsing regexp: missing closing ): `^(?:(Deployment)$`",
				`parsing f.yaml:6:20: ignore[0].target.labelSelector: invalid selector "app=web,": found '', expected: identifier after ','`,
				`parsing f.yaml:7:25: ignore[0].target.annotationSelector: invalid selector "team in (a": unable to parse requirement: found '', expected: ',' or ')'`,
			},
		},
		{
			"flux bad pointer and target type",
			indent(`
				ignore:
				- paths: [spec]
				  target: Deployment
			`),
			[]string{
				`parsing f.yaml:2:11: ignore[0].paths[0]: invalid JSON pointer "spec": must start with "/"`,
				`parsing f.yaml:3:11: ignore[0].target: must be a mapping`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse([]byte(tt.text), "f.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded with %d rules, want errors", len(s.Rules()))
			}
			if s != nil {
				t.Errorf("Parse returned a set along with an error")
			}
			if diff := cmp.Diff(tt.want, errorLines(err)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "f.yaml" {
				t.Errorf("errors.As(*ParseError) = %+v, want one for f.yaml", pe)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join("testdata", "drift-ignore.yaml")
	s, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{path + ":4", path + ":14", path + ":20", path + ":29"}
	if diff := cmp.Diff(want, names(s.Rules())); diff != "" {
		t.Errorf("rule names mismatch (-want +got):\n%s", diff)
	}

	_, err = LoadFile(filepath.Join("testdata", "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadFile(missing) = %v, want a not-exist error", err)
	}
	if err == nil || !strings.HasPrefix(err.Error(), "reading ignore rules: ") || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("LoadFile(missing) error = %v, want it to say what it was reading", err)
	}

	// A file's errors name the file as given.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("ignore:\n- paths: [spec]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	if want := "parsing " + bad + ":2:11: ignore[0].paths[0]: invalid JSON pointer \"spec\": must start with \"/\""; err == nil || err.Error() != want {
		t.Errorf("LoadFile(bad) error = %v, want %s", err, want)
	}
}

func TestParseErrorWithoutField(t *testing.T) {
	e := &ParseError{File: "a.yaml", Err: errors.New("boom")}
	if got, want := e.Error(), "parsing a.yaml: boom"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
