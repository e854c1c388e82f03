package ignore

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"strings"

	"github.com/itchyny/gojq"
)

// jq expressions come from repositories and from the cluster (an Argo CD
// Application's spec.ignoreDifferences): anyone who may create an
// Application chooses them. The timeout alone does not bound memory: one
// gojq step such as `"x" * 1e9` allocates a gigabyte before the timeout is
// looked at. So an expression is bounded twice:
//
//   - checkJQ, at compile time, admits only the part of jq that addresses
//     fields: paths, iteration, select and comparisons, and builtins whose
//     result is no larger than (a constant times) their input. It rejects
//     what loops or recurses (def, reduce, foreach, range, repeat, while,
//     until, recurse(f), label), what grows values (string and array
//     multiplication, + and - between two non-literals, /, add, join,
//     flatten, tojson, tostring, from_entries, string interpolation and
//     @formats, gsub, match, explode, implode, setpath and the assignment
//     operators, which may create a list a billion items long), what puts
//     object content into error messages (error), and what reads the
//     environment or input ($ENV, env, input, inputs, $__loc__,
//     $__prog_args, input_filename, debug, stderr).
//   - meteredContext, at run time, counts gojq's steps (gojq consults the
//     context once per instruction) and stops an evaluation after
//     maxJQSteps steps or when the process has allocated maxJQAllocBytes
//     since the evaluation began (runtime/metrics, read every
//     jqAllocCheckEvery steps), whichever comes first. Since no admitted
//     step allocates more than a small multiple of its input, an
//     evaluation holds at most about maxJQAllocBytes plus a few times the
//     object.

const (
	// maxJQSteps bounds the gojq instructions of one evaluation, whatever
	// the speed of the machine (gojq runs some 10 million a second, so the
	// 1 s timeout usually comes first). A field path over a large object
	// (.. | select(...) on 1.5 MiB) takes a few hundred thousand.
	maxJQSteps = 20_000_000
	// maxJQAllocBytes bounds what the process allocates during one
	// evaluation (garbage included; other goroutines' allocations count
	// too, so it is generous).
	maxJQAllocBytes = 64 << 20
	// jqAllocCheckEvery is how many steps pass between two allocation
	// readings.
	jqAllocCheckEvery = 16
)

// errJQBudget marks an evaluation stopped by its step or memory budget.
var errJQBudget = errors.New("jq evaluation budget exceeded")

// jqFuncs lists the builtins a jq path expression may call, by name and
// number of arguments: none of them loops without end, and none returns a
// value larger than a small multiple of its input.
var jqFuncs = map[string][]int{
	// control and filters
	"empty": {0}, "not": {0}, "select": {1},
	"first": {0, 1}, "last": {0, 1}, "nth": {1, 2}, "limit": {2}, "isempty": {1},
	"any": {0, 1, 2}, "all": {0, 1, 2}, "IN": {1, 2}, "in": {1}, "inside": {1},
	"has": {1}, "contains": {1}, "recurse": {0},
	"arrays": {0}, "objects": {0}, "iterables": {0}, "booleans": {0}, "numbers": {0},
	"strings": {0}, "nulls": {0}, "values": {0}, "scalars": {0},
	"type": {0}, "length": {0}, "utf8bytelength": {0},
	// strings (results no longer than the input)
	"startswith": {1}, "endswith": {1}, "test": {1, 2},
	"ltrimstr": {1}, "rtrimstr": {1}, "trimstr": {1}, "trim": {0}, "ltrim": {0}, "rtrim": {0},
	"ascii_downcase": {0}, "ascii_upcase": {0}, "tonumber": {0},
	// objects and arrays
	"keys": {0}, "keys_unsorted": {0}, "to_entries": {0},
	"map": {1}, "getpath": {1}, "paths": {0, 1},
	"min": {0}, "max": {0}, "min_by": {1}, "max_by": {1}, "sort": {0}, "sort_by": {1},
	"unique": {0}, "unique_by": {1}, "group_by": {1}, "reverse": {0},
	// numbers
	"abs": {0}, "floor": {0}, "ceil": {0}, "round": {0}, "fabs": {0},
}

