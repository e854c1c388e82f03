package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// kustomizeGroup is the API group of kustomization files and components.
const kustomizeGroup = "kustomize.config.k8s.io"

// parse reads the documents of one file into l. A file whose first
// non-space byte is '{' is a JSON stream, as for kubectl; if it is not valid
// JSON but is valid YAML (flow style), it is read as YAML (where kubectl
// would fail).
func (l *loader) parse(file string, data []byte) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 BOM
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		docs, syntax, jsonErr := decodeJSONStream(file, data)
		if jsonErr == nil {
			for i, d := range docs {
				l.document(Source{File: file, Line: d.pos.line, Doc: i}, d.value, d.pos)
			}
			return
		}
		if syntax {
			yl := &loader{}
			yl.parseYAML(file, data)
			if !yl.yamlSyntax {
				for _, o := range yl.set.Objects {
					l.add(o)
				}
				l.set.Skipped = append(l.set.Skipped, yl.set.Skipped...)
				l.errs = append(l.errs, yl.errs...)
				return
			}
		}
		l.errs = append(l.errs, jsonErr)
		return
	}
	l.parseYAML(file, data)
}

// chunk is one document's text as split at "---" lines.
type chunk struct {
	text  []byte
	start int // 1-based line of text's first line in the file
	first bool
	err   string // a bad separator line: the chunk is not parsed
}

// splitDocuments splits data at document separators the way kubectl's
// YAMLReader does: a line that starts with "---" followed by nothing, space
// or a comment. Content after "--- " on the same line is rejected, as
// kubectl does. Parsing each document on its own lets a syntax error in one
// document be reported without hiding errors in the next.
func splitDocuments(data []byte) []chunk {
	var chunks []chunk
	cur := chunk{start: 1, first: true}
	begin, line := 0, 1
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			end += off
			next = end + 1
		} else {
			end = len(data)
		}
		text := bytes.TrimRight(data[off:end], "\r")
		if isSeparator(text) {
			cur.text = data[begin:off]
			chunks = append(chunks, cur)
			cur = chunk{start: line + 1}
			if rest := bytes.TrimSpace(text[3:]); len(rest) > 0 && rest[0] != '#' {
				cur.start = line
				cur.err = fmt.Sprintf(`content after the document separator "---" is not supported: %s; move it to the next line`, redact.Quote(string(text)))
			}
			begin = next
		}
		off = next
	}
	cur.text = data[begin:]
	return append(chunks, cur)
}

func isSeparator(line []byte) bool {
	return bytes.HasPrefix(line, []byte("---")) && (len(line) == 3 || line[3] == ' ' || line[3] == '\t')
}

// parseYAML reads a multi-document YAML stream.
func (l *loader) parseYAML(file string, data []byte) {
	doc := 0
	for _, c := range splitDocuments(data) {
		if c.err != "" {
			l.fail(file, c.start, "%s", c.err)
			doc++
			continue
		}
		n := l.parseChunk(file, c, doc)
		if n == 0 && !c.first {
			n = 1 // an empty document between separators
		}
		doc += n
	}
}

// parseChunk parses the documents of one chunk (more than one only when
// "..." ends a document) and returns how many it saw.
func (l *loader) parseChunk(file string, c chunk, doc int) int {
	dec := yaml.NewDecoder(bytes.NewReader(c.text))
	n := 0
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			line, msg := yamlErrorLine(err)
			// A parser error at the end of text without a final newline
			// comes one line too far ("[" gave line 2 of a 1-line file).
			line = min(line, lineCount(c.text))
			l.errs = append(l.errs, &ParseError{File: file, Line: c.start - 1 + line, Err: errors.New(msg)})
			l.yamlSyntax = true
			return n + 1
		}
		conv := &converter{file: file, offset: c.start - 1}
		v, p, err := conv.value(&node)
		if err != nil {
			l.errs = append(l.errs, err)
		} else {
			l.document(Source{File: file, Line: p.line, Doc: doc + n}, v, p)
		}
		n++
	}
}

// lineCount is the number of lines of text as YAML counts them: breaks
// are \n, \r\n, a lone \r, NEL, LS and PS; the text after the last
// break is a line even when empty.
func lineCount(text []byte) int {
	n := 1 + bytes.Count(text, []byte("\n")) + bytes.Count(text, []byte("\r")) - bytes.Count(text, []byte("\r\n"))
	for _, b := range []string{"\u0085", "\u2028", "\u2029"} {
		n += bytes.Count(text, []byte(b))
	}
	return n
}

var yamlErrorRE = regexp.MustCompile(`^yaml: (?:line ([0-9]+): )?(.*)$`)

// parserErrors are the messages of go-yaml's parser (as opposed to its
// scanner). go-yaml reports the line of a parser error 0-based (one too
// small) and of a scanner error 1-based; it omits the line when it is the
// first one. See (*parser).fail in go.yaml.in/yaml/v3.
var parserErrors = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlErrorLine returns the 1-based line (within the parsed text) and the
// message of a go-yaml syntax error. Errors go-yaml gives without a line
// are on the first line, or (unknown anchors) not placed: line 1 either way.
func yamlErrorLine(err error) (int, string) {
	m := yamlErrorRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 1, err.Error()
	}
	msg := "yaml: " + m[2]
	if m[1] == "" {
		return 1, msg
	}
	line, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return 1, msg
	}
	if parserErrors[m[2]] {
		line++
	}
	return line, msg
}

