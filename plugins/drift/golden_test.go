package drift

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// goldenCanary is a secret value that appears only in an unchanged object of
// the golden report: no output may show it.
const goldenCanary = "golden-canary-Xk2p"

// Fixture builders: objects as the engine leaves them in a report
// (normalised, secrets masked).

func meta(name string, kv ...any) map[string]any {
	md := map[string]any{"name": name, "namespace": "shop"}
	for i := 0; i+1 < len(kv); i += 2 {
		md[kv[i].(string)] = kv[i+1]
	}
	return md
}

func strMap(kv ...string) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func configMapObj(name string, data map[string]any, md ...any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, md...), "data": data}
}

func fixedTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func owner(manager, operation, subresource, at string, class objdiff.Class) objdiff.Owner {
	o := objdiff.Owner{Manager: manager, Operation: operation, Subresource: subresource, Class: class}
	if at != "" {
		o.Time = fixedTime(at)
	}
	return o
}

func deploymentObj(replicas int64, image string, labels map[string]any, env ...any) map[string]any {
	c := map[string]any{"name": "web", "image": image}
	if len(env) > 0 {
		c["env"] = env
	}
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web", "labels", labels),
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": strMap("app", "web")},
			"template": map[string]any{
				"metadata": map[string]any{"labels": strMap("app", "web")},
				"spec":     map[string]any{"containers": []any{c}},
			},
		},
	}
}

func serviceObj(labels map[string]any) map[string]any {
	md := meta("web")
	if labels != nil {
		md["labels"] = labels
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Service", "metadata": md,
		"spec": map[string]any{
			"selector": strMap("app", "web"),
			"ports":    []any{map[string]any{"port": int64(80), "protocol": "TCP", "targetPort": int64(8080)}},
		},
	}
}

func secretObj(data map[string]any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta("db"), "type": "Opaque", "data": data}
}

