package cluster

import (
	"bytes"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parseListJSON decodes the JSON body of a LIST response into a listBody,
// producing exactly what utiljson.Unmarshal(body, &listBody{}) produces for
// the bodies API servers send: objects as map[string]any, arrays as []any,
// integers that fit as int64, other numbers as float64 (the rules of
// sigs.k8s.io/json's UnmarshalCaseSensitivePreserveInts).
//
// It is a single recursive-descent pass with no reflection and no separate
// validation pass; it interns object keys (every item repeats the same few
// hundred) and short string values, and makes each map and slice at its
// final size. On the benchmark's LIST bodies it makes half the allocations
// and takes about 30 % less CPU time (docs/benchmarks.md, "Decoding LIST
// responses").
//
// ok is false for anything it does not decode exactly as utiljson does:
// invalid JSON, a field of the wrong type, a repeated top-level field,
// invalid UTF-8 or a lone UTF-16 surrogate in a string, a number out of
// float64's range, nesting deeper than maxListDepth. The caller then decodes
// the body with utiljson, which returns the same result or error as before
// this parser existed.
func parseListJSON(body []byte) (lb listBody, ok bool) {
	p := listParser{data: body, keys: make(map[string]string, 512)}
	defer func() {
		// A bail anywhere below unwinds to here.
		if r := recover(); r != nil {
			if _, isBail := r.(bail); !isBail {
				panic(r)
			}
			lb, ok = listBody{}, false
		}
	}()
	p.skipSpace()
	p.expect('{')
	p.skipSpace()
	var seen [4]bool
	if !p.consume('}') {
		for {
			key := p.rawKey()
			p.skipSpace()
			p.expect(':')
			p.skipSpace()
			field := -1
			switch string(key) {
			case "apiVersion":
				field = 0
				lb.APIVersion = p.optString(lb.APIVersion)
			case "kind":
				field = 1
				lb.Kind = p.optString(lb.Kind)
			case "metadata":
				field = 2
				p.listMeta(&lb)
			case "items":
				field = 3
				lb.Items = p.items()
			default:
				p.value(0, false)
			}
			if field >= 0 {
				if seen[field] {
					// utiljson merges a repeated field into the first;
					// leave that to it.
					p.fail()
				}
				seen[field] = true
			}
			p.skipSpace()
			if p.consume('}') {
				break
			}
			p.expect(',')
			p.skipSpace()
		}
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		p.fail()
	}
	return lb, true
}

// maxListDepth bounds the nesting parseListJSON decodes itself (utiljson
// allows 10,000): deeper bodies go to utiljson.
const maxListDepth = 1000

// bail is the panic value that abandons a parse (see parseListJSON).
type bail struct{}

type listParser struct {
	data []byte
	pos  int
	// keys interns object keys: an item's keys are mostly those of the
	// items before it.
	keys map[string]string
	// fields and elems hold the members of the objects and arrays being
	// decoded, innermost last, so that each map and slice is made once at
	// its final size instead of grown.
	fields []field
	elems  []any
}

type field struct {
	key   string
	value any
}

func (p *listParser) fail() { panic(bail{}) }

func (p *listParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// consume skips c if it is next.
func (p *listParser) consume(c byte) bool {
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *listParser) expect(c byte) {
	if !p.consume(c) {
		p.fail()
	}
}

// literal skips lit (true, false or null) if it is next.
func (p *listParser) literal(lit string) bool {
	if bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
		p.pos += len(lit)
		return true
	}
	return false
}

// optString decodes a string or null into a string field holding old.
func (p *listParser) optString(old string) string {
	if p.literal("null") {
		return old
	}
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		p.fail()
	}
	return p.str(false)
}

