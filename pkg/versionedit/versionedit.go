package versionedit

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	// ErrNotFound is wrapped by errors saying the location is not in the
	// data, e.g. "kustomize image ghcr.io/acme/web not found".
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous is wrapped by Set's errors when the location matches
	// several places that are not all meant to change (two images entries of
	// the same name, several HelmReleases without a name filter).
	ErrAmbiguous = errors.New("ambiguous")
	// ErrRange is wrapped by Set's errors when the version to write, or
	// the value it would replace, is a semver range ("6.x", ">=1.0.0",
	// "~1.2", "^1.2.3", "*") rather than a version: writing one over the
	// other would change what the environment tracks, not promote a version.
	ErrRange = errors.New("semver range")
)

// Found is one place where the location's version is written.
type Found struct {
	// Version is the version written there. It is empty when the place
	// exists but carries no version: a kustomize entry without newTag or
	// digest, an image reference without tag.
	Version string
	// Image is the image name the version applies to, where the location
	// says it: a kustomize entry's newName (else its name), the repository
	// of a setter's full image reference.
	Image string
	// Path is the YAML path of the value, such as "images[1].newTag".
	Path string
	// Line and Column (1-based, column in characters) locate the value;
	// for an alias, its anchor.
	Line, Column int
}

// Change is one edit made by Set or SetImageName.
type Change struct {
	// Path is the YAML path of the changed value.
	Path string
	// Line is the 1-based line of the value in the original data; for an
	// inserted field, the line it has in the new data.
	Line int
	// Old is empty for an inserted field, New for a removed one.
	Old, New string
}

// String renders "line 7 images[0].newTag: 1.4.1 → 1.4.2".
func (c Change) String() string {
	old, nw := c.Old, c.New
	if old == "" {
		old = "(none)"
	}
	if nw == "" {
		nw = "(removed)"
	}
	return "line " + strconv.Itoa(c.Line) + " " + c.Path + ": " + old + " → " + nw
}

// Read returns every place where the location's version is written in
// data, in file order. It fails with ErrNotFound when there is none and
// names the line when the YAML structure is not what the location expects.
func Read(data []byte, loc Location) ([]Found, error) {
	if err := loc.Validate(); err != nil {
		return nil, err
	}
	p, err := parse(data)
	if err != nil {
		return nil, err
	}
	occ, err := p.locate(loc)
	if err != nil {
		return nil, err
	}
	found := make([]Found, 0, len(occ))
	for _, o := range occ {
		if o.found != nil {
			found = append(found, *o.found)
		}
	}
	if len(found) == 0 {
		return nil, notFound(loc, "")
	}
	return found, nil
}

// Set writes version at the location and returns the new data and the
// changes, touching no other byte: only the scalars carrying the version are
// replaced, each in its original quoting style (a plain scalar that would
// not read back as a string, such as 1.10, is double quoted). When the data
// already carries the version it is returned as is with no changes.
//
// A version is a tag, a digest ("sha256:…") or "tag@digest". Setters
// update every marker of the policy: full image references get the new tag
// and digest, ":tag" and ":digest" markers their part (a part the version
// lacks is an error). A kustomize entry is made to read back exactly as the
// version: newTag is set (or inserted after name), a digest is set (or
// inserted), and a newTag or digest the version lacks is removed — or
// renamed in place to the field the version needs, e.g. setting a tag on an
// entry with only a digest turns "digest: sha256:…" into "newTag: 1.4.2".
//
// A value written as an alias is changed at its anchor (which changes every
// alias of it), and a key inherited through a merge key (<<) in the mapping
// it is merged from.
//
// Set refuses versions that cannot be written as a one-line YAML scalar
// (empty, control characters, leading or trailing white space) and, for
// image locations, versions that are not an image tag or digest. It refuses
// with ErrRange to write a semver range, or to replace one (IsRange), and
// an OCIRepository's spec.ref.digest takes only a digest, its tag only a
// tag.
func Set(data []byte, loc Location, version string) ([]byte, []Change, error) {
	if err := loc.Validate(); err != nil {
		return nil, nil, err
	}
	if err := checkValue("version", version); err != nil {
		return nil, nil, fmt.Errorf("setting %s: %w", loc, err)
	}
	v := ParseVersion(version)
	if IsRange(version) {
		return nil, nil, fmt.Errorf("setting %s: %q is a %w, not a version", loc, version, ErrRange)
	}
	if loc.KustomizeImage != "" || loc.Setter != "" {
		if err := checkImageVersion(v); err != nil {
			return nil, nil, fmt.Errorf("setting %s: %w", loc, err)
		}
	}
	return edited(data, func(p *parsed) ([]edit, []Change, error) { return p.plan(loc, v) })
}

