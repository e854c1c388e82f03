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
// be applied. A validator serves one Run: it reads the server's index of
// documents once, takes each document from its Schemas (read and decoded
// at most once for every Run that shares them), and remembers the
// documents that could not be read, warned about once: their objects are
// not validated.
type validator struct {
	schemas *Schemas
	mu      sync.Mutex
	// paths is the index read for this run (once pathsRead); pathsErr
	// why it could not be read.
	paths     map[schema.GroupVersion]string
	pathsErr  error
	pathsRead bool
	// docs are this run's documents by group-version (nil: not available).
	docs map[schema.GroupVersion]*schemaDoc
	warn []string
}

// Schemas are one cluster's OpenAPI v3 schemas, shared by every Run of the
// Engines given them (see Engine.Schemas): each group-version's document is
// read at most once and each schema a checked kind reaches decoded and
// compiled once, however many sources are compared. A document is kept as
// long as the server's index (/openapi/v3, read once per Run) gives it the
// same URL: the URL carries the document's hash, which changes when the
// document does (a CRD updated), so a long-running caller (drift watch)
// checks against the current schema. Schemas must not be shared between
// clusters. Safe for concurrent use: concurrent Runs needing one document
// read it once.
//
// A document holds the schemas of every kind of its group-version (the core
// one is megabytes), and a comparison checks a few of them thousands of
// times: schemas are decoded lazily, only those a checked kind reaches, and
// each kind's schema is compiled once (references resolved to pointers,
// additionalProperties decoded), so that checking an object allocates
// nothing unless it is invalid.
type Schemas struct {
	reader cluster.SchemaReader
	mu     sync.Mutex
	docs   map[schema.GroupVersion]*sharedDoc
}

// NewSchemas returns an empty cache of the schemas r publishes.
func NewSchemas(r cluster.SchemaReader) *Schemas {
	return &Schemas{reader: r, docs: map[schema.GroupVersion]*sharedDoc{}}
}

// sharedDoc is the document of one group-version at one URL; its mutex
// makes its reading single-flight.
type sharedDoc struct {
	url string
	mu  sync.Mutex
	doc *schemaDoc // nil: not read yet
}

// document returns gv's document at url, read and decoded on first use.
// A failed read is not kept: the next Run tries again.
func (s *Schemas) document(ctx context.Context, gv schema.GroupVersion, url string) (*schemaDoc, error) {
	s.mu.Lock()
	e := s.docs[gv]
	if e == nil || e.url != url {
		// New, or changed on the server: the old one is dropped.
		e = &sharedDoc{url: url}
		s.docs[gv] = e
	}
	s.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.doc != nil {
		return e.doc, nil
	}
	raw, err := s.reader.OpenAPIV3Document(ctx, url)
	if err != nil {
		return nil, err
	}
	var top struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("reading the OpenAPI schema of %s: %w", gv, err)
	}
	e.doc = &schemaDoc{gv: gv, raw: top.Components.Schemas, decoded: map[string]*jsonSchema{}, roots: map[string]*jsonSchema{}}
	return e.doc, nil
}

// newValidator returns a validator for one Run, reading from shared (nil:
// from a cache of its own, when r publishes schemas; nil when it does not).
func newValidator(r cluster.Reader, shared *Schemas) *validator {
	if shared == nil {
		sr, ok := r.(cluster.SchemaReader)
		if !ok {
			return nil
		}
		shared = NewSchemas(sr)
	}
	return &validator{schemas: shared, docs: map[schema.GroupVersion]*schemaDoc{}}
}

// schemaDoc is one group-version's OpenAPI v3 document. Its maps are used
// under its mutex; compiled schemas are read without it (they do not change
// once compiled).
type schemaDoc struct {
	gv schema.GroupVersion
	mu sync.Mutex
	// raw are the document's schemas, undecoded, by name.
	raw map[string]json.RawMessage
	// decoded are the schemas decoded so far, by name (nil: undecodable).
	decoded map[string]*jsonSchema
	// roots are the compiled schemas of the kinds looked up, by kind (nil:
	// the document has none).
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
	// How server-side apply merges lists and maps (hybrid mode's exactness
	// walk): list type atomic, set or map (with its keys), older patch
	// strategy merge (with its key), map type atomic or granular.
	ListType      string   `json:"x-kubernetes-list-type"`
	ListMapKeys   []string `json:"x-kubernetes-list-map-keys"`
	MapType       string   `json:"x-kubernetes-map-type"`
	PatchStrategy string   `json:"x-kubernetes-patch-strategy"`
	PatchMergeKey string   `json:"x-kubernetes-patch-merge-key"`
	GVK           []struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Kind    string `json:"kind"`
	} `json:"x-kubernetes-group-version-kind"`

	// Set by compile.
	compiled bool
	// ref is what Ref names (nil when it names nothing decodable).
	ref *jsonSchema
	// extra is the schema of undeclared keys (additionalProperties given as
	// a schema); extraAllowed says undeclared keys are accepted unchecked.
	extra        *jsonSchema
	extraAllowed bool
}

