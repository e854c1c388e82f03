package remediate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestFixNeverWritesObjectsInError: an object Git declares twice is in
// error, and its first declaration, which compares as missing, is not
// created either.
func TestFixNeverWritesObjectsInError(t *testing.T) {
	cp := controlplane.ForTest(t)
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ns := "fix-twice"
	ns = cp.Namespace(t, ns)
	git := `apiVersion: v1
kind: ConfigMap
metadata: {name: twice, namespace: ` + ns + `}
data: {copy: first}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: twice, namespace: ` + ns + `}
data: {copy: second}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: once, namespace: ` + ns + `}
data: {a: b}
`
	desired := desiredOf(t, git)
	rep, err := (&compare.Engine{Reader: client, Applier: client}).Run(t.Context(), desired, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ConfigMap/once missing", "ConfigMap/twice error", "ConfigMap/twice missing"}, statuses(rep)); diff != "" {
		t.Fatalf("comparison (-want +got):\n%s", diff)
	}
	got, err := Fix(t.Context(), client, rep, desired, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ConfigMap/once applied", "ConfigMap/twice failed"}, outcomes(got)); diff != "" {
		t.Errorf("fix (-want +got):\n%s", diff)
	}
	for _, o := range got {
		if o.Name == "twice" && !strings.Contains(o.Message, "declared twice") {
			t.Errorf("twice: message %q does not say why", o.Message)
		}
	}
	m, err := client.Mapping(t.Context(), get(t, client, "v1", "ConfigMap", ns, "once").GroupVersionKind())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(t.Context(), m, ns, "twice"); !cluster.IsNotFound(err) {
		t.Errorf("the object declared twice was written (get: %v)", err)
	}
}

// TestPruneNeverDeletesObjectsInError: an object the report lists both as
// extraneous and in error (Git declares it, but its declaration could not
// be compared) is not deleted.
func TestPruneNeverDeletesObjectsInError(t *testing.T) {
	cp := controlplane.ForTest(t)
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ns := "prune-errored"
	ns = cp.Namespace(t, ns)
	kubectl(t, cp, "", "create", "configmap", "-n", ns, "declared")
	kubectl(t, cp, "", "create", "configmap", "-n", ns, "stray")
	rep := &compare.Report{Objects: []compare.ObjectReport{
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "declared", Source: "git.yaml:1", Status: compare.StatusError, Reason: "declared twice in Git (also at git.yaml:5)"},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "declared", Status: compare.StatusExtraneous},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "stray", Status: compare.StatusExtraneous},
	}}
	got, err := Prune(t.Context(), client, rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ConfigMap/declared failed", "ConfigMap/stray deleted"}, outcomes(got)); diff != "" {
		t.Errorf("prune (-want +got):\n%s", diff)
	}
	get(t, client, "v1", "ConfigMap", ns, "declared") // fails the test when deleted
}