// goldenReport is a report with every status, as the engine returns it:
// sorted by group, kind, namespace and name, Secret values masked.
func goldenReport() *compare.Report {
	kubectlPatch := owner("kubectl-patch", "Update", "", "2026-11-21T11:00:00Z", objdiff.ClassHuman)
	kubectlLabel := owner("kubectl-label", "Update", "", "2026-11-21T09:30:00Z", objdiff.ClassHuman)
	kubectlScale := owner("kubectl", "Update", "scale", "", objdiff.ClassHuman)
	kubectlSet := owner("kubectl-set", "Update", "", "2026-11-22T16:45:00Z", objdiff.ClassHuman)
	kustomize := owner("kustomize-controller", "Apply", "", "2026-11-20T10:00:00Z", objdiff.ClassAgent)
	fluxLabels := strMap("app", "web", "kustomize.toolkit.fluxcd.io/name", "apps", "kustomize.toolkit.fluxcd.io/namespace", "flux-system")
	longValue := strings.Repeat("x", 80)
	return &compare.Report{
		Mode: compare.ModeServer,
		Objects: []compare.ObjectReport{
			{
				APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "app-config", Source: "config.yaml:1",
				Status: compare.StatusModified, FieldManager: "kustomize-controller",
				Changes: []objdiff.Change{
					{Path: objpath.Path{"data", "banner"}, Type: objdiff.Modified, Live: longValue, Desired: "short", Owners: []objdiff.Owner{kubectlPatch}},
					{Path: objpath.Path{"data", "level"}, Type: objdiff.Modified, Live: "debug", Desired: "info", Owners: []objdiff.Owner{kubectlPatch}},
				},
				Live:  configMapObj("app-config", strMap("banner", longValue, "level", "debug", "mode", "production")),
				After: configMapObj("app-config", strMap("banner", "short", "level", "info", "mode", "production")),
			},
			{
				APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "gone", Source: "config.yaml:9",
				Status: compare.StatusMissing, FieldManager: "kustomize-controller",
				After: configMapObj("gone", strMap("a", "b")),
			},
			{
				APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "paused", Source: "config.yaml:14",
				Status: compare.StatusSkipped, Reason: "kustomize.toolkit.fluxcd.io/reconcile: disabled",
			},
			{
				APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "stray",
				Status: compare.StatusExtraneous, Reason: "tracked by Flux Kustomization flux-system/apps, not in Git",
				Live: configMapObj("stray", strMap("x", "1")),
			},
			{
				APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "unchanged", Source: "config.yaml:20",
				Status: compare.StatusUnchanged, FieldManager: "kustomize-controller",
				Live:  configMapObj("unchanged", strMap("token", goldenCanary)),
				After: configMapObj("unchanged", strMap("token", goldenCanary)),
			},
			{
				APIVersion: "v1", Kind: "Secret", Namespace: "shop", Name: "db", Source: "secret.yaml:1",
				Status: compare.StatusModified, FieldManager: "kubectl-client-side-apply",
				Changes: []objdiff.Change{{
					Path: objpath.Path{"data", "password"}, Type: objdiff.Modified, Live: "*** (before)", Desired: "*** (after)",
					Owners: []objdiff.Owner{owner("kubectl-client-side-apply", "Update", "", "2026-11-20T10:00:00Z", objdiff.ClassAgent)},
				}},
				Live:  secretObj(strMap("password", "*** (before)", "user", "***")),
				After: secretObj(strMap("password", "*** (after)", "user", "***")),
			},
			{
				APIVersion: "v1", Kind: "Service", Namespace: "shop", Name: "web", Source: "web.yaml:20",
				Status: compare.StatusModified, FieldManager: "kustomize-controller",
				Changes: []objdiff.Change{{
					Path: objpath.Path{"metadata", "labels", "owner"}, Type: objdiff.Extra, Live: "alice",
					Owners: []objdiff.Owner{kubectlLabel}, Note: "added by another manager",
				}},
				Live:  serviceObj(strMap("owner", "alice")),
				After: serviceObj(nil),
			},
			{
				APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web", Source: "web.yaml:1",
				Status: compare.StatusModified, FieldManager: "kustomize-controller",
				Changes: []objdiff.Change{
					{Path: objpath.Path{"metadata", "labels", "kustomize.toolkit.fluxcd.io/name"}, Type: objdiff.Missing, Desired: "apps"},
					{Path: objpath.Path{"spec", "replicas"}, Type: objdiff.Modified, Live: int64(5), Desired: int64(2), Owners: []objdiff.Owner{kubectlScale}},
					{
						Path: objpath.Path{"spec", "template", "spec", "containers", 0, "image"}, Type: objdiff.Modified, Live: "nginx:1.28", Desired: "nginx:1.27",
						Owners: []objdiff.Owner{kubectlSet, kustomize},
					},
					{Path: objpath.Path{"spec", "template", "spec", "containers", 0, "env"}, Type: objdiff.Extra, Live: []any{strMap("name", "DEBUG", "value", "1")}},
				},
				Live:  deploymentObj(5, "nginx:1.28", strMap("app", "web"), strMap("name", "DEBUG", "value", "1")),
				After: deploymentObj(2, "nginx:1.27", fluxLabels),
			},
			{
				APIVersion: "example.com/v1", Kind: "Widget", Namespace: "shop", Name: "w", Source: "widget.yaml:1",
				Status: compare.StatusError, Reason: "kind not served by the API server: example.com/v1 Widget (is its CRD installed?)",
			},
		},
		Warnings: []string{"forbidden to list secrets in namespace shop: extraneous objects there are not detected"},
	}
}

