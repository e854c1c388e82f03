package remediate

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, controlplane.Options{}))
}

func kubectl(t *testing.T, cp *controlplane.ControlPlane, stdin string, args ...string) {
	t.Helper()
	cmd := cp.Kubectl(t.Context(), args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fixtures returns Git's objects for namespace ns, tracked by a Flux
// Kustomization named after it.
func fixtures(ns string) string {
	fluxLabels := flux(ns)
	return `apiVersion: v1
kind: Namespace
metadata: {name: ` + ns + `, labels: ` + fluxLabels + `}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: ` + ns + `, labels: ` + fluxLabels + `}
data: {mode: production, level: info}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gone, namespace: ` + ns + `, labels: ` + fluxLabels + `}
data: {a: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ` + ns + `, labels: ` + fluxLabels + `}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.27"}
`
}

func flux(name string) string {
	return `{kustomize.toolkit.fluxcd.io/name: ` + name + `, kustomize.toolkit.fluxcd.io/namespace: flux-system}`
}

func desiredOf(t *testing.T, docs string) []compare.Desired {
	t.Helper()
	var out []compare.Desired
	for i, doc := range strings.Split(docs, "\n---\n") {
		out = append(out, compare.Desired{Object: &unstructured.Unstructured{Object: obj(t, doc)}, Source: "git.yaml:" + string(rune('1'+i))})
	}
	return out
}

func statuses(rep *compare.Report) []string {
	var out []string
	for _, o := range rep.Objects {
		if o.Status != compare.StatusUnchanged {
			out = append(out, o.Kind+"/"+o.Name+" "+string(o.Status))
		}
	}
	sort.Strings(out)
	return out
}

func outcomes(os []Outcome) []string {
	var out []string
	for _, o := range os {
		line := o.Kind + "/" + o.Name + " " + string(o.Action)
		if len(o.Conflicts) > 0 {
			line += " " + strings.Join(o.ConflictManagers(), ",")
		}
		if len(o.Removed) > 0 {
			line += " removed " + strings.Join(o.Removed, ",")
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// TestFixAndPrune drifts a Flux-style set the ways people do, then: a fix
// without --force-conflicts changes nothing where people own fields (and
// says who), one with it brings every object back — the label another
// manager added included — and prune deletes the extraneous object; the
// comparison then finds no drift, in both modes.
func TestFixAndPrune(t *testing.T) {
	cp := controlplane.ForTest(t)
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []compare.Mode{compare.ModeServer, compare.ModeLocal} {
		t.Run(string(mode), func(t *testing.T) {
			ns := "fix-" + string(mode)
			git := fixtures(ns)
			kubectl(t, cp, git, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
			kubectl(t, cp, "", "patch", "-n", ns, "configmap/cfg", "-p", `{"data":{"mode":"debug"}}`)
			kubectl(t, cp, "", "label", "-n", ns, "configmap/cfg", "hotfix=yes")
			kubectl(t, cp, "", "scale", "-n", ns, "deployment/web", "--replicas=4")
			kubectl(t, cp, "", "delete", "-n", ns, "configmap/gone")
			kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata: {name: stray, namespace: `+ns+`, labels: `+flux(ns)+`}
`, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")

			desired := desiredOf(t, git)
			engine := &compare.Engine{Reader: client, Applier: client}
			run := func() *compare.Report {
				t.Helper()
				rep, err := engine.Run(t.Context(), desired, compare.Options{Mode: mode})
				if err != nil {
					t.Fatal(err)
				}
				return rep
			}
			rep := run()
			want := []string{"ConfigMap/cfg modified", "ConfigMap/gone missing", "ConfigMap/stray extraneous", "Deployment/web modified"}
			if diff := cmp.Diff(want, statuses(rep)); diff != "" {
				t.Fatalf("drift before fixing (-want +got):\n%s", diff)
			}
			if ToFix(rep) != 3 || ToPrune(rep) != 1 {
				t.Errorf("ToFix = %d, ToPrune = %d, want 3 and 1", ToFix(rep), ToPrune(rep))
			}

			// Without force: conflicts, and nothing changed on those objects.
			got, err := Fix(t.Context(), client, rep, desired, Options{})
			if err != nil {
				t.Fatal(err)
			}
			wantOutcomes := []string{"ConfigMap/cfg conflict kubectl-patch", "ConfigMap/gone applied", "Deployment/web conflict kubectl"}
			if diff := cmp.Diff(wantOutcomes, outcomes(got)); diff != "" {
				t.Errorf("fix without force (-want +got):\n%s", diff)
			}
			cfg := get(t, client, "v1", "ConfigMap", ns, "cfg")
			if cfg.GetLabels()["hotfix"] != "yes" {
				t.Error("a conflicting fix removed the foreign label anyway")
			}
			if diff := cmp.Diff([]string{"ConfigMap/cfg modified", "ConfigMap/stray extraneous", "Deployment/web modified"}, statuses(run())); diff != "" {
				t.Errorf("drift after a fix without force (-want +got):\n%s", diff)
			}

			// With force.
			got, err = Fix(t.Context(), client, run(), desired, Options{ForceConflicts: true})
			if err != nil {
				t.Fatal(err)
			}
			wantOutcomes = []string{`ConfigMap/cfg applied removed metadata.labels.hotfix`, "Deployment/web applied"}
			if diff := cmp.Diff(wantOutcomes, outcomes(got)); diff != "" {
				t.Errorf("fix with force (-want +got):\n%s", diff)
			}
			for _, o := range got {
				if o.FieldManager != "kustomize-controller" {
					t.Errorf("%s applied as %q, want the agent's manager kustomize-controller", o.ID(), o.FieldManager)
				}
			}
			rep = run()
			if diff := cmp.Diff([]string{"ConfigMap/stray extraneous"}, statuses(rep)); diff != "" {
				t.Errorf("drift after fixing (-want +got):\n%s", diff)
			}

			pruned, err := Prune(t.Context(), client, rep, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"ConfigMap/stray deleted"}, outcomes(pruned)); diff != "" {
				t.Errorf("prune (-want +got):\n%s", diff)
			}
			if rep := run(); rep.Drifted() {
				t.Errorf("still drifted after fix and prune: %v", statuses(rep))
			}
			// Pruning again: already gone.
			again, err := Prune(t.Context(), client, rep, Options{})
			if err != nil || len(again) != 1 || again[0].Action != ActionSkipped {
				t.Errorf("second prune = %+v, %v", again, err)
			}
		})
	}
}

// TestFixRefusesChangedObjects: a foreign field that changed since the
// comparison is not removed.
func TestFixRefusesChangedObjects(t *testing.T) {
	cp := controlplane.ForTest(t)
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ns := "fix-changed"
	git := fixtures(ns)
	kubectl(t, cp, git, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	kubectl(t, cp, "", "label", "-n", ns, "configmap/cfg", "hotfix=yes")
	desired := desiredOf(t, git)
	rep, err := (&compare.Engine{Reader: client, Applier: client}).Run(t.Context(), desired, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, cp, "", "label", "--overwrite", "-n", ns, "configmap/cfg", "hotfix=no")
	got, err := Fix(t.Context(), client, rep, desired, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Action != ActionFailed || !strings.Contains(got[0].Message, "changed since it was compared") {
		t.Fatalf("outcomes = %+v", got)
	}
	if l := get(t, client, "v1", "ConfigMap", ns, "cfg").GetLabels()["hotfix"]; l != "no" {
		t.Errorf("hotfix label = %q, want it untouched", l)
	}
}

func get(t *testing.T, c *cluster.Client, apiVersion, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	gv, _ := schema.ParseGroupVersion(apiVersion)
	m, err := c.Mapping(context.Background(), gv.WithKind(kind))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Get(t.Context(), m, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestForeignFields: only fields applying cannot remove are patched away.
func TestForeignFields(t *testing.T) {
	t.Parallel()
	agent := objdiff.Owner{Manager: "kustomize-controller", Operation: "Apply"}
	human := objdiff.Owner{Manager: "kubectl-label", Operation: "Update"}
	otherAgent := objdiff.Owner{Manager: "argocd-controller", Operation: "Apply"}
	r := &compare.ObjectReport{Status: compare.StatusModified, Changes: []objdiff.Change{
		{Path: p("metadata", "labels", "a"), Type: objdiff.Extra, Owners: []objdiff.Owner{human}},
		{Path: p("metadata", "labels", "b"), Type: objdiff.Extra, Owners: []objdiff.Owner{agent}},
		{Path: p("metadata", "labels", "c"), Type: objdiff.Extra},
		{Path: p("metadata", "labels", "d"), Type: objdiff.Extra, Owners: []objdiff.Owner{otherAgent}},
		{Path: p("data", "x"), Type: objdiff.Modified, Owners: []objdiff.Owner{human}},
	}}
	var got []string
	for _, c := range foreignFields(r, "kustomize-controller") {
		got = append(got, c.Path.String())
	}
	if diff := cmp.Diff([]string{"metadata.labels.a", "metadata.labels.d"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSameAsReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reported, live any
		want           bool
	}{
		{"yes", "yes", true},
		{"yes", "no", false},
		{int64(2), float64(2), true},
		{"***", "s3cr3t", true},
		{"***", int64(1), false},
		{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "A", "value": "1"}, true},
		{map[string]any{"name": "A"}, map[string]any{"name": "A", "value": "1"}, false},
		{[]any{"a"}, []any{"a", "b"}, false},
	}
	for _, tt := range tests {
		if got := sameAsReported(tt.reported, tt.live); got != tt.want {
			t.Errorf("sameAsReported(%v, %v) = %v, want %v", tt.reported, tt.live, got, tt.want)
		}
	}
}
