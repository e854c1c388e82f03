package ignore

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// decoded turns YAML into what unstructured.Unstructured holds.
func decoded(t *testing.T, text string) []any {
	t.Helper()
	var v []any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFromArgoAndFlux(t *testing.T) {
	deploy := object("apps/v1", "Deployment", "prod", "web", withLabels("tier", "front"))
	cm := object("v1", "ConfigMap", "prod", "cfg")
	tests := []struct {
		name      string
		flux      bool
		entries   string
		wantNames []string
		matches   map[string]bool // object name -> matched by some rule
	}{
		{
			name: "argo",
			entries: `
- group: apps
  kind: Deployment
  jsonPointers: [/spec/replicas]
- group: ""
  kind: ConfigMap
  name: cfg
  jqPathExpressions: ['.data.x']
- group: "*"
  kind: "*"
  managedFieldsManagers: [vpa-updater]
`,
			wantNames: []string{"argocd/argocd/web spec.ignoreDifferences[0]", "argocd/argocd/web spec.ignoreDifferences[1]", "argocd/argocd/web spec.ignoreDifferences[2]"},
			matches:   map[string]bool{"web": true, "cfg": true},
		},
		{
			name: "flux",
			flux: true,
			entries: `
- paths: [/spec/replicas]
  target: {kind: Deployment, labelSelector: tier=front}
`,
			wantNames: []string{"flux/flux-system/apps spec.ignore[0]"},
			matches:   map[string]bool{"web": true, "cfg": false},
		},
		{name: "none", entries: `[]`, matches: map[string]bool{"web": false, "cfg": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var set *Set
			var err error
			if tt.flux {
				set, err = FromFlux(decoded(t, tt.entries), "flux/flux-system/apps", "spec.ignore")
			} else {
				set, err = FromArgo(decoded(t, tt.entries), "argocd/argocd/web", "spec.ignoreDifferences")
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(set.Rules()); strings.Join(got, "|") != strings.Join(tt.wantNames, "|") {
				t.Errorf("names %q, want %q", got, tt.wantNames)
			}
			for _, r := range set.Rules() {
				if r.Source != r.Name {
					t.Errorf("source %q, want the name %q", r.Source, r.Name)
				}
			}
			for name, obj := range map[string]*unstructured.Unstructured{"web": deploy, "cfg": cm} {
				if got := len(set.Match(obj)) > 0; got != tt.matches[name] {
					t.Errorf("%s matched: %v, want %v", name, got, tt.matches[name])
				}
			}
		})
	}
}

func TestFromErrorsNameTheField(t *testing.T) {
	_, err := FromArgo(decoded(t, `
- kind: Deployment
  jsonPointers: [spec/replicas]
- group: apps
  jsonPointers: [/a]
`), "argocd/argocd/web", "spec.ignoreDifferences")
	want := []string{
		`parsing argocd/argocd/web: spec.ignoreDifferences[0].jsonPointers[0]: invalid JSON pointer "spec/replicas": must start with "/"`,
		`parsing argocd/argocd/web: spec.ignoreDifferences[1].kind: required ("*" for any kind)`,
	}
	if got := errorLines(err); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, err = FromFlux(decoded(t, `[{target: {kind: "("}, paths: [/x]}, {paths: []}]`), "flux/ns/k", "spec.ignore")
	if err == nil || !strings.Contains(err.Error(), "spec.ignore[0].target.kind: invalid regular expression") ||
		!strings.Contains(err.Error(), "spec.ignore[1].paths: must not be empty") {
		t.Errorf("flux errors: %v", err)
	}
	if _, err := FromArgo([]any{"not a mapping"}, "a", "spec.ignoreDifferences"); err == nil {
		t.Error("a string entry is accepted")
	}
}
