package redact

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
)

var obj = builders.YAMLMap

func get(t *testing.T, o map[string]any, p ...any) any {
	t.Helper()
	v, ok := objpath.Get(o, objpath.Path(p))
	if !ok {
		t.Fatalf("no %v in %v", objpath.Path(p), o)
	}
	return v
}

const release = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: grafana, namespace: monitoring}
spec:
  valuesFrom:
  - {kind: Secret, name: smtp, valuesKey: pw, targetPath: 'smtp.auth\.pass'}
  - {kind: ConfigMap, name: cfg, valuesKey: host, targetPath: smtp.host}
  - {kind: Secret, name: ldap, valuesKey: binds, targetPath: 'ldap.binds[1]'}
  values:
    grafana:
      adminUser: admin
      adminPassword: %s
      existingSecret: grafana-admin
      persistence: {enabled: true}
      token: [%s, same-token]
      serviceAccount: {automountToken: true}
    env:
    - {name: DB_PASSWORD, value: %s}
    - {name: DB_HOST, value: db.local}
    smtp: {host: mail.local, auth.pass: %s}
    ldap: {binds: [visible, %s]}
`

func releaseWith(t *testing.T, v string) map[string]any {
	return obj(t, strings.ReplaceAll(release, "%s", v))
}

func TestHelmValuesMasksSecretKeysOfAHelmRelease(t *testing.T) {
	live, git := releaseWith(t, "canary-live-9d1"), releaseWith(t, "canary-git-9d1")
	// A value both versions share is "***".
	get(t, git, "spec", "values", "grafana").(map[string]any)["token"] = []any{"canary-git-9d1", "same-token"}
	sw := NewSweeper()
	b, a := HelmValues("helm.toolkit.fluxcd.io/v2", "HelmRelease", live, git, sw)

	for _, tc := range []struct {
		path        []any
		before, aft any
	}{
		{[]any{"spec", "values", "grafana", "adminPassword"}, MaskBefore, MaskAfter},
		{[]any{"spec", "values", "grafana", "token", 0}, MaskBefore, MaskAfter},
		{[]any{"spec", "values", "grafana", "token", 1}, Mask, Mask},
		{[]any{"spec", "values", "env", 0, "value"}, MaskBefore, MaskAfter},
		{[]any{"spec", "values", "smtp", "auth.pass"}, MaskBefore, MaskAfter},
		{[]any{"spec", "values", "ldap", "binds", 1}, MaskBefore, MaskAfter},
		// Not secret: other keys, names of Secrets, booleans, a value from a ConfigMap.
		{[]any{"spec", "values", "grafana", "adminUser"}, "admin", "admin"},
		{[]any{"spec", "values", "grafana", "existingSecret"}, "grafana-admin", "grafana-admin"},
		{[]any{"spec", "values", "grafana", "serviceAccount", "automountToken"}, true, true},
		{[]any{"spec", "values", "env", 1, "value"}, "db.local", "db.local"},
		{[]any{"spec", "values", "smtp", "host"}, "mail.local", "mail.local"},
		{[]any{"spec", "values", "ldap", "binds", 0}, "visible", "visible"},
	} {
		if got := get(t, b, tc.path...); got != tc.before {
			t.Errorf("live %v = %v, want %v", objpath.Path(tc.path), got, tc.before)
		}
		if got := get(t, a, tc.path...); got != tc.aft {
			t.Errorf("git %v = %v, want %v", objpath.Path(tc.path), got, tc.aft)
		}
	}
	// The inputs are not modified: the engine masks changes from them.
	if get(t, live, "spec", "values", "grafana", "adminPassword") != "canary-live-9d1" {
		t.Error("HelmValues modified its input")
	}
	if got := sw.String("error: canary-live-9d1 and canary-git-9d1"); got != "error: *** and ***" {
		t.Errorf("sweeper got %q", got)
	}
}

func TestHelmValuesMasksArgoCDApplicationValues(t *testing.T) {
	app := func(v string) map[string]any {
		return obj(t, strings.ReplaceAll(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  sources:
  - repoURL: https://charts.example.com
    chart: web
    helm:
      values: |
        # the admin
        auth:
          username: admin
          password: %s   # keep quoted
          enabled: true
        replicas: 2
      valuesObject:
        db: {connectionString: "%s", port: 5432}
      parameters:
      - {name: image.tag, value: "1.2"}
      - {name: auth.apiKey, value: "%s"}
  - repoURL: https://git.example.com/values
    ref: values
`, "%s", v))
	}
	live, git := app("canary-live-42"), app("canary-git-42")
	// Parameters are paired by name, not index.
	params := get(t, live, "spec", "sources", 0, "helm", "parameters").([]any)
	params[0], params[1] = params[1], params[0]
	b, a := HelmValues("argoproj.io/v1alpha1", "Application", live, git, nil)

	for _, side := range []struct {
		obj  map[string]any
		mask string
	}{{b, MaskBefore}, {a, MaskAfter}} {
		values := get(t, side.obj, "spec", "sources", 0, "helm", "values").(string)
		want := "# the admin\nauth:\n  username: admin\n  password: '" + side.mask + "' # keep quoted\n  enabled: true\nreplicas: 2\n"
		if diff := cmp.Diff(want, values); diff != "" {
			t.Errorf("helm.values (-want +got):\n%s", diff)
		}
		if got := get(t, side.obj, "spec", "sources", 0, "helm", "valuesObject", "db", "connectionString"); got != side.mask {
			t.Errorf("valuesObject connectionString = %v", got)
		}
		if got := get(t, side.obj, "spec", "sources", 0, "helm", "valuesObject", "db", "port"); got != float64(5432) && got != int64(5432) {
			t.Errorf("valuesObject port = %v (%T)", got, got)
		}
		for _, p := range get(t, side.obj, "spec", "sources", 0, "helm", "parameters").([]any) {
			pm := p.(map[string]any)
			want := any("1.2")
			if pm["name"] == "auth.apiKey" {
				want = side.mask
			}
			if pm["value"] != want {
				t.Errorf("parameter %v = %v, want %v", pm["name"], pm["value"], want)
			}
		}
	}
}