// maxViolations bounds the violations a reason lists.
const maxViolations = 3

// check returns what makes obj invalid against its kind's schema ("" when
// valid, or when the schema is not available).
func (v *validator) check(ctx context.Context, obj map[string]any, gvk schema.GroupVersionKind) string {
	if v == nil {
		return ""
	}
	root := v.root(ctx, gvk)
	if root == nil {
		return ""
	}
	w := walker{path: make([]pathElem, 0, 32)}
	w.validate(obj, root, 0)
	errs := w.errs
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

// root returns the compiled schema of gvk's kind (nil: none available).
func (v *validator) root(ctx context.Context, gvk schema.GroupVersionKind) *jsonSchema {
	d := v.doc(ctx, gvk.GroupVersion())
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.roots[gvk.Kind]; ok {
		return r
	}
	r := d.findRoot(gvk.Kind)
	if r != nil {
		d.compile(r)
	}
	d.roots[gvk.Kind] = r
	return r
}

// doc returns gv's document (nil: not available), reading the index first
// if this run has not.
func (v *validator) doc(ctx context.Context, gv schema.GroupVersion) *schemaDoc {
	v.mu.Lock()
	if d, ok := v.docs[gv]; ok {
		v.mu.Unlock()
		return d
	}
	if !v.pathsRead {
		paths, err := v.schemas.reader.OpenAPIV3Paths(ctx)
		if err != nil && ctx.Err() != nil {
			v.mu.Unlock()
			return nil // not kept: the run is being cancelled anyway
		}
		v.paths, v.pathsErr, v.pathsRead = paths, err, true
	}
	url, ok := v.paths[gv]
	err := v.pathsErr
	v.mu.Unlock()
	if err == nil && !ok {
		// Not in the index this run read first: a CRD created a moment
		// ago reaches the index a little after it is Established. Read
		// the index again before saying the kind has no schema.
		if paths, perr := v.schemas.reader.OpenAPIV3Paths(ctx); perr == nil {
			url, ok = paths[gv]
			if ok {
				v.mu.Lock()
				v.paths = paths
				v.mu.Unlock()
			}
		}
	}
	var d *schemaDoc
	switch {
	case err != nil:
	case !ok:
		err = fmt.Errorf("reading the OpenAPI schema of %s: %w", gv, cluster.ErrKindNotServed)
	default:
		d, err = v.schemas.document(ctx, gv, url)
	}
	if err != nil && ctx.Err() != nil {
		return nil // not kept: the run is being cancelled anyway
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if prev, ok := v.docs[gv]; ok {
		return prev // another object of this run got there first
	}
	v.docs[gv] = d
	if err != nil {
		v.warn = append(v.warn, fmt.Sprintf("objects of %s are not checked against the server's schema: %v", gv, err))
	}
	return d
}

// findRoot returns the schema that declares kind in d's group-version:
// first among the schemas named like one (io.k8s.api.core.v1.ConfigMap),
// else among all.
func (d *schemaDoc) findRoot(kind string) *jsonSchema {
	names := slices.Sorted(maps.Keys(d.raw))
	var rest []string
	for _, n := range names {
		if n != kind && !strings.HasSuffix(n, "."+kind) {
			rest = append(rest, n)
			continue
		}
		if s := d.declares(n, kind); s != nil {
			return s
		}
	}
	for _, n := range rest {
		if s := d.declares(n, kind); s != nil {
			return s
		}
	}
	return nil
}

// declares returns the schema called name if it declares kind.
func (d *schemaDoc) declares(name, kind string) *jsonSchema {
	s := d.schema(name)
	if s == nil {
		return nil
	}
	for _, k := range s.GVK {
		if k.Group == d.gv.Group && k.Version == d.gv.Version && k.Kind == kind {
			return s
		}
	}
	return nil
}

// schema decodes the schema called name once (nil: none, or undecodable).
func (d *schemaDoc) schema(name string) *jsonSchema {
	if s, ok := d.decoded[name]; ok {
		return s
	}
	var s *jsonSchema
	if raw, ok := d.raw[name]; ok {
		s = &jsonSchema{}
		if json.Unmarshal(raw, s) != nil {
			s = nil
		}
	}
	d.decoded[name] = s
	return s
}

// compile resolves the references of s and of every schema it reaches, and
// decodes their additionalProperties.
func (d *schemaDoc) compile(s *jsonSchema) {
	if s == nil || s.compiled {
		return
	}
	s.compiled = true
	if s.Ref != "" {
		s.ref = d.schema(strings.TrimPrefix(s.Ref, "#/components/schemas/"))
		d.compile(s.ref)
	}
	s.extraAllowed = s.PreserveUnknown
	if len(s.AdditionalProperties) > 0 {
		switch string(s.AdditionalProperties) {
		case "true":
			s.extraAllowed = true
		case "false":
		default:
			s.extra = &jsonSchema{}
			if json.Unmarshal(s.AdditionalProperties, s.extra) != nil {
				s.extraAllowed, s.extra = true, nil
			}
		}
	}
	if len(s.Properties) == 0 && s.extra == nil {
		// An object the schema says nothing about (a CRD's free-form
		// field): anything goes.
		s.extraAllowed = true
	}
	d.compile(s.extra)
	for _, sub := range s.Properties {
		d.compile(sub)
	}
	d.compile(s.Items)
	for _, l := range [][]*jsonSchema{s.AllOf, s.AnyOf, s.OneOf} {
		for _, sub := range l {
			d.compile(sub)
		}
	}
}

func (v *validator) warnings() []string {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.warn...)
}

func resolve(s *jsonSchema) *jsonSchema {
	for i := 0; s != nil && s.Ref != "" && i < 8; i++ {
		s = s.ref
	}
	return s
}

// walker validates one object, keeping the path of the value it is at as a
// stack (made an objpath.Path only for an error message) and the errors
// found.
type walker struct {
	path []pathElem
	errs []string
	// n counts the errors found, also while probing (probe > 0: trying
	// the alternatives of an anyOf or oneOf), when they are not rendered.
	n, probe int
}

type pathElem struct {
	key     string
	index   int
	isIndex bool
}

// validate appends to w.errs what makes v not match the compiled schema s:
// a value of the wrong type, or a field the schema does not declare. Only
// what the server checks when it builds the typed object of an apply is
// checked (not formats, enums, required fields or CEL rules).
func (w *walker) validate(v any, s *jsonSchema, depth int) {
	s = resolve(s)
	if s == nil || v == nil || depth > 64 {
		return // null means "not set"; the schema may be cut short
	}
	for _, sub := range s.AllOf {
		w.validate(v, sub, depth+1)
	}
	for _, alts := range [][]*jsonSchema{s.AnyOf, s.OneOf} {
		if len(alts) == 0 {
			continue
		}
		matched := false
		for _, alt := range alts {
			n := w.n
			w.probe++
			w.validate(v, alt, depth+1)
			w.probe--
			if w.n == n {
				matched = true
				break
			}
			w.n = n
		}
		if !matched {
			w.errorf("%s matches none of the allowed types", typeName(v), "")
			return
		}
	}
	if s.IntOrString {
		if _, ok := v.(string); !ok && !isNumber(v) {
			w.errorf("expected an integer or a string, got %s", typeName(v), "")
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
				w.path = append(w.path, pathElem{index: i, isIndex: true})
				w.validate(item, s.Items, depth+1)
				w.path = w.path[:len(w.path)-1]
			}
		}
	case "object":
		m, isMap := v.(map[string]any)
		ok = isMap
		if isMap {
			w.validateObject(m, s, depth)
		}
	}
	if !ok {
		w.errorf("expected %s, got %s", want, typeName(v))
	}
}