// SetImageName changes the image name of a kustomize images entry (its
// newName, inserted after name when absent) or of a setter's markers (the
// repository of full image references and the "namespace:name:name"
// markers), leaving tags and digests alone.
func SetImageName(data []byte, loc Location, name string) ([]byte, []Change, error) {
	if err := loc.Validate(); err != nil {
		return nil, nil, err
	}
	if loc.KustomizeImage == "" && loc.Setter == "" {
		return nil, nil, fmt.Errorf("setting image name: %s carries no image name", loc)
	}
	if err := checkImageName(name); err != nil {
		return nil, nil, fmt.Errorf("setting image name of %s: %w", loc, err)
	}
	return edited(data, func(p *parsed) ([]edit, []Change, error) { return p.planName(loc, name) })
}

// edited applies a plan and checks the result: it must parse and the same
// plan on it must be empty, else nothing is returned.
func edited(data []byte, plan func(*parsed) ([]edit, []Change, error)) ([]byte, []Change, error) {
	p, err := parse(data)
	if err != nil {
		return nil, nil, err
	}
	edits, changes, err := plan(p)
	if err != nil {
		return nil, nil, err
	}
	if len(edits) == 0 {
		return data, nil, nil
	}
	out, err := applyEdits(data, edits)
	if err != nil {
		return nil, nil, err
	}
	check, err := parse(out)
	if err != nil {
		return nil, nil, fmt.Errorf("internal error: the edited data does not parse: %w", err)
	}
	if again, _, err := plan(check); err != nil {
		return nil, nil, fmt.Errorf("internal error: the edited data does not read back: %w", err)
	} else if len(again) > 0 {
		return nil, nil, errors.New("internal error: the edited data does not read back as the requested value")
	}
	slices.SortStableFunc(changes, func(a, b Change) int { return a.Line - b.Line })
	return out, changes, nil
}

// occurrence is one version-carrying place: found is nil for places that
// carry no version (a setter's name marker); lines are the lines of every
// key and value that belongs to it.
type occurrence struct {
	found *Found
	lines []int
}

func (p *parsed) locate(loc Location) ([]occurrence, error) {
	switch {
	case loc.KustomizeImage != "":
		return p.kustomizeOccurrences(loc)
	case loc.Setter != "":
		return p.setterOccurrences(loc)
	}
	hits, err := p.scalarHits(loc)
	if err != nil {
		return nil, err
	}
	occ := make([]occurrence, 0, len(hits))
	for _, h := range hits {
		version := resolve(h.value).Value
		if resolve(h.value).Tag == "!!null" {
			version = ""
		}
		f := p.foundAt(h.value, version, h.path)
		occ = append(occ, occurrence{found: &f, lines: nodeLines(h.key, h.value)})
	}
	return occ, nil
}