func TestRenderGolden(t *testing.T) {
	t.Setenv("KUBECTL_EXTERNAL_DIFF", "")
	tests := []struct {
		name   string
		format string
		color  bool
	}{
		{"diff", "diff", false},
		{"diff-color", "diff", true},
		{"summary", "summary", false},
		{"json", "json", false},
		{"yaml", "yaml", false},
		{"markdown", "markdown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := render(&out, &errOut, goldenReport(), tt.format, tt.color, false); err != nil {
				t.Fatalf("render: %v", err)
			}
			golden.CheckString(t, "testdata/"+tt.name+".golden", out.String())
			if strings.Contains(out.String()+errOut.String(), goldenCanary) {
				t.Error("an unchanged object's content is in the output")
			}
			wantErr := ""
			if tt.format == "diff" {
				// Objects that could not be compared, on stderr.
				wantErr = "error: example.com/v1 Widget shop/w (widget.yaml:1): kind not served by the API server: example.com/v1 Widget (is its CRD installed?)\n"
			}
			if diff := cmp.Diff(wantErr, errOut.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			hasANSI := strings.Contains(out.String(), "\x1b[")
			if hasANSI != tt.color {
				t.Errorf("ANSI escapes in the output: %v, want %v", hasANSI, tt.color)
			}
		})
	}
}

// The JSON and YAML reports are the same document, readable back into the
// stable schema.
func TestRenderJSONAndYAMLAgree(t *testing.T) {
	t.Parallel()
	var j, y bytes.Buffer
	if err := render(&j, &bytes.Buffer{}, goldenReport(), "json", false, false); err != nil {
		t.Fatal(err)
	}
	if err := render(&y, &bytes.Buffer{}, goldenReport(), "yaml", false, false); err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML JSONReport
	if err := json.Unmarshal(j.Bytes(), &fromJSON); err != nil {
		t.Fatalf("-o json: %v", err)
	}
	if err := yaml.Unmarshal(y.Bytes(), &fromYAML); err != nil {
		t.Fatalf("-o yaml: %v", err)
	}
	if diff := cmp.Diff(fromJSON, fromYAML); diff != "" {
		t.Errorf("json and yaml reports differ (-json +yaml):\n%s", diff)
	}
	want := map[string]int{"unchanged": 1, "modified": 4, "missing": 1, "extraneous": 1, "skipped": 1, "error": 1}
	if diff := cmp.Diff(want, fromJSON.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func TestRenderEmptyReport(t *testing.T) {
	t.Setenv("KUBECTL_EXTERNAL_DIFF", "")
	tests := []struct {
		format string
		want   string
	}{
		{"diff", ""},
		{"summary", "KIND  NAMESPACE  NAME  STATUS  CHANGED  WHO\n0 objects: 0 unchanged, 0 modified, 0 missing, 0 extraneous, 0 skipped, 0 errors\n"},
		{"markdown", "### kubectl gitops drift\n\nNo drift: the cluster matches Git.\n\n0 objects: 0 unchanged, 0 modified, 0 missing, 0 extraneous, 0 skipped, 0 errors\n\n| Kind | Namespace | Name | Status | Changed | Who |\n|---|---|---|---|---|---|\n"},
		{"json", `{
  "apiVersion": "gitops.kubectl-gitops.dev/v1alpha1",
  "kind": "DriftReport",
  "mode": "local",
  "summary": {
    "error": 0,
    "extraneous": 0,
    "missing": 0,
    "modified": 0,
    "skipped": 0,
    "unchanged": 0
  },
  "objects": []
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var out bytes.Buffer
			if err := render(&out, &bytes.Buffer{}, &compare.Report{Mode: compare.ModeLocal}, tt.format, false, false); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Values are shown as JSON: markup characters must stay readable, and a
// long value is cut on a character boundary.
func TestDescribeChangeValues(t *testing.T) {
	t.Parallel()
	got := describeChange(objdiff.Change{Path: objpath.Path{"data", "url"}, Type: objdiff.Missing, Desired: "https://example.com/?a=1&b=<2>"})
	if want := `data.url: missing in the cluster (Git: "https://example.com/?a=1&b=<2>")`; got != want {
		t.Errorf("describeChange = %q, want %q", got, want)
	}
	got = describeChange(objdiff.Change{Path: objpath.Path{"data", "motd"}, Type: objdiff.Missing, Desired: "a" + strings.Repeat("é", 80)})
	if !utf8.ValidString(got) || !strings.HasSuffix(got, `...)`) {
		t.Errorf("describeChange = %q: want valid UTF-8 ending in ...)", got)
	}
}