// checkJQ reports the first construct of q outside the subset of jq that
// ignore rules may use (see above).
func checkJQ(q *gojq.Query) error {
	c := &jqChecker{}
	c.query(q)
	return c.err
}

type jqChecker struct{ err error }

func (c *jqChecker) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format+" (not allowed in ignore rules)", args...)
	}
}

func (c *jqChecker) query(q *gojq.Query) {
	if q == nil || c.err != nil {
		return
	}
	if q.Meta != nil || len(q.Imports) > 0 {
		if c.err == nil {
			c.err = errors.New("module directives (import, include, module) are not supported")
		}
		return
	}
	if len(q.FuncDefs) > 0 {
		c.fail("function definitions (def)")
		return
	}
	for _, p := range q.Patterns {
		c.pattern(p)
	}
	switch q.Op {
	case 0, gojq.OpPipe, gojq.OpComma, gojq.OpAlt, gojq.OpAnd, gojq.OpOr,
		gojq.OpEq, gojq.OpNe, gojq.OpLt, gojq.OpLe, gojq.OpGt, gojq.OpGe,
		gojq.OpMod:
	case gojq.OpAdd, gojq.OpSub:
		// With a number literal on one side these are arithmetic (on a
		// string, list or object they fail). Adding two values can double
		// a string or list at each step; subtracting two lists takes time
		// quadratic in their length within one step, which no timeout
		// interrupts.
		if !isNumberLiteral(q.Left) && !isNumberLiteral(q.Right) {
			c.fail("operator %s on two non-literal operands", q.Op)
		}
	default:
		c.fail("operator %s", q.Op)
	}
	c.query(q.Left)
	c.query(q.Right)
	c.term(q.Term)
}

func isNumberLiteral(q *gojq.Query) bool {
	if q == nil || q.Op != 0 || q.Term == nil || len(q.Term.SuffixList) > 0 {
		return false
	}
	t := q.Term
	if t.Type == gojq.TermTypeUnary && t.Unary != nil && t.Unary.Term != nil && len(t.Unary.Term.SuffixList) == 0 {
		t = t.Unary.Term
	}
	return t.Type == gojq.TermTypeNumber
}

func (c *jqChecker) pattern(p *gojq.Pattern) {
	if p == nil {
		return
	}
	c.variable(p.Name)
	for _, e := range p.Array {
		c.pattern(e)
	}
	for _, kv := range p.Object {
		c.variable(kv.Key)
		c.str(kv.KeyString)
		c.query(kv.KeyQuery)
		c.pattern(kv.Val)
	}
}

// variable rejects the variables gojq predefines: $ENV (the environment,
// empty here but never to be read), $__loc__ and $__prog_args.
func (c *jqChecker) variable(name string) {
	if name == "$ENV" || strings.HasPrefix(name, "$__") {
		c.fail("variable %s", name)
	}
}

func (c *jqChecker) str(s *gojq.String) {
	if s != nil && len(s.Queries) > 0 {
		c.fail("string interpolation")
	}
}

func (c *jqChecker) index(ix *gojq.Index) {
	if ix == nil {
		return
	}
	c.str(ix.Str)
	c.query(ix.Start)
	c.query(ix.End)
}

