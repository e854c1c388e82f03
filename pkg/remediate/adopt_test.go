package remediate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

var obj = builders.YAMLMap

func p(elems ...any) objpath.Path { return objpath.Path(elems) }

func modified(path objpath.Path, live, desired any) objdiff.Change {
	return objdiff.Change{Path: path, Type: objdiff.Modified, Live: live, Desired: desired}
}

func extra(path objpath.Path, live any) objdiff.Change {
	return objdiff.Change{Path: path, Type: objdiff.Extra, Live: live, Note: "added by another manager",
		Owners: []objdiff.Owner{{Manager: "kubectl-label", Operation: "Update", Class: objdiff.ClassHuman}}}
}

func missing(path objpath.Path, desired any) objdiff.Change {
	return objdiff.Change{Path: path, Type: objdiff.Missing, Desired: desired}
}

// object is a modified object declared at file:line with live state live.
type object struct {
	file, kind, apiVersion, ns, name string
	line                             int
	status                           compare.Status
	live, after                      string
	changes                          []objdiff.Change
}

const deployment = `# The web front end.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web   # selector label
    tier: frontend
spec:
  replicas: 2 # scaled by hand in emergencies only

  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: "nginx:1.27"
        args: ['--port', '8080']
        env:
        - name: MODE
          value: production
        ports:
        - containerPort: 8080
---
# Its service.
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`

const deploymentLive = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, tier: frontend, hotfix: "yes"}
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: istio-proxy
        image: istio/proxyv2
      - name: web
        image: nginx:1.28
        args: ['--port', '8080']
        env:
        - {name: MODE, value: debug}
        - {name: TRACE, value: "on"}
        ports:
        - containerPort: 8080
          protocol: TCP