// validateObject visits m's keys in any order: errors are sorted at the end.
func (w *walker) validateObject(m map[string]any, s *jsonSchema, depth int) {
	for k, v := range m {
		w.path = append(w.path, pathElem{key: k})
		switch sub, ok := s.Properties[k]; {
		case ok:
			w.validate(v, sub, depth+1)
		case s.extra != nil:
			w.validate(v, s.extra, depth+1)
		case s.extraAllowed:
		case s.EmbeddedResource && (k == "apiVersion" || k == "kind" || k == "metadata"):
		default:
			w.errorf("field not declared in schema", "", "")
		}
		w.path = w.path[:len(w.path)-1]
	}
}

// errorf adds an error about the value at w.path: format with the
// arguments it uses of a and b. Taking strings, it allocates nothing while
// probing.
func (w *walker) errorf(format, a, b string) {
	w.n++
	if w.probe > 0 {
		return
	}
	args := []any{a, b}[:strings.Count(format, "%s")]
	label := "the object"
	if len(w.path) > 0 {
		p := make(objpath.Path, len(w.path))
		for i, e := range w.path {
			if e.isIndex {
				p[i] = e.index
			} else {
				p[i] = e.key
			}
		}
		label = p.String()
	}
	w.errs = append(w.errs, label+": "+fmt.Sprintf(format, args...))
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
