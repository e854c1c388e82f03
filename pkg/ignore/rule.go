package ignore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/itchyny/gojq"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// DefaultJQTimeout bounds one evaluation of one jq path expression on one
// object, like Argo CD's ignore.normalizer.jq.timeout.
const DefaultJQTimeout = time.Second

// maxJQPaths bounds the paths one jq expression may produce on one object,
// so that an expression generating paths without end fails instead of
// filling memory until its timeout.
const maxJQPaths = 100_000

// Rule says which fields of which objects do not count as drift.
type Rule struct {
	// Name identifies the rule: a stable name for builtin rules, the
	// rule's position ("<file>:<line>") for rules from a file.
	Name        string
	Description string
	// Source says where the rule comes from: "builtin" or "<file>:<line>".
	Source string

	// Targets select the objects the rule applies to: any of them matching
	// is enough. A rule without targets applies to nothing.
	Targets []Target

	// JSONPointers (RFC 6901) and JQPathExpressions address the ignored
	// fields; see Paths.
	JSONPointers      []string
	JQPathExpressions []string
	// ManagedFieldsManagers: every field one of these field managers owns
	// is ignored. Resolving ownership is the caller's business; the rule
	// only carries the list.
	ManagedFieldsManagers []string
	// OwnedBy, when set, limits the rule: the fields at its paths are
	// ignored only where one of these managers owns them (the caller
	// resolves ownership). Strip leaves such rules alone.
	OwnedBy []string
	// JQTimeout bounds each jq evaluation; 0 means DefaultJQTimeout.
	JQTimeout time.Duration

	// jq holds JQPathExpressions compiled as path(EXPR), in order; nil
	// when the rule was built by hand (Paths then compiles them).
	jq []*gojq.Code
	// jqMaxSteps overrides maxJQSteps when set (tests of the timeout, on
	// a machine fast enough to run maxJQSteps within it).
	jqMaxSteps int
}

// Matches reports whether the rule applies to obj.
func (r *Rule) Matches(obj *unstructured.Unstructured) bool {
	for i := range r.Targets {
		if r.Targets[i].Matches(obj) {
			return true
		}
	}
	return false
}

// Paths resolves the rule's JSONPointers and JQPathExpressions on obj (an
// object's content, as in unstructured.Unstructured.Object) to the concrete
// paths that exist in obj, sorted and without duplicates.
//
// A pointer to a field obj lacks resolves to nothing, without an error. A
// jq expression is evaluated as path(EXPR), Argo CD evaluating del(EXPR), and
// the paths it yields are kept where they exist (path(.a.b) yields ["a","b"]
// even when there is no .a). Each evaluation is bounded by the rule's
// JQTimeout; an expression that fails, times out, or yields an array slice
// as a path element, makes Paths fail. The whole object (the empty path) is
// never returned.
func (r *Rule) Paths(ctx context.Context, obj map[string]any) ([]objpath.Path, error) {
	return r.paths(ctx, obj, &jqInput{obj: obj})
}

func (r *Rule) paths(ctx context.Context, obj map[string]any, in *jqInput) ([]objpath.Path, error) {
	var paths []objpath.Path
	for _, ptr := range r.JSONPointers {
		p, err := objpath.ParsePointer(ptr, obj)
		if err != nil {
			continue // e.g. a name where obj has a list: not there
		}
		if _, ok := objpath.Get(obj, p); ok && len(p) > 0 {
			paths = append(paths, p)
		}
	}
	if len(r.JQPathExpressions) > 0 {
		codes := r.jq
		if len(codes) != len(r.JQPathExpressions) {
			codes = make([]*gojq.Code, len(r.JQPathExpressions))
			for i, expr := range r.JQPathExpressions {
				c, err := compileJQ(expr)
				if err != nil {
					return nil, fmt.Errorf("compiling jq %q of rule %s: %w", expr, r.Name, err)
				}
				codes[i] = c
			}
		}
		v, err := in.value()
		if err != nil {
			return nil, fmt.Errorf("evaluating jq of rule %s: %w", r.Name, err)
		}
		timeout := r.JQTimeout
		if timeout <= 0 {
			timeout = DefaultJQTimeout
		}
		for i, code := range codes {
			ps, err := evalJQ(ctx, code, v, obj, timeout, r.jqMaxSteps)
			if err != nil {
				return nil, fmt.Errorf("evaluating jq %q of rule %s: %w", r.JQPathExpressions[i], r.Name, err)
			}
			paths = append(paths, ps...)
		}
	}
	return sortUnique(paths), nil
}