// document adds one decoded document: an object, the items of a List, a
// skipped kustomization, or nothing for an empty document.
func (l *loader) document(src Source, v any, p pos) {
	switch v := v.(type) {
	case nil:
		return
	case map[string]any:
		l.object(src, v, p)
	default:
		l.fail(src.File, src.Line, "expected a Kubernetes object (a mapping), found %s", describe(v))
	}
}

func (l *loader) object(src Source, m map[string]any, p pos) {
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if group, _, ok := strings.Cut(apiVersion, "/"); ok && group == kustomizeGroup {
		dir := "DIR"
		if src.File != Stdin && !src.Kustomize {
			dir = filepath.Dir(src.File)
		}
		l.set.Skipped = append(l.set.Skipped, Skipped{
			Source: src,
			Reason: fmt.Sprintf("%s is kustomize configuration, not a cluster object: build it with -k %s", kind, dir),
		})
		return
	}
	if items, ok := listItems(m, kind); ok {
		if err := checkTypeFields(m); err != "" {
			l.fail(src.File, src.Line, "%s", err)
			return
		}
		for i, item := range items {
			isrc, ip := src, pos{line: src.Line}
			if i < len(p.items) {
				ip = p.items[i]
				isrc.Line = ip.line
			}
			if _, isMap := item.(map[string]any); !isMap {
				l.fail(isrc.File, isrc.Line, "%s items[%d]: expected a Kubernetes object (a mapping), found %s", kind, i, describe(item))
				continue
			}
			l.document(isrc, item, ip)
		}
		return
	}
	if err := checkObject(m); err != "" {
		l.fail(src.File, src.Line, "%s", err)
		return
	}
	l.add(Object{Obj: &unstructured.Unstructured{Object: m}, Source: src})
}

// listItems returns the items of a List kind: any kind ending in "List"
// with an items array (a null items is an empty List).
func listItems(m map[string]any, kind string) ([]any, bool) {
	if !strings.HasSuffix(kind, "List") {
		return nil, false
	}
	items, ok := m["items"]
	if !ok {
		return nil, false
	}
	switch items := items.(type) {
	case nil:
		return nil, true
	case []any:
		return items, true
	default:
		return nil, false
	}
}

// checkTypeFields returns what is wrong with apiVersion and kind, or "".
func checkTypeFields(m map[string]any) string {
	var c fieldCheck
	c.str(m, "apiVersion", "apiVersion")
	c.str(m, "kind", "kind")
	return c.String()
}

// checkObject returns what makes m unusable as an object, or "": it needs
// apiVersion, kind, and metadata.name or metadata.generateName.
func checkObject(m map[string]any) string {
	var c fieldCheck
	c.str(m, "apiVersion", "apiVersion")
	c.str(m, "kind", "kind")
	switch md := m["metadata"].(type) {
	case nil:
		c.missing = append(c.missing, `"metadata.name" (or "metadata.generateName")`)
	case map[string]any:
		var names fieldCheck // either will do: missing only if both are
		name := names.str(md, "name", "metadata.name")
		gen := names.str(md, "generateName", "metadata.generateName")
		c.wrong = append(c.wrong, names.wrong...)
		if name == "" && gen == "" && len(names.wrong) == 0 {
			c.missing = append(c.missing, `"metadata.name" (or "metadata.generateName")`)
		}
	default:
		c.wrong = append(c.wrong, fmt.Sprintf(`"metadata" must be a mapping, found %s`, describe(md)))
	}
	return c.String()
}

// fieldCheck collects missing and mistyped fields.
type fieldCheck struct {
	missing, wrong []string
}

// str returns the string field m[key], noting it (as path) if missing or
// not a string.
func (c *fieldCheck) str(m map[string]any, key, path string) string {
	switch v := m[key].(type) {
	case string:
		if v != "" {
			return v
		}
	case nil:
	default:
		c.wrong = append(c.wrong, fmt.Sprintf("%q must be a string, found %s", path, describe(v)))
		return ""
	}
	c.missing = append(c.missing, strconv.Quote(path))
	return ""
}

func (c *fieldCheck) String() string {
	var problems []string
	if n := len(c.missing); n > 0 {
		list := c.missing[n-1]
		if n > 1 {
			list = strings.Join(c.missing[:n-1], ", ") + " and " + list
		}
		problems = append(problems, "object is missing "+list)
	}
	return strings.Join(append(problems, c.wrong...), "; ")
}

// describe names the JSON type of v for messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "the string " + redact.Quote(v) // it may be a secret in the wrong file
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	case int64, float64:
		return fmt.Sprintf("the number %v", v)
	case []any:
		return "a sequence"
	case map[string]any:
		return "a mapping"
	default:
		return fmt.Sprintf("%T", v)
	}
}