func (c *jqChecker) term(t *gojq.Term) {
	if t == nil || c.err != nil {
		return
	}
	switch t.Type {
	case gojq.TermTypeIdentity, gojq.TermTypeRecurse, gojq.TermTypeNull,
		gojq.TermTypeTrue, gojq.TermTypeFalse, gojq.TermTypeNumber:
	case gojq.TermTypeIndex:
		c.index(t.Index)
	case gojq.TermTypeFunc:
		c.fn(t.Func)
	case gojq.TermTypeObject:
		for _, kv := range t.Object.KeyVals {
			c.variable(kv.Key)
			c.str(kv.KeyString)
			c.query(kv.KeyQuery)
			c.query(kv.Val)
		}
	case gojq.TermTypeArray:
		c.query(t.Array.Query)
	case gojq.TermTypeUnary:
		c.term(t.Unary.Term)
	case gojq.TermTypeString:
		c.str(t.Str)
	case gojq.TermTypeIf:
		c.query(t.If.Cond)
		c.query(t.If.Then)
		for _, e := range t.If.Elif {
			c.query(e.Cond)
			c.query(e.Then)
		}
		c.query(t.If.Else)
	case gojq.TermTypeTry:
		c.query(t.Try.Body)
		c.query(t.Try.Catch)
	case gojq.TermTypeQuery:
		c.query(t.Query)
	case gojq.TermTypeFormat:
		c.fail("format %s", t.Format)
	case gojq.TermTypeReduce:
		c.fail("reduce")
	case gojq.TermTypeForeach:
		c.fail("foreach")
	case gojq.TermTypeLabel, gojq.TermTypeBreak:
		c.fail("label and break")
	default:
		c.fail("term %s", t)
	}
	for _, s := range t.SuffixList {
		c.index(s.Index)
	}
}

func (c *jqChecker) fn(f *gojq.Func) {
	if strings.HasPrefix(f.Name, "$") {
		c.variable(f.Name)
		return
	}
	arities, ok := jqFuncs[f.Name]
	if !ok || !containsInt(arities, len(f.Args)) {
		c.fail("function %s/%d", f.Name, len(f.Args))
		return
	}
	for _, a := range f.Args {
		c.query(a)
	}
}

func containsInt(l []int, n int) bool {
	for _, e := range l {
		if e == n {
			return true
		}
	}
	return false
}

// meteredContext is the context one gojq evaluation runs under: gojq calls
// Done before each instruction, which counts the instruction and, every
// jqAllocCheckEvery instructions, reads how much the process has allocated
// since the evaluation began; past either budget, Done returns a closed
// channel and Err errJQBudget. It is used by one goroutine (the one
// running the evaluation), so it is not safe for concurrent use.
type meteredContext struct {
	context.Context
	steps      int
	maxSteps   int
	startAlloc uint64
	sample     [1]metrics.Sample
	err        error
	stopped    chan struct{}
}

const heapAllocsMetric = "/gc/heap/allocs:bytes"

func newMeteredContext(parent context.Context, maxSteps int) *meteredContext {
	if maxSteps <= 0 {
		maxSteps = maxJQSteps
	}
	m := &meteredContext{Context: parent, maxSteps: maxSteps, stopped: make(chan struct{})}
	m.sample[0].Name = heapAllocsMetric
	m.startAlloc = m.allocated()
	return m
}

func (m *meteredContext) allocated() uint64 {
	metrics.Read(m.sample[:])
	if m.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return m.sample[0].Value.Uint64()
}

func (m *meteredContext) Done() <-chan struct{} {
	if m.err == nil {
		m.steps++
		switch {
		case m.steps > m.maxSteps:
			m.stop(fmt.Errorf("%w: more than %d steps", errJQBudget, m.maxSteps))
		case m.steps%jqAllocCheckEvery == 0:
			if a := m.allocated(); a > m.startAlloc && a-m.startAlloc > maxJQAllocBytes {
				m.stop(fmt.Errorf("%w: more than %d MiB allocated", errJQBudget, maxJQAllocBytes>>20))
			}
		}
	}
	if m.err != nil {
		return m.stopped
	}
	return m.Context.Done()
}

func (m *meteredContext) stop(err error) {
	m.err = err
	close(m.stopped)
}

func (m *meteredContext) Err() error {
	if m.err != nil {
		return m.err
	}
	return m.Context.Err()
}