// compileJQ compiles expr as path(expr). The query is wrapped as a syntax
// tree, not as text, so a comment at the end of expr cannot swallow the
// closing parenthesis.
func compileJQ(expr string) (*gojq.Code, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, err
	}
	if q.Meta != nil || len(q.Imports) > 0 {
		return nil, errors.New("module directives (import, include, module) are not supported")
	}
	wrapped := &gojq.Query{Term: &gojq.Term{
		Type: gojq.TermTypeFunc,
		Func: &gojq.Func{Name: "path", Args: []*gojq.Query{q}},
	}}
	// Compiling evaluates nothing; its errors (an unknown function) come
	// first, then what checkJQ refuses to run.
	code, err := gojq.Compile(wrapped)
	if err != nil {
		return nil, err
	}
	if err := checkJQ(q); err != nil {
		return nil, err
	}
	return code, nil
}

// evalJQ runs a compiled path(EXPR) on v (obj converted for gojq) and
// returns the paths that exist in obj.
func evalJQ(parent context.Context, code *gojq.Code, v any, obj map[string]any, timeout time.Duration, maxSteps int) ([]objpath.Path, error) {
	timed, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	ctx := newMeteredContext(timed, maxSteps)
	var paths []objpath.Path
	iter := code.RunWithContext(ctx, v)
	for n := 0; ; n++ {
		out, ok := iter.Next()
		if !ok {
			return paths, nil
		}
		if err, ok := out.(error); ok {
			if errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil {
				return nil, fmt.Errorf("timed out after %v: %w", timeout, err)
			}
			if redact.IsSecret(obj) && !errors.Is(err, errJQBudget) && ctx.Err() == nil {
				// gojq's messages quote a preview of the value they failed
				// on ("cannot iterate over: string (\"c2VjcmV0...\")"):
				// of a Secret, the first bytes of its data, which the
				// sweep of whole values does not catch.
				return nil, errors.New("failed on a Secret (gojq's message is withheld: it may quote the Secret's data)")
			}
			return nil, err
		}
		if n >= maxJQPaths {
			return nil, fmt.Errorf("more than %d paths", maxJQPaths)
		}
		elems, ok := out.([]any)
		if !ok {
			return nil, fmt.Errorf("path() returned %T, not an array", out)
		}
		p, ok, err := concretePath(elems, obj)
		if err != nil {
			return nil, err
		}
		if ok && len(p) > 0 {
			paths = append(paths, p)
		}
	}
}

// concretePath turns a jq path (strings and numbers) into an objpath.Path
// into obj, resolving negative indices; ok is false when obj has nothing
// there.
func concretePath(elems []any, obj map[string]any) (objpath.Path, bool, error) {
	p := make(objpath.Path, 0, len(elems))
	var cur any = obj
	for _, e := range elems {
		switch k := e.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false, nil
			}
			if cur, ok = m[k]; !ok {
				return nil, false, nil
			}
			p = append(p, k)
		case int, float64:
			i, ok := toIndex(k)
			l, isList := cur.([]any)
			if !ok || !isList {
				return nil, false, nil
			}
			if i < 0 {
				i += len(l)
			}
			if i < 0 || i >= len(l) {
				return nil, false, nil
			}
			cur = l[i]
			p = append(p, i)
		case map[string]any:
			return nil, false, fmt.Errorf("array slices are not supported in ignored paths (path %v)", elems)
		default:
			return nil, false, fmt.Errorf("unexpected path element %v (%T)", e, e)
		}
	}
	return p, true, nil
}

func toIndex(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int(n), true
		}
	}
	return 0, false
}

// jqInput converts an object for gojq once, on first use, however many
// rules evaluate jq on it.
type jqInput struct {
	obj  map[string]any
	v    any
	err  error
	done bool
}

func (in *jqInput) value() (any, error) {
	if !in.done {
		in.v, in.err = toJQ(in.obj)
		in.done = true
	}
	return in.v, in.err
}

