package tenancy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

func loadExample(t *testing.T) []*Tenant {
	t.Helper()
	data, err := os.ReadFile("testdata/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tenants, err := Parse("tenants.yaml", data)
	if err != nil {
		t.Fatalf("parsing the example: %v", err)
	}
	return tenants
}

// concat joins rendered files into one golden text with file headers.
func concat(files []RenderedFile) []byte {
	var b bytes.Buffer
	for _, f := range files {
		b.WriteString("=== " + f.Path + "\n")
		b.Write(f.Data)
	}
	return b.Bytes()
}

func TestRenderGolden(t *testing.T) {
	for _, tn := range loadExample(t) {
		t.Run(tn.Name, func(t *testing.T) {
			files, err := Render(tn)
			if err != nil {
				t.Fatal(err)
			}
			// An environment's overlay kustomization.yaml is shared by the
			// tenants: it is edited, not rendered; here from scratch.
			for _, env := range tn.Flux.Environments {
				data, err := EditOverlay(nil, []*Tenant{tn}, nil)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, RenderedFile{Path: env + "/" + FileKustomization, Data: data})
			}
			got := concat(files)
			golden.Check(t, filepath.Join("testdata", tn.Name+".golden"), got)
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	first := loadExample(t)
	for i := 0; i < 5; i++ {
		again := loadExample(t)
		for j := range first {
			a, err := Render(first[j])
			if err != nil {
				t.Fatal(err)
			}
			b, err := Render(again[j])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(concat(a), concat(b)) {
				t.Fatalf("render %d of %s differs", i, first[j].Name)
			}
		}
	}
}

func TestRenderedSpecRoundTrips(t *testing.T) {
	for _, tn := range loadExample(t) {
		files, err := Render(tn)
		if err != nil {
			t.Fatal(err)
		}
		var spec []byte
		for _, f := range files {
			if strings.HasSuffix(f.Path, "/"+FileSpec) {
				spec = f.Data
			}
		}
		back, err := Parse(FileSpec, spec)
		if err != nil {
			t.Fatalf("%s: reading back the written spec: %v", tn.Name, err)
		}
		again, err := Render(back[0])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(concat(files)), string(concat(again))); diff != "" {
			t.Errorf("%s: render from the written spec differs (-first +second):\n%s", tn.Name, diff)
		}
	}
}

func TestCheckFile(t *testing.T) {
	files, err := Render(loadExample(t)[1])
	if err != nil {
		t.Fatal(err)
	}
	data := files[0].Data
	if got := CheckFile(data); got != Pristine {
		t.Errorf("generated file: %v, want Pristine", got)
	}
	edited := bytes.Replace(data, []byte("team-b"), []byte("team-x"), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("edit did not change the file")
	}
	if got := CheckFile(edited); got != Edited {
		t.Errorf("edited file: %v, want Edited", got)
	}
	if got := CheckFile([]byte("apiVersion: v1\nkind: Namespace\n")); got != Foreign {
		t.Errorf("hand-written file: %v, want Foreign", got)
	}
}

// TestReconcilerServiceAccount: a tenant that names its reconciler (Flux's
// reference layout uses the tenant's name) gets that ServiceAccount, Role
// and RoleBinding, and every reference to it uses the name.
func TestReconcilerServiceAccount(t *testing.T) {
	var tn *Tenant
	for _, x := range loadExample(t) {
		if x.Name == "team-c" {
			tn = x
		}
	}
	if tn == nil {
		t.Fatal("no team-c in the example")
	}
	if err := Validate([]*Tenant{tn}); err != nil {
		t.Fatal(err)
	}
	groups, err := Generate(tn)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, o := range Objects(groups) {
		switch o.GetKind() {
		case "ServiceAccount", "Role":
			named[o.GetKind()] = o.GetName() == "team-c"
		case "RoleBinding":
			if o.GetName() == OwnersBinding {
				continue
			}
			named["RoleBinding"] = o.GetName() == "team-c"
			ref, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
			subs, _, _ := unstructured.NestedSlice(o.Object, "subjects")
			if ref != "team-c" || len(subs) == 0 || subs[0].(map[string]any)["name"] != "team-c" {
				t.Errorf("reconciler RoleBinding: roleRef %q, subjects %v; want team-c", ref, subs)
			}
		case "Kustomization":
			sa, _, _ := unstructured.NestedString(o.Object, "spec", "serviceAccountName")
			named["Kustomization"] = sa == "team-c"
		case "AppProject":
			sas, _, _ := unstructured.NestedSlice(o.Object, "spec", "destinationServiceAccounts")
			named["AppProject"] = len(sas) == 1 && sas[0].(map[string]any)["defaultServiceAccount"] == "team-c"
		}
	}
	for _, k := range []string{"ServiceAccount", "Role", "RoleBinding", "Kustomization", "AppProject"} {
		if !named[k] {
			t.Errorf("%s does not use the reconciler name team-c", k)
		}
	}
	data, err := MarshalObjects(Objects(groups))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(ReconcilerName)) {
		t.Errorf("output still names %s:\n%s", ReconcilerName, data)
	}
	if got := Subjects(tn); got[len(got)-2].Name != "team-c" {
		t.Errorf("verify subjects %v: want the ServiceAccount team-c", got)
	}
}

// TestReconcilerServiceAccountInvalid: the name is a DNS-1123 subdomain.
func TestReconcilerServiceAccountInvalid(t *testing.T) {
	data := []byte("apiVersion: kubectl-gitops.io/v1alpha1\nkind: Tenants\ntenants:\n- name: t\n  namespaces: [t]\n  owners: {users: [u]}\n  reconcilerServiceAccount: Not_Valid\n")
	_, err := Parse("tenants.yaml", data)
	if err == nil {
		t.Fatal("no error for an invalid reconcilerServiceAccount")
	}
	if !strings.Contains(err.Error(), "tenants.yaml:7:3: tenants[0].reconcilerServiceAccount") {
		t.Errorf("error %q does not name the field and line", err)
	}
}

// TestNamespacesCarryFluxTenantLabel: Flux's tenant label is on every
// Namespace, with the tenant's name.
func TestNamespacesCarryFluxTenantLabel(t *testing.T) {
	for _, tn := range loadExample(t) {
		groups, err := Generate(tn)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range Objects(groups) {
			if o.GetKind() != "Namespace" {
				continue
			}
			n++
			if got := o.GetLabels()[LabelFluxTenant]; got != tn.Name {
				t.Errorf("%s: namespace %s: label %s=%q, want %q", tn.Name, o.GetName(), LabelFluxTenant, got, tn.Name)
			}
		}
		if n != len(tn.Namespaces) {
			t.Errorf("%s: %d namespaces generated, want %d", tn.Name, n, len(tn.Namespaces))
		}
	}
}