// listMeta decodes the list's metadata, keeping its continue token.
func (p *listParser) listMeta(lb *listBody) {
	if p.literal("null") {
		return
	}
	p.expect('{')
	p.skipSpace()
	if p.consume('}') {
		return
	}
	seen := false
	for {
		key := p.rawKey()
		p.skipSpace()
		p.expect(':')
		p.skipSpace()
		if string(key) == "continue" {
			if seen {
				p.fail()
			}
			seen = true
			lb.Metadata.Continue = p.optString(lb.Metadata.Continue)
		} else {
			p.value(1, false)
		}
		p.skipSpace()
		if p.consume('}') {
			return
		}
		p.expect(',')
		p.skipSpace()
	}
}

// items decodes the list's items: objects, or null for an empty one.
func (p *listParser) items() []map[string]any {
	if p.literal("null") {
		return nil
	}
	p.expect('[')
	p.skipSpace()
	items := []map[string]any{}
	if p.consume(']') {
		return items
	}
	for {
		switch {
		case p.literal("null"):
			items = append(items, nil)
		case p.pos < len(p.data) && p.data[p.pos] == '{':
			items = append(items, p.object(1))
		default:
			p.fail()
		}
		p.skipSpace()
		if p.consume(']') {
			return items
		}
		p.expect(',')
		p.skipSpace()
	}
}

// value decodes any JSON value at nesting depth; with keep false it only
// checks and skips it.
func (p *listParser) value(depth int, keep bool) any {
	if p.pos >= len(p.data) {
		p.fail()
	}
	switch c := p.data[p.pos]; {
	case c == '"':
		return p.str(!keep)
	case c == '{':
		if !keep {
			p.skipObject(depth)
			return nil
		}
		return p.object(depth)
	case c == '[':
		return p.array(depth, keep)
	case c == '-' || c >= '0' && c <= '9':
		return p.number(keep)
	case p.literal("true"):
		return true
	case p.literal("false"):
		return false
	case p.literal("null"):
		return nil
	}
	p.fail()
	return nil
}

func (p *listParser) object(depth int) map[string]any {
	if depth++; depth > maxListDepth {
		p.fail()
	}
	p.pos++ // '{'
	p.skipSpace()
	if p.consume('}') {
		return map[string]any{}
	}
	base := len(p.fields)
	for {
		key := p.key()
		p.skipSpace()
		p.expect(':')
		p.skipSpace()
		v := p.value(depth, true)
		p.fields = append(p.fields, field{key, v})
		p.skipSpace()
		if p.consume('}') {
			break
		}
		p.expect(',')
		p.skipSpace()
	}
	fs := p.fields[base:]
	m := make(map[string]any, len(fs))
	for _, f := range fs {
		m[f.key] = f.value // a repeated key: the last wins, as in utiljson
	}
	clear(fs)
	p.fields = p.fields[:base]
	return m
}

func (p *listParser) skipObject(depth int) {
	if depth++; depth > maxListDepth {
		p.fail()
	}
	p.pos++ // '{'
	p.skipSpace()
	if p.consume('}') {
		return
	}
	for {
		p.rawKey()
		p.skipSpace()
		p.expect(':')
		p.skipSpace()
		p.value(depth, false)
		p.skipSpace()
		if p.consume('}') {
			return
		}
		p.expect(',')
		p.skipSpace()
	}
}

func (p *listParser) array(depth int, keep bool) any {
	if depth++; depth > maxListDepth {
		p.fail()
	}
	p.pos++ // '['
	p.skipSpace()
	if p.consume(']') {
		if !keep {
			return nil
		}
		return []any{}
	}
	base := len(p.elems)
	for {
		v := p.value(depth, keep)
		if keep {
			p.elems = append(p.elems, v)
		}
		p.skipSpace()
		if p.consume(']') {
			break
		}
		p.expect(',')
		p.skipSpace()
	}
	if !keep {
		return nil
	}
	a := slices.Clone(p.elems[base:])
	clear(p.elems[base:])
	p.elems = p.elems[:base]
	return a
}

// key decodes an object key, interned.
func (p *listParser) key() string {
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		p.fail()
	}
	start := p.pos + 1
	end, plain := p.scanString()
	if !plain {
		k := p.unquote(start, end)
		if s, ok := p.keys[k]; ok {
			return s
		}
		p.keys[k] = k
		return k
	}
	raw := p.data[start:end]
	if s, ok := p.keys[string(raw)]; ok {
		return s
	}
	s := string(raw)
	p.keys[s] = s
	return s
}