func (p *parsed) plan(loc Location, v Version) ([]edit, []Change, error) {
	switch {
	case loc.KustomizeImage != "":
		return p.planKustomize(loc, v)
	case loc.Setter != "":
		return p.planSetter(loc, v)
	}
	hits, err := p.scalarHits(loc)
	if err != nil {
		return nil, nil, err
	}
	if len(hits) == 0 {
		return nil, nil, notFound(loc, "")
	}
	if len(hits) > 1 {
		lines := make([]int, len(hits))
		for i, h := range hits {
			lines[i] = resolve(h.value).Line
		}
		hint := ""
		if loc.HelmReleaseChart || loc.OCIRepository || loc.HelmChart || loc.ArgoTargetRevision {
			hint = "; set name to choose one"
		}
		return nil, nil, ambiguous(loc, lines, hint)
	}
	h := hits[0]
	if t := resolve(h.value); t.Value != v.Raw && IsRange(t.Value) {
		return nil, nil, fmt.Errorf("line %d: %s is the %w %q, not a version: pin a version there by hand, then promote", t.Line, h.path, ErrRange, t.Value)
	}
	if loc.OCIRepository {
		switch {
		case strings.HasSuffix(h.path, ".digest") && (v.Tag != "" || v.Digest == ""):
			return nil, nil, fmt.Errorf("line %d: %s takes a digest, not %q", resolve(h.value).Line, h.path, v.Raw)
		case strings.HasSuffix(h.path, ".tag") && (v.Digest != "" || !imageTagRE.MatchString(v.Tag)):
			return nil, nil, fmt.Errorf("line %d: %s takes an OCI tag, not %q", resolve(h.value).Line, h.path, v.Raw)
		}
	}
	return p.replace(h.value, v.Raw, h.path)
}

func (p *parsed) planName(loc Location, name string) ([]edit, []Change, error) {
	if loc.KustomizeImage != "" {
		return p.planKustomizeName(loc, name)
	}
	return p.planSetterName(loc, name)
}

func notFound(loc Location, detail string) error {
	if detail != "" {
		detail = ": " + detail
	}
	return fmt.Errorf("%s %w%s", loc, ErrNotFound, detail)
}

func ambiguous(loc Location, lines []int, hint string) error {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = strconv.Itoa(l)
	}
	return fmt.Errorf("%s is %w: %d matches, at lines %s%s", loc, ErrAmbiguous, len(lines), strings.Join(s, ", "), hint)
}

// replace plans writing value into the scalar n (following an alias to its
// anchor); nothing when it already holds value.
func (p *parsed) replace(n *yaml.Node, value, path string) ([]edit, []Change, error) {
	t := resolve(n)
	if t.Kind != yaml.ScalarNode {
		return nil, nil, fmt.Errorf("line %d: %s is %s, not a scalar", t.Line, path, kindName(t))
	}
	if t.Value == value {
		return nil, nil, nil
	}
	if t.Style&yaml.TaggedStyle != 0 && t.Tag != "!!str" {
		return nil, nil, fmt.Errorf("line %d: %s is tagged %s, not a string", t.Line, path, t.Tag)
	}
	sp, err := p.src.tokenSpan(t)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	e := edit{start: sp.start, end: sp.end, text: render(value, t.Style, p.inFlow(t))}
	return []edit{e}, []Change{{Path: path, Line: sp.line, Old: t.Value, New: value}}, nil
}

// foundAt describes the value n (following an alias), located at its token
// when that can be found.
func (p *parsed) foundAt(n *yaml.Node, version, path string) Found {
	t := resolve(n)
	f := Found{Version: version, Path: path, Line: t.Line, Column: t.Column}
	if sp, err := p.src.tokenSpan(t); err == nil {
		f.Line, f.Column = sp.line, p.src.Column(sp.start)
	}
	return f
}

// nodeLines returns the lines of keys and (alias-resolved) values.
func nodeLines(nodes ...*yaml.Node) []int {
	var lines []int
	for _, n := range nodes {
		if n == nil {
			continue
		}
		lines = append(lines, n.Line)
		if t := resolve(n); t != n {
			lines = append(lines, t.Line)
		}
	}
	return lines
}
