package ignore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

func TestBuiltinOnObjects(t *testing.T) {
	tests := []struct {
		file         string
		wantRules    []string
		wantStripped []string // JSON pointers Strip deletes
		// wantOwned: paths of rules with OwnedBy, which Strip leaves to
		// the caller, by rule name.
		wantOwned map[string][]string
	}{
		{
			file:      "deployment-live.yaml",
			wantRules: []string{"hpa-replicas", "deployment-revision", "last-applied", "flux-reconcile-requested"},
			wantStripped: []string{
				"/metadata/annotations/deployment.kubernetes.io~1revision",
				"/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
				"/metadata/annotations/reconcile.fluxcd.io~1requestedAt",
			},
			wantOwned: map[string][]string{"hpa-replicas": {"/spec/replicas"}},
		},
		{
			file:         "mutating-webhook.yaml",
			wantRules:    []string{"webhook-ca-bundle", "last-applied", "flux-reconcile-requested"},
			wantStripped: []string{"/webhooks/0/clientConfig/caBundle", "/webhooks/1/clientConfig/caBundle"},
		},
		{
			file:      "validating-webhook-empty.yaml",
			wantRules: []string{"webhook-ca-bundle", "last-applied", "flux-reconcile-requested"},
		},
		{
			file:         "crd.yaml",
			wantRules:    []string{"webhook-ca-bundle", "last-applied", "flux-reconcile-requested"},
			wantStripped: []string{"/spec/conversion/webhook/clientConfig/caBundle"},
		},
		{
			file:         "apiservice.yaml",
			wantRules:    []string{"webhook-ca-bundle", "last-applied", "flux-reconcile-requested"},
			wantStripped: []string{"/spec/caBundle"},
		},
		{
			file:         "namespace.yaml",
			wantRules:    []string{"last-applied", "namespace-name-label", "flux-reconcile-requested"},
			wantStripped: []string{"/metadata/labels/kubernetes.io~1metadata.name"},
		},
		{
			file:         "clusterrole-aggregated.yaml",
			wantRules:    []string{"last-applied", "aggregated-cluster-role-rules", "flux-reconcile-requested"},
			wantStripped: []string{"/rules"},
		},
		{
			file:      "clusterrole-plain.yaml",
			wantRules: []string{"last-applied", "flux-reconcile-requested"},
		},
		{
			file:         "service.yaml",
			wantRules:    []string{"last-applied", "service-cluster-ip", "flux-reconcile-requested"},
			wantStripped: []string{"/spec/clusterIP", "/spec/clusterIPs"},
		},
		{
			file:         "application.yaml",
			wantRules:    []string{"last-applied", "argocd-refresh", "flux-reconcile-requested"},
			wantStripped: []string{"/metadata/annotations/argocd.argoproj.io~1refresh"},
		},
		{
			file:         "configmap.yaml",
			wantRules:    []string{"last-applied", "flux-reconcile-requested"},
			wantStripped: []string{"/metadata/annotations/reconcile.fluxcd.io~1requestedAt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			u := loadObject(t, filepath.Join("objects", tt.file))
			rules := Builtin().Match(u)
			if diff := cmp.Diff(tt.wantRules, names(rules)); diff != "" {
				t.Fatalf("matched rules mismatch (-want +got):\n%s", diff)
			}
			before := u.DeepCopy()
			owned := map[string][]string{}
			for _, r := range rules {
				if len(r.OwnedBy) == 0 {
					continue
				}
				ps, err := r.Paths(context.Background(), u.Object)
				if err != nil {
					t.Fatal(err)
				}
				owned[r.Name] = pointers(ps)
			}
			if diff := cmp.Diff(tt.wantOwned, owned, cmpEmptyMap); diff != "" {
				t.Errorf("OwnedBy paths mismatch (-want +got):\n%s", diff)
			}
			stripped, err := Strip(context.Background(), u.Object, rules)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantStripped, pointers(stripped)); diff != "" {
				t.Errorf("stripped paths mismatch (-want +got):\n%s", diff)
			}
			for _, p := range stripped {
				if exists(u, p.Pointer()) {
					t.Errorf("%s still there after Strip", p.Pointer())
				}
				if !exists(before, p.Pointer()) {
					t.Errorf("%s reported stripped but was never there", p.Pointer())
				}
			}
		})
	}
}

var cmpEmptyMap = cmp.FilterValues(func(a, b map[string][]string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

// exists reports whether u has a value at the JSON pointer ptr.
func exists(u *unstructured.Unstructured, ptr string) bool {
	p, err := objpath.ParsePointer(ptr, u.Object)
	if err != nil {
		return false
	}
	_, ok := objpath.Get(u.Object, p)
	return ok
}

// TestBuiltinGolden pins the builtin rules: their names are an interface
// (users refer to them), the rest is reviewed in testdata/builtin.golden.
func TestBuiltinGolden(t *testing.T) {
	var b strings.Builder
	for _, r := range Builtin().Rules() {
		fmt.Fprintf(&b, "%s (%s)\n  %s\n", r.Name, r.Source, r.Description)
		for i := range r.Targets {
			fmt.Fprintf(&b, "  target: %s\n", r.Targets[i].String())
		}
		for _, p := range r.JSONPointers {
			fmt.Fprintf(&b, "  pointer: %s\n", p)
		}
		for _, q := range r.JQPathExpressions {
			fmt.Fprintf(&b, "  jq: %s\n", q)
		}
		if len(r.OwnedBy) > 0 {
			fmt.Fprintf(&b, "  owned by: %s\n", strings.Join(r.OwnedBy, ", "))
		}
	}
	golden.CheckString(t, filepath.Join("testdata", "builtin.golden"), b.String())
}

// TestBuiltinDocumented checks that the package documentation's table lists
// every builtin rule.
func TestBuiltinDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range Builtin().Rules() {
		if seen[r.Name] {
			t.Errorf("two builtin rules named %s", r.Name)
		}
		seen[r.Name] = true
		if !strings.Contains(string(doc), "//\t"+r.Name+" ") {
			t.Errorf("builtin rule %s is missing from the table in doc.go", r.Name)
		}
		if r.Source != BuiltinSource || r.Description == "" || len(r.Targets) == 0 {
			t.Errorf("builtin rule %s: source %q, description %q, %d targets", r.Name, r.Source, r.Description, len(r.Targets))
		}
	}
}

// TestBuiltinFresh checks that every call returns rules of its own.
func TestBuiltinFresh(t *testing.T) {
	a := Builtin().Rules()
	a[0].JSONPointers = nil
	if b := Builtin().Rules(); len(b[0].JSONPointers) == 0 {
		t.Error("changing one Builtin() set changed another")
	}
}