// toJQ deep-copies v into the types gojq accepts: Kubernetes decodes JSON
// integers as int64, which gojq rejects, so integers become int (or float64
// when they do not fit).
func toJQ(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool, string, int, float64:
		return t, nil
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			c, err := toJQ(e)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			c, err := toJQ(e)
			if err != nil {
				return nil, err
			}
			l[i] = c
		}
		return l, nil
	case int64:
		if int64(int(t)) == t {
			return int(t), nil
		}
		return float64(t), nil
	case int32:
		return int(t), nil
	case float32:
		return float64(t), nil
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return toJQ(i)
		}
		f, err := t.Float64()
		if err != nil {
			return nil, fmt.Errorf("converting number %q for jq: %w", t, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("converting for jq: unsupported value of type %T", v)
}

// sortUnique sorts paths and drops duplicates.
func sortUnique(paths []objpath.Path) []objpath.Path {
	slices.SortFunc(paths, objpath.Compare)
	return slices.CompactFunc(paths, objpath.Path.Equal)
}

// Target selects objects by API group, version, kind, name, namespace,
// labels and annotations, and (builtin rules only) by their content. Every
// set criterion must hold; the zero Target selects every object. Targets
// are built by Parse and Builtin.
type Target struct {
	group, version, kind, name, namespace field
	labels, annotations                   labels.Selector
	// cond, when set, must hold for the object's content; condText says
	// what it checks, for listings.
	cond     func(obj map[string]any) bool
	condText string
}

// field matches one string of an object's identity: exactly (Argo CD's
// grammar, builtins) or by an anchored regular expression (Flux's grammar).
// The zero field matches anything.
type field struct {
	re    *regexp.Regexp
	text  string // as written, for listings
	regex bool   // text is a regular expression, not an exact value
}

func exact(s string) field {
	return field{re: regexp.MustCompile("^" + regexp.QuoteMeta(s) + "$"), text: s}
}

// glob compiles an Argo CD group or kind pattern: "*" matches any run of
// characters and "?" one character; anything else is literal, so a plain
// value matches exactly. "*" alone matches anything.
func glob(s string) field {
	if s == "*" {
		return field{}
	}
	if !strings.ContainsAny(s, "*?") {
		return exact(s)
	}
	var b strings.Builder
	b.WriteString("^")
	for _, r := range s {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return field{re: regexp.MustCompile(b.String()), text: s}
}

// anchored compiles a Flux/kustomize selector regex: anchored at both ends,
// like kustomize's "^(?:" + pattern + ")$"; "" matches anything.
func anchored(pattern string) (field, error) {
	if pattern == "" {
		return field{}, nil
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return field{}, err
	}
	return field{re: re, text: pattern, regex: true}, nil
}

func (f field) match(s string) bool { return f.re == nil || f.re.MatchString(s) }

// Matches reports whether t selects obj.
func (t *Target) Matches(obj *unstructured.Unstructured) bool {
	if obj == nil {
		return false
	}
	gvk := obj.GroupVersionKind()
	if !t.group.match(gvk.Group) || !t.version.match(gvk.Version) || !t.kind.match(gvk.Kind) ||
		!t.name.match(obj.GetName()) || !t.namespace.match(obj.GetNamespace()) {
		return false
	}
	if t.labels != nil && !t.labels.Matches(labels.Set(obj.GetLabels())) {
		return false
	}
	if t.annotations != nil && !t.annotations.Matches(labels.Set(obj.GetAnnotations())) {
		return false
	}
	return t.cond == nil || t.cond(obj.Object)
}

// String describes t for listings, e.g. `group=apps kind=Deployment`,
// `group="" kind=Service`, `kind=~Deploy.* labels(app=web)`, or `*` for every
// object. "=" compares exactly, "=~" matches a regular expression.
func (t *Target) String() string {
	var parts []string
	for _, f := range []struct {
		key string
		f   field
	}{{"group", t.group}, {"version", t.version}, {"kind", t.kind}, {"name", t.name}, {"namespace", t.namespace}} {
		if f.f.re == nil {
			continue
		}
		op := "="
		if f.f.regex {
			op = "=~"
		}
		v := f.f.text
		if v == "" || strings.ContainsAny(v, " \t\"") {
			v = fmt.Sprintf("%q", v)
		}
		parts = append(parts, f.key+op+v)
	}
	if t.labels != nil {
		parts = append(parts, "labels("+t.labels.String()+")")
	}
	if t.annotations != nil {
		parts = append(parts, "annotations("+t.annotations.String()+")")
	}
	if t.cond != nil {
		parts = append(parts, "if "+t.condText)
	}
	if len(parts) == 0 {
		return "*"
	}
	return strings.Join(parts, " ")
}
