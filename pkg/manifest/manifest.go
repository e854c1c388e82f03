package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Stdin is the filename that stands for Options.Stdin, as in `kubectl -f -`.
const Stdin = "-"

// Source says where an object came from.
type Source struct {
	// File is the path as given or walked, "-" for stdin, or for kustomize
	// the kustomization directory.
	File string
	// Line is the 1-based line in File where the object's document (or List
	// item) starts; 0 if unknown (kustomize output).
	Line int
	// Doc is the 0-based index of the YAML/JSON document in File (for
	// kustomize, in the build output). Empty documents count, as they do for
	// a YAML parser; comments before the first "---" are not a document.
	Doc int
	// Kustomize is true when File is a kustomization directory built with -k.
	Kustomize bool
}

// String returns "dir/a.yaml:12", "-:3", "a.yaml" (no line known) or
// "overlays/prod (kustomize)".
func (s Source) String() string {
	switch {
	case s.Kustomize:
		return s.File + " (kustomize)"
	case s.Line > 0:
		return s.File + ":" + strconv.Itoa(s.Line)
	default:
		return s.File
	}
}

// Object is one desired object and where it came from.
type Object struct {
	Obj    *unstructured.Unstructured
	Source Source
}

// Options says what to read, with kubectl's meaning of -f, -R and -k.
type Options struct {
	// Filenames are files, directories or "-" for stdin (kubectl -f,
	// repeatable). A file named here is read whatever its extension; in a
	// directory only .yaml, .yml and .json files are.
	Filenames []string
	// Recursive descends into subdirectories of directories in Filenames
	// (kubectl -R).
	Recursive bool
	// Kustomize is a directory to build with kustomize (kubectl -k).
	Kustomize string
	// Stdin is read for the filename "-".
	Stdin io.Reader
	// Each, when set, is given every object as soon as its file is read,
	// in Set.Objects' order, and Set.Objects stays empty: a caller that
	// keeps the objects in another form need not hold them all parsed at
	// once. When Load fails, the objects Each was given are not a Set.
	Each func(Object)
}

// Validate checks the options without touching the file system: exactly one
// of Filenames and Kustomize, "-" at most once, no URLs, no empty names.
// Load calls it; a command can call it early to fail before any work.
func (o Options) Validate() error {
	switch {
	case len(o.Filenames) > 0 && o.Kustomize != "":
		return errors.New("only one of -f or -k can be specified")
	case len(o.Filenames) == 0 && o.Kustomize == "":
		return errors.New("one of -f or -k must be specified")
	}
	if o.Kustomize != "" {
		if isURL(o.Kustomize) {
			return remoteError(o.Kustomize)
		}
		return nil
	}
	stdin := 0
	for _, name := range o.Filenames {
		switch {
		case name == "":
			return errors.New("empty filename in -f")
		case name == Stdin:
			stdin++
			if stdin > 1 {
				return errors.New(`"-" (stdin) can be given to -f only once`)
			}
		case isURL(name):
			return remoteError(name)
		}
	}
	return nil
}

func isURL(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
}

func remoteError(name string) error {
	return fmt.Errorf("reading %s: remote manifests are not supported: download it first and pass the local path", name)
}

// Skipped is a file or document that was read but holds no cluster object,
// such as a kustomization file.
type Skipped struct {
	Source Source
	Reason string
}

// Set is the result of Load: the objects in the order they were read (files
// in the order given, directory entries sorted lexically, then documents and
// List items in file order), and what was skipped.
type Set struct {
	Objects []Object
	Skipped []Skipped
}

// ParseError names the file and line of a bad manifest.
type ParseError struct {
	File string
	Line int // 1-based; 0 if unknown
	Err  error
}

// Error returns "a.yaml:7: <message>", or "a.yaml: <message>" when the line
// is unknown.
func (e *ParseError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Load reads the objects that opts name. Bad manifests and unreadable files
// do not stop it: every such error is collected and returned together
// (errors.Join, each a *ParseError or an error naming the path) with a nil
// Set, so a user sees every bad file at once. ctx is checked between files.
func Load(ctx context.Context, opts Options) (*Set, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Kustomize != "" {
		set, err := loadKustomize(ctx, opts.Kustomize)
		if err == nil && opts.Each != nil {
			for _, o := range set.Objects {
				opts.Each(o)
			}
			set.Objects = nil
		}
		return set, err
	}
	l := &loader{each: opts.Each}
	for _, name := range opts.Filenames {
		for _, f := range l.expand(name, opts.Recursive) {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("loading manifests: %w", err)
			}
			if f.skip != "" {
				l.set.Skipped = append(l.set.Skipped, Skipped{Source: Source{File: f.path}, Reason: f.skip})
				continue
			}
			data, err := readFile(f.path, opts.Stdin)
			if err != nil {
				l.errs = append(l.errs, err)
				continue
			}
			l.parse(f.path, data)
		}
	}
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return &l.set, nil
}

// loader accumulates objects, skipped entries and errors across files.
type loader struct {
	set        Set
	errs       []error
	yamlSyntax bool // a YAML syntax error was seen
	// each, when set, takes the objects instead of set.Objects.
	each func(Object)
}

func (l *loader) add(o Object) {
	if l.each != nil {
		l.each(o)
		return
	}
	l.set.Objects = append(l.set.Objects, o)
}

func (l *loader) fail(file string, line int, format string, args ...any) {
	l.errs = append(l.errs, &ParseError{File: file, Line: line, Err: fmt.Errorf(format, args...)})
}
