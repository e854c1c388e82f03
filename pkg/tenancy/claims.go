package tenancy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Claim is a namespace that a tenant owns according to something other than
// a tenant.yaml of the tenants directory: a live Namespace's tenant label, a
// Namespace manifest in a tenant directory this tool did not write (Flux's
// reference layout), or a Flux or Argo CD object of the tenant.
type Claim struct {
	// Namespace claimed; empty for a tenant known only by an object that
	// names no namespace of its own (an AppProject).
	Namespace string `json:"namespace,omitempty"`
	// Tenant claiming it.
	Tenant string `json:"tenant"`
	// Source says where the claim was seen, e.g. "cluster Namespace
	// team-x" or "tenants/team-x/rbac.yaml".
	Source string `json:"source"`
	// Operator is the operator of the object that made the claim (flux
	// for a Flux Kustomization, argocd for an AppProject), else "".
	Operator Operator `json:"operator,omitempty"`
}

// ForeignTenant is a tenant known only from claims: one this tool did not
// write (no tenant.yaml in the tenants directory).
type ForeignTenant struct {
	Name       string
	Namespaces []string
	// Operator is none, flux, argocd or both as far as the claims tell
	// ("" when none says).
	Operator Operator
	// Sources are where the tenant was seen, sorted, without repeats.
	Sources []string
}

// ForeignTenants groups claims by tenant, leaving out the tenants named in
// known (those with a tenant.yaml), sorted by name.
func ForeignTenants(known []*Tenant, claims []Claim) []ForeignTenant {
	skip := map[string]bool{}
	for _, t := range known {
		skip[t.Name] = true
	}
	byName := map[string]*ForeignTenant{}
	var names []string
	for _, c := range claims {
		if skip[c.Tenant] {
			continue
		}
		f := byName[c.Tenant]
		if f == nil {
			f = &ForeignTenant{Name: c.Tenant}
			byName[c.Tenant] = f
			names = append(names, c.Tenant)
		}
		if c.Namespace != "" {
			f.Namespaces = append(f.Namespaces, c.Namespace)
		}
		f.Sources = append(f.Sources, c.Source)
		switch {
		case c.Operator == "" || f.Operator == c.Operator || f.Operator == OperatorBoth:
		case f.Operator == "":
			f.Operator = c.Operator
		default:
			f.Operator = OperatorBoth
		}
	}
	sort.Strings(names)
	out := make([]ForeignTenant, 0, len(names))
	for _, n := range names {
		f := byName[n]
		f.Namespaces = dedupe(f.Namespaces)
		f.Sources = dedupe(f.Sources)
		out = append(out, *f)
	}
	return out
}

// NamespaceOwner is the tenant a Namespace's labels name: this tool's
// tenant label, else Flux's; "" for none.
func NamespaceOwner(labels map[string]string) string {
	if t := labels[LabelTenant]; t != "" {
		return t
	}
	return labels[LabelFluxTenant]
}

// CheckClaims reports, as field errors of t, each of its namespaces that
// a claim gives to another tenant.
func CheckClaims(t *Tenant, claims []Claim) error {
	var errs ErrorList
	for i, ns := range t.Namespaces {
		for _, c := range claims {
			if c.Namespace == ns && c.Tenant != t.Name {
				errs = append(errs, t.fieldErr(fmt.Sprintf("namespaces[%d]", i),
					"namespace %q already belongs to tenant %q (%s)", ns, c.Tenant, c.Source))
				break
			}
		}
	}
	return errs.errOrNil()
}

// maxManifestSize bounds the size of a file ForeignClaims reads: tenant
// directories are untrusted repository content.
const maxManifestSize = 8 << 20

// ForeignClaims reads the tenant directories of fsys (the tenants
// directory) that hold no tenant.yaml, i.e. that this tool did not write,
// and returns the namespaces their Namespace manifests give to a tenant by
// label (either tenant label). Files that are not YAML Kubernetes objects
// are skipped: they may be anything. So are labels and names that are not
// valid label values and namespace names: nothing unchecked from the
// repository reaches the user's terminal.
func ForeignClaims(fsys fs.FS, root string) ([]Claim, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading tenants directory: %w", err)
	}
	var claims []Claim
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), FileSpec)); err == nil {
			continue // ours: tenant.yaml is read and validated instead
		}
		err := fs.WalkDir(fsys, e.Name(), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != e.Name() {
				if _, err := fs.Stat(fsys, path.Join(p, FileSpec)); err == nil {
					return fs.SkipDir // ours, in an environments layout (base/<tenant>)
				}
			}
			yamlFile := strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")
			if !yamlFile || !d.Type().IsRegular() {
				return nil
			}
			if info, err := d.Info(); err != nil || info.Size() > maxManifestSize {
				return nil
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return fmt.Errorf("reading %s: %w", path.Join(root, p), err)
			}
			for _, o := range namespaceManifests(data) {
				owner, ns := NamespaceOwner(o.GetLabels()), o.GetName()
				if owner == "" || len(validation.IsValidLabelValue(owner)) > 0 || len(validation.IsDNS1123Label(ns)) > 0 {
					continue
				}
				claims = append(claims, Claim{Namespace: ns, Tenant: owner, Source: printable(path.Join(root, p))})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading tenants directory: %w", err)
		}
	}
	sortClaims(claims)
	return claims, nil
}

// namespaceManifests decodes the Namespace objects of a YAML stream,
// stopping at the first document that does not decode.
func namespaceManifests(data []byte) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return out // io.EOF, or a document that is not an object
		}
		o := &unstructured.Unstructured{Object: m}
		if m != nil && o.GetKind() == "Namespace" && o.GetAPIVersion() == "v1" {
			out = append(out, o)
		}
	}
}

func sortClaims(claims []Claim) {
	sort.SliceStable(claims, func(i, j int) bool {
		a, b := claims[i], claims[j]
		if a.Tenant != b.Tenant {
			return a.Tenant < b.Tenant
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Source < b.Source
	})
}

// printable quotes s when it holds a character that is not printable (a
// file name from the repository could hold terminal escapes).
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}