`

func TestAdoptGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		objects []object
	}{
		{
			name:  "block style, comments kept, list items by name",
			files: map[string]string{"web.yaml": deployment},
			objects: []object{{
				file: "web.yaml", line: 2, kind: "Deployment", apiVersion: "apps/v1", ns: "shop", name: "web",
				live: deploymentLive,
				changes: []objdiff.Change{
					extra(p("metadata", "labels", "hotfix"), "yes"),
					modified(p("spec", "replicas"), int64(4), int64(2)),
					modified(p("spec", "template", "spec", "containers", 1, "env", 0, "value"), "debug", "production"),
					extra(p("spec", "template", "spec", "containers", 1, "env", 1), map[string]any{"name": "TRACE", "value": "on"}),
					modified(p("spec", "template", "spec", "containers", 1, "image"), "nginx:1.28", "nginx:1.27"),
				},
			}},
		},
		{
			name: "flow style",
			files: map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop, labels: {team: a}}
data: {mode: production, level: info, "port": "8080"}
`},
			objects: []object{{
				file: "cm.yaml", line: 1, kind: "ConfigMap", apiVersion: "v1", ns: "shop", name: "cfg",
				live: `{apiVersion: v1, kind: ConfigMap, metadata: {name: cfg, namespace: shop, labels: {team: a, owner: "bob, alice"}}, data: {mode: debug, port: "8081"}}`,
				changes: []objdiff.Change{
					extra(p("metadata", "labels", "owner"), "bob, alice"),
					modified(p("data", "mode"), "debug", "production"),
					missing(p("data", "level"), "info"),
					modified(p("data", "port"), "8081", "8080"),
				},
			}},
		},
		{
			name: "values that need quoting, a new parent, a removed last key",
			files: map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  labels:
    gone: "x"
data:
  enabled: "false"
  mode: '0644'
  script: |
    echo one
    echo two
`},
			objects: []object{{
				file: "cm.yaml", line: 1, kind: "ConfigMap", apiVersion: "v1", ns: "default", name: "cfg",
				live: `{apiVersion: v1, kind: ConfigMap, metadata: {name: cfg, annotations: {a.example.com/yes: "yes", a.example.com/num: "1.0"}}, data: {enabled: "on", mode: "0755", script: "echo three\nexit 0\n", empty: ""}}`,
				changes: []objdiff.Change{
					extra(p("metadata", "annotations", "a.example.com/yes"), "yes"),
					extra(p("metadata", "annotations", "a.example.com/num"), "1.0"),
					missing(p("metadata", "labels", "gone"), "x"),
					modified(p("data", "enabled"), "on", "false"),
					modified(p("data", "mode"), "0755", "0644"),
					modified(p("data", "script"), "echo three\nexit 0\n", "echo one\necho two\n"),
					extra(p("data", "empty"), ""),
				},
			}},
		},
		{
			name:  "second document of three, CRLF line endings kept",
			files: map[string]string{"all.yaml": "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: a}\r\ndata: {k: v}\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: b\r\ndata:\r\n  k: v\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: c}\r\ndata: {k: v}\r\n"},
			objects: []object{{
				file: "all.yaml", line: 6, kind: "ConfigMap", apiVersion: "v1", ns: "default", name: "b",
				live:    `{apiVersion: v1, kind: ConfigMap, metadata: {name: b}, data: {k: w, n: "2"}}`,
				changes: []objdiff.Change{modified(p("data", "k"), "w", "v"), extra(p("data", "n"), "2")},
			}},
		},
		{
			name: "lists: a removed item, a removed first key of an item, a replaced list",
			files: map[string]string{"pod.yaml": `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: app:1
    args:
    - --verbose
    - --port=80
    env:
    - name: A
      value: "1"
    - name: B
      value: "2"
  tolerations:
  - key: spot
    operator: Exists
  - {key: gpu, operator: Exists}
`},
			objects: []object{{
				file: "pod.yaml", line: 1, kind: "Pod", apiVersion: "v1", ns: "default", name: "p",
				live:  `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: app, image: "app:1", args: ["--port=8080"], env: [{name: A, value: "1"}]}], tolerations: [{operator: Exists}, {key: gpu, operator: Exists}]}}`,
				after: `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: app, image: "app:1", args: ["--verbose", "--port=80"], env: [{name: A, value: "1"}, {name: B, value: "2"}]}], tolerations: [{key: spot, operator: Exists}, {key: gpu, operator: Exists}]}}`,
				changes: []objdiff.Change{
					modified(p("spec", "containers", 0, "args"), []any{"--port=8080"}, []any{"--verbose", "--port=80"}),
					missing(p("spec", "containers", 0, "env", 1), map[string]any{"name": "B", "value": "2"}),
					missing(p("spec", "tolerations", 0, "key"), "spot"),
				},
			}},
		},
		{
			name: "anchors and aliases are not edited",
			files: map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  a: &x one
  b: *x
  c: three
`},
			objects: []object{{
				file: "cm.yaml", line: 1, kind: "ConfigMap", apiVersion: "v1", ns: "default", name: "cfg",
				live: `{apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}, data: {a: uno, b: dos, c: tres}}`,
				changes: []objdiff.Change{
					modified(p("data", "a"), "uno", "one"),
					modified(p("data", "b"), "dos", "one"),
					modified(p("data", "c"), "tres", "three"),
				},
			}},
		},
		{
			name: "a List item",
			files: map[string]string{"list.yaml": `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
  data:
    k: v
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
  data:
    k: v # keep me
`},
			objects: []object{{
				file: "list.yaml", line: 9, kind: "ConfigMap", apiVersion: "v1", ns: "default", name: "b",
				live:    `{apiVersion: v1, kind: ConfigMap, metadata: {name: b}, data: {k: w}}`,
				changes: []objdiff.Change{modified(p("data", "k"), "w", "v")},
			}},
		},
		{
			name: "refused: secrets, kustomize, stdin, masked values, missing objects, fields Git does not set",
			files: map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {k: v}
`},
			objects: []object{
				{file: "cm.yaml", line: 1, kind: "ConfigMap", apiVersion: "v1", ns: "default", name: "cfg",
					live: `{apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}, data: {k: "token=***"}}`,
					changes: []objdiff.Change{
						modified(p("data", "k"), "token=***", "v"),
						missing(p("metadata", "labels", "x"), "y"),
					}},
				{file: "secret.yaml", line: 1, kind: "Secret", apiVersion: "v1", ns: "default", name: "creds",
					changes: []objdiff.Change{modified(p("data", "password"), "*** (before)", "*** (after)")}},
				{file: "overlays/prod (kustomize)", kind: "ConfigMap", apiVersion: "v1", ns: "default", name: "k",
					changes: []objdiff.Change{modified(p("data", "k"), "a", "b")}},
				{file: "-", line: 3, kind: "ConfigMap", apiVersion: "v1", ns: "default", name: "s",
					changes: []objdiff.Change{modified(p("data", "k"), "a", "b")}},
				{file: "cm.yaml", line: 9, kind: "ConfigMap", apiVersion: "v1", ns: "default", name: "gone", status: compare.StatusMissing},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			rep := &compare.Report{Mode: compare.ModeServer}
			for _, o := range tt.objects {
				src := o.file
				if !strings.HasSuffix(src, "(kustomize)") && src != "-" {
					src = filepath.Join(dir, o.file)
				}
				if o.line > 0 {
					src += fmt.Sprintf(":%d", o.line)
				}
				st := o.status
				if st == "" {
					st = compare.StatusModified
				}
				r := compare.ObjectReport{APIVersion: o.apiVersion, Kind: o.kind, Namespace: o.ns, Name: o.name, Source: src, Status: st, Changes: o.changes}
				if o.live != "" {
					r.Live = obj(t, o.live)
				}
				if o.after != "" {
					r.After = obj(t, o.after)
				}
				rep.Objects = append(rep.Objects, r)
			}
			a, err := Adopt(t.Context(), rep)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(render(a), dir+string(filepath.Separator), "")
			got = strings.ReplaceAll(got, "\r", "␍")
			golden.CheckString(t, filepath.Join("testdata", "adopt", strings.NewReplacer(" ", "-", ",", "", ":", "").Replace(tt.name)+".golden"), got)

			// Nothing is written before Write; Write keeps the mode.
			for name, content := range tt.files {
				b, _ := os.ReadFile(filepath.Join(dir, name))
				if string(b) != content {
					t.Fatalf("%s changed before Write", name)
				}
			}
			if err := a.Write(); err != nil {
				t.Fatal(err)
			}
			for _, f := range a.Files {
				b, _ := os.ReadFile(f.Path)
				st, _ := os.Stat(f.Path)
				if string(b) != string(f.After) || st.Mode().Perm() != 0o640 {
					t.Errorf("%s: written %q mode %v", f.Path, b, st.Mode().Perm())
				}
			}
		})
	}
}

// render shows an adoption for a golden file: the patch, then the adopted
// fields and the refusals.
func render(a *Adoption) string {
	var b strings.Builder
	b.WriteString(a.Diff())
	b.WriteString("# adopted\n")
	for _, f := range a.Adopted {
		fmt.Fprintf(&b, "%s %s\n", f.Object, f.Field)
	}
	b.WriteString("# refused\n")
	for _, r := range a.Refused {
		fmt.Fprintf(&b, "%s %s: %s\n", r.Object, r.Field, r.Reason)
	}
	return b.String()
}

// TestRenderRoundTrip: every rendered value reads back as itself, with
// kubectl's YAML 1.1 reader and a YAML 1.2 one, in block and flow context.
func TestRenderRoundTrip(t *testing.T) {
	t.Parallel()
	values := []any{
		"yes", "no", "on", "off", "y", "n", "Y", "true", "True", "null", "~", "", " lead", "trail ", "1", "1.0", "0644", "0x1F",
		"1e3", "1_000", "2024-01-01", "a: b", "a #b", "#x", "-x", "- x", "-", "?x", ":x", "@x", "`x", "{x}", "[x]", "a,b", "x:",
		"'q'", `"q"`, "é ü", "tab\there", "multi\nline\n", "multi\nline", "\nlead", "---", "...", "nginx:1.27", "*", "&a", "!t", "%p", "|", ">",
		int64(0), int64(-3), float64(1.5), float64(1e21), true, false, nil,
		map[string]any{}, []any{}, map[string]any{"yes": "no", "a b": []any{"x", int64(1)}}, []any{map[string]any{"name": "A", "value": "on"}, []any{"n"}},
	}
	for _, v := range values {
		for _, doc := range []string{
			"k: " + inline(v, false, 0),
			"k: {v: " + inline(v, true, 0) + "}",
			"k:" + afterKey(v, 0),
			"k:\n-" + " " + afterDash(v, 2),
			block(map[string]any{"v": v}, 0),
		} {
			var got map[string]any
			doc += "\n" // as in a file: a line break ends the value
			if err := sigsyaml.Unmarshal([]byte(doc), &got); err != nil {
				t.Errorf("%q: %v", doc, err)
				continue
			}
			var v3 map[string]any
			if err := yaml.Unmarshal([]byte(doc), &v3); err != nil {
				t.Errorf("%q: yaml.v3: %v", doc, err)
			}
			var want any
			switch {
			case strings.HasPrefix(doc, "k: {v:"):
				want = map[string]any{"k": map[string]any{"v": v}}
			case strings.HasPrefix(doc, "k:\n-"):
				want = map[string]any{"k": []any{v}}
			case strings.HasPrefix(doc, "k"):
				want = map[string]any{"k": v}
			default:
				want = map[string]any{"v": v}
			}
			if !objdiff.Equal(want, got) {
				t.Errorf("%v rendered as %q reads back as %v", v, doc, got)
			}
		}
	}
}

