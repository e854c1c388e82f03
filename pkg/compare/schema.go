package compare

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

// validator checks desired objects against the OpenAPI v3 schemas the API
// server publishes, in local mode, so that an object the server would
// refuse (a container port given as the string "8080", a field its kind
// does not have) is an error there too rather than a change that can never
// be applied. Schemas are read once per group-version; one that cannot be
// read is warned about and its objects are not validated.
type validator struct {
	reader cluster.SchemaReader
	mu     sync.Mutex
	docs   map[schema.GroupVersion]*schemaDoc
	warn   []string
}

func newValidator(r cluster.Reader) *validator {
	sr, ok := r.(cluster.SchemaReader)
	if !ok {
		return nil
	}
	return &validator{reader: sr, docs: map[schema.GroupVersion]*schemaDoc{}}
}

// schemaDoc is the part of an OpenAPI v3 document validation reads.
type schemaDoc struct {
	Components struct {
		Schemas map[string]*jsonSchema `json:"schemas"`
	} `json:"components"`
	err error
	// roots are the schemas of the document's kinds, by kind.
	roots map[string]*jsonSchema
}

type jsonSchema struct {
	Ref                  string                 `json:"$ref"`
	Type                 string                 `json:"type"`
	Properties           map[string]*jsonSchema `json:"properties"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
	Items                *jsonSchema            `json:"items"`
	AllOf                []*jsonSchema          `json:"allOf"`
	AnyOf                []*jsonSchema          `json:"anyOf"`
	OneOf                []*jsonSchema          `json:"oneOf"`
	IntOrString          bool                   `json:"x-kubernetes-int-or-string"`
	PreserveUnknown      bool                   `json:"x-kubernetes-preserve-unknown-fields"`
	EmbeddedResource     bool                   `json:"x-kubernetes-embedded-resource"`
	GVK                  []struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Kind    string `json:"kind"`
	} `json:"x-kubernetes-group-version-kind"`
}

// maxViolations bounds the violations a reason lists.
const maxViolations = 3

// check returns what makes obj invalid against its kind's schema ("" when
// valid, or when the schema is not available).
func (v *validator) check(ctx context.Context, obj map[string]any, gvk schema.GroupVersionKind) string {
	if v == nil {
		return ""
	}
	doc := v.doc(ctx, gvk.GroupVersion())
	if doc == nil {
		return ""
	}
	root := doc.roots[gvk.Kind]
	if root == nil {
		return ""
	}
	var errs []string
	doc.validate(objpath.Path{}, obj, root, &errs, 0)
	if len(errs) == 0 {
		return ""
	}
	sort.Strings(errs)
	more := ""
	if len(errs) > maxViolations {
		more = fmt.Sprintf(" (+%d more)", len(errs)-maxViolations)
		errs = errs[:maxViolations]
	}
	return "invalid against the server's OpenAPI schema of " + gvk.GroupVersion().String() + ": " +
		strings.Join(errs, "; ") + more + "; the server would refuse to apply it"
}

func (v *validator) doc(ctx context.Context, gv schema.GroupVersion) *schemaDoc {
	v.mu.Lock()
	defer v.mu.Unlock()
	if d, ok := v.docs[gv]; ok {
		if d.err != nil {
			return nil
		}
		return d
	}
	d := &schemaDoc{}
	raw, err := v.reader.OpenAPIV3(ctx, gv)
	if err == nil {
		err = json.Unmarshal(raw, d)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil // not cached: the run is being cancelled anyway
		}
		d.err = err
		v.warn = append(v.warn, fmt.Sprintf("objects of %s are not checked against the server's schema: %v", gv, err))
	}
	v.docs[gv] = d
	if d.err != nil {
		return nil
	}
	d.roots = map[string]*jsonSchema{}
	for _, s := range d.Components.Schemas {
		for _, k := range s.GVK {
			if k.Group == gv.Group && k.Version == gv.Version {
				d.roots[k.Kind] = s
			}
		}
	}
	return d
}

func (v *validator) warnings() []string {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.warn...)
}

func (d *schemaDoc) resolve(s *jsonSchema) *jsonSchema {
	for i := 0; s != nil && s.Ref != "" && i < 8; i++ {
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// validate appends to errs what makes v not match s: a value of the wrong
// type, or a field the schema does not declare. Only what the server
// checks when it builds the typed object of an apply is checked (not
// formats, enums, required fields or CEL rules).
func (d *schemaDoc) validate(p objpath.Path, v any, s *jsonSchema, errs *[]string, depth int) {
	s = d.resolve(s)
	if s == nil || v == nil || depth > 64 {
		return // null means "not set"; the schema may be cut short
	}
	for _, sub := range s.AllOf {
		d.validate(p, v, sub, errs, depth+1)
	}
	for _, alts := range [][]*jsonSchema{s.AnyOf, s.OneOf} {
		if len(alts) == 0 {
			continue
		}
		matched := false
		for _, alt := range alts {
			var inner []string
			d.validate(p, v, alt, &inner, depth+1)
			if len(inner) == 0 {
				matched = true
				break
			}
		}
		if !matched {
			*errs = append(*errs, fmt.Sprintf("%s: %s matches none of the allowed types", label(p), typeName(v)))
			return
		}
	}
	if s.IntOrString {
		if _, ok := v.(string); !ok && !isNumber(v) {
			*errs = append(*errs, fmt.Sprintf("%s: expected an integer or a string, got %s", label(p), typeName(v)))
		}
		return
	}
	want := s.Type
	if want == "" && len(s.Properties) > 0 {
		want = "object"
	}
	ok := true
	switch want {
	case "string":
		_, ok = v.(string)
	case "boolean":
		_, ok = v.(bool)
	case "number":
		ok = isNumber(v)
	case "integer":
		ok = isInteger(v)
	case "array":
		l, isList := v.([]any)
		ok = isList
		if isList && s.Items != nil {
			for i, item := range l {
				d.validate(p.Index(i), item, s.Items, errs, depth+1)
			}
		}
	case "object":
		m, isMap := v.(map[string]any)
		ok = isMap
		if isMap {
			d.validateObject(p, m, s, errs, depth)
		}
	}
	if !ok {
		*errs = append(*errs, fmt.Sprintf("%s: expected %s, got %s", label(p), want, typeName(v)))
	}
}

func (d *schemaDoc) validateObject(p objpath.Path, m map[string]any, s *jsonSchema, errs *[]string, depth int) {
	var extra *jsonSchema
	extraAllowed := s.PreserveUnknown
	if len(s.AdditionalProperties) > 0 {
		switch string(s.AdditionalProperties) {
		case "true":
			extraAllowed = true
		case "false":
		default:
			extra = &jsonSchema{}
			if json.Unmarshal(s.AdditionalProperties, extra) != nil {
				extraAllowed, extra = true, nil
			}
		}
	}
	if len(s.Properties) == 0 && extra == nil {
		// An object the schema says nothing about (a CRD's free-form
		// field): anything goes.
		extraAllowed = true
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch sub, ok := s.Properties[k]; {
		case ok:
			d.validate(p.Key(k), m[k], sub, errs, depth+1)
		case extra != nil:
			d.validate(p.Key(k), m[k], extra, errs, depth+1)
		case extraAllowed:
		case s.EmbeddedResource && (k == "apiVersion" || k == "kind" || k == "metadata"):
		default:
			*errs = append(*errs, fmt.Sprintf("%s: field not declared in schema", label(p.Key(k))))
		}
	}
}

func label(p objpath.Path) string {
	if len(p) == 0 {
		return "the object"
	}
	return p.String()
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64, int, int32, json.Number:
		return true
	}
	return false
}

func isInteger(v any) bool {
	switch t := v.(type) {
	case int64, int, int32:
		return true
	case float64:
		return t == math.Trunc(t) && !math.IsInf(t, 0)
	}
	return false
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	if isNumber(v) {
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