// rawKey checks an object key and returns it, not interned.
func (p *listParser) rawKey() []byte {
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		p.fail()
	}
	start := p.pos + 1
	end, plain := p.scanString()
	if !plain {
		return []byte(p.unquote(start, end))
	}
	return p.data[start:end]
}

// str decodes a string value; with skip it only checks it.
func (p *listParser) str(skip bool) string {
	start := p.pos + 1
	end, plain := p.scanString()
	if !plain {
		return p.unquote(start, end)
	}
	if skip {
		return ""
	}
	raw := p.data[start:end]
	if len(raw) > maxInternedValue {
		return string(raw)
	}
	// Short values repeat too: "v1", "Apply", "FieldsV1", field managers,
	// timestamps, "TCP"…
	if s, ok := p.keys[string(raw)]; ok {
		return s
	}
	s := string(raw)
	if len(p.keys) < maxInterned {
		p.keys[s] = s
	}
	return s
}

// Interning bounds: values up to maxInternedValue bytes are interned, while
// the table holds fewer than maxInterned strings.
const (
	maxInternedValue = 32
	maxInterned      = 16384
)

// scanString moves past the string starting at p.pos (its opening quote)
// and returns the end of its contents; plain says they hold no escape and
// are valid UTF-8, so that they are the string itself.
func (p *listParser) scanString() (end int, plain bool) {
	start := p.pos + 1
	plain = true
	ascii := true
	for i := start; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			p.pos = i + 1
			if plain && !ascii && !utf8.Valid(p.data[start:i]) {
				plain = false // unquote bails
			}
			return i, plain
		case c == '\\':
			plain = false
			i++ // the escaped byte; unquote checks the escape
			if i >= len(p.data) {
				p.fail()
			}
		case c < 0x20:
			p.fail()
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	p.fail()
	return 0, false
}

// unquote decodes the contents of a string that has escapes or non-ASCII
// bytes, as encoding/json does; it bails on invalid UTF-8 and on a lone
// surrogate, which encoding/json replaces with U+FFFD.
func (p *listParser) unquote(start, end int) string {
	s := p.data[start:end]
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			i++
			switch s[i] {
			case '"', '\\', '/':
				b = append(b, s[i])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s, i+1)
				i += 4
				if utf16.IsSurrogate(r) {
					if i+6 >= len(s) || s[i+1] != '\\' || s[i+2] != 'u' {
						p.fail()
					}
					r2 := hex4(s, i+3)
					dec := utf16.DecodeRune(r, r2)
					if dec == utf8.RuneError {
						p.fail()
					}
					r = dec
					i += 6
				}
				if r < 0 {
					p.fail()
				}
				b = utf8.AppendRune(b, r)
			default:
				p.fail()
			}
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				p.fail()
			}
			b = append(b, s[i:i+size]...)
			i += size
		}
	}
	return string(b)
}

// hex4 decodes the four hex digits of a \u escape at s[i:], or -1.
func hex4(s []byte, i int) rune {
	if i+4 > len(s) {
		return -1
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// number decodes a JSON number as sigs.k8s.io/json's convertNumber does:
// int64 when it has no '.' and fits, float64 otherwise.
func (p *listParser) number(keep bool) any {
	start := p.pos
	d := p.data
	i := p.pos
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		p.fail()
	}
	frac := false
	if i < len(d) && d[i] == '.' {
		frac = true
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.fail()
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	exp := false
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		exp = true
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.fail()
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	if !keep {
		return nil
	}
	lit := d[start:i]
	if !frac && !exp && len(lit) <= 18 {
		// Fits in int64 for sure: no allocation, no strconv.
		var n int64
		neg := lit[0] == '-'
		for _, c := range lit[btoi(neg):] {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return n
	}
	s := string(lit)
	if !frac {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		p.fail()
	}
	return f
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