// A reordered list is not adopted (the file is left as it is): the order
// is refused, with a reason, rather than reported as adopted.
func TestAdoptRefusesListOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	content := "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: app\n    env: [{name: B, value: \"2\"}, {name: A, value: \"1\"}]\n"
	if err := os.WriteFile(file, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	envPath := p("spec", "containers", 0, "env")
	rep := &compare.Report{Mode: compare.ModeServer, Objects: []compare.ObjectReport{{
		APIVersion: "v1", Kind: "Pod", Namespace: "default", Name: "web", Source: file + ":1", Status: compare.StatusModified,
		Live:    obj(t, `{apiVersion: v1, kind: Pod, metadata: {name: web}, spec: {containers: [{name: app, env: [{name: A, value: "1"}, {name: B, value: "2"}]}]}}`),
		Changes: []objdiff.Change{{Path: envPath, Type: objdiff.Reordered, Live: []any{"A", "B"}, Desired: []any{"B", "A"}}},
	}}}
	a, err := Adopt(t.Context(), rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Adopted) != 0 || len(a.Refused) != 1 || a.Refused[0].Field != envPath.String() {
		t.Errorf("adopted %v, refused %v: want the order refused", a.Adopted, a.Refused)
	}
	if a.Diff() != "" {
		t.Errorf("a diff for a refused order:\n%s", a.Diff())
	}
}