func TestHelmValuesStringThatDoesNotParseIsMaskedWhole(t *testing.T) {
	app := obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web}
spec:
  source: {helm: {values: "password: [canary-x"}}
`)
	b, _ := HelmValues("argoproj.io/v1alpha1", "Application", app, nil, nil)
	if got := get(t, b, "spec", "source", "helm", "values"); got != Mask {
		t.Errorf("got %q", got)
	}
}

func TestHelmValuesLeavesOtherKindsAlone(t *testing.T) {
	cm := obj(t, `apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data: {password: visible}
`)
	b, _ := HelmValues("v1", "ConfigMap", cm, nil, nil)
	if get(t, b, "data", "password") != "visible" {
		t.Error("a ConfigMap was masked")
	}
}

func TestHelmChangeMasksOneChangedField(t *testing.T) {
	live, git := releaseWith(t, "canary-live-9d1"), releaseWith(t, "canary-git-9d1")
	for _, tc := range []struct {
		name         string
		path         objpath.Path
		wantB, wantA any
	}{
		{"secret key", objpath.Path{"spec", "values", "grafana", "adminPassword"}, MaskBefore, MaskAfter},
		{"env value named by its sibling", objpath.Path{"spec", "values", "env", 0, "value"}, MaskBefore, MaskAfter},
		{"valuesFrom Secret target", objpath.Path{"spec", "values", "smtp", "auth.pass"}, MaskBefore, MaskAfter},
		{"not secret", objpath.Path{"spec", "values", "grafana", "adminUser"}, "admin", "admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lv, _ := objpath.Get(live, tc.path)
			gv, _ := objpath.Get(git, tc.path)
			b, a := HelmChange("helm.toolkit.fluxcd.io/v2", "HelmRelease", live, git, tc.path, lv, gv, nil)
			if b != tc.wantB || a != tc.wantA {
				t.Errorf("got (%v, %v), want (%v, %v)", b, a, tc.wantB, tc.wantA)
			}
		})
	}
	// A whole subtree: its secret values are masked inside.
	p := objpath.Path{"spec", "values"}
	b, _ := HelmChange("helm.toolkit.fluxcd.io/v2", "HelmRelease", nil, git, p, get(t, git, "spec", "values"), nil, nil)
	if got := get(t, b.(map[string]any), "grafana", "adminPassword"); got != Mask {
		t.Errorf("subtree adminPassword = %v", got)
	}
	// An Argo CD parameter's value, named by its sibling.
	app := obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web}
spec:
  source: {helm: {parameters: [{name: db.password, value: canary-p}]}}
`)
	pp := objpath.Path{"spec", "source", "helm", "parameters", 0, "value"}
	if b, _ := HelmChange("argoproj.io/v1alpha1", "Application", app, nil, pp, "canary-p", nil, nil); b != Mask {
		t.Errorf("parameter value = %v", b)
	}
}

func TestParseTargetPath(t *testing.T) {
	for in, want := range map[string]objpath.Path{
		"a.b.c":     {"a", "b", "c"},
		`a\.b.c`:    {"a.b", "c"},
		"list[2].x": {"list", 2, "x"},
		"m[0][1]":   {"m", 0, 1},
		"weird[x]":  {"weird[x]"},
		"single":    {"single"},
	} {
		if got := parseTargetPath(in); !got.Equal(want) {
			t.Errorf("parseTargetPath(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLastAppliedAnnotationMasksHelmValues(t *testing.T) {
	live := releaseWith(t, "canary-applied-77")
	raw, err := json.Marshal(live)
	if err != nil {
		t.Fatal(err)
	}
	live["metadata"].(map[string]any)["annotations"] = map[string]any{LastApplied: string(raw)}
	LastAppliedAnnotation(live)
	got := live["metadata"].(map[string]any)["annotations"].(map[string]any)[LastApplied].(string)
	if strings.Contains(got, "canary-applied-77") || !strings.Contains(got, `"adminPassword":"***"`) || !strings.Contains(got, `"adminUser":"admin"`) {
		t.Errorf("annotation not masked as the object: %s", got)
	}
}

func TestHelmValuesMasksApplicationSetTemplates(t *testing.T) {
	set := obj(t, `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: web}
spec:
  template:
    spec:
      source:
        helm:
          valuesObject: {auth: {password: canary-set, user: app}}
          parameters: [{name: clientSecret, value: canary-set-p}]
`)
	b, _ := HelmValues("argoproj.io/v1alpha1", "ApplicationSet", set, nil, nil)
	helm := get(t, b, "spec", "template", "spec", "source", "helm").(map[string]any)
	if got := get(t, helm, "valuesObject", "auth", "password"); got != Mask {
		t.Errorf("password = %v", got)
	}
	if got := get(t, helm, "valuesObject", "auth", "user"); got != "app" {
		t.Errorf("user = %v", got)
	}
	if got := get(t, helm, "parameters", 0, "value"); got != Mask {
		t.Errorf("parameter = %v", got)
	}
}
