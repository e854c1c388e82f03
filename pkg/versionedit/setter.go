package versionedit

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/imageref"
)

// markerRE matches a Flux image-automation setter comment ending a line,
// as loosely as JSON allows white space in it.
var markerRE = regexp.MustCompile(`#[ \t]*\{[ \t]*"\$imagepolicy"[ \t]*:[ \t]*"([^"\\]*)"[ \t]*\}[ \t]*$`)

// marker is a value carrying a setter comment of the location's policy.
type marker struct {
	field string // "" (full image reference), "tag", "name" or "digest"
	node  *yaml.Node
	path  string
}

// markers returns the values marked with the setter's policy, in file
// order.
func (p *parsed) markers(setter string) ([]marker, error) {
	src := p.src
	var (
		byLine  map[int][]valueNode
		markers []marker
	)
	for line := 1; line <= src.Lines(); line++ {
		start := src.LineStart(line)
		text := src.data[start:src.LineEnd(line)]
		m := markerRE.FindSubmatchIndex(text)
		if m == nil {
			continue
		}
		parts := strings.Split(string(text[m[2]:m[3]]), ":")
		if len(parts) < 2 || parts[0]+":"+parts[1] != setter {
			continue
		}
		mk := marker{}
		if len(parts) > 2 {
			mk.field = parts[2]
		}
		if len(parts) > 3 || len(parts) == 3 && mk.field != "tag" && mk.field != "name" && mk.field != "digest" {
			return nil, fmt.Errorf("line %d: unsupported $imagepolicy marker %q", line, text[m[2]:m[3]])
		}
		if byLine == nil {
			byLine = p.valuesByLine()
		}
		hash := start + m[0]
		var spanErr error
		inside := false
		for _, vn := range byLine[line] {
			sp, err := src.tokenSpan(vn.node)
			if err != nil {
				spanErr = err
				continue
			}
			if sp.start <= hash && hash < sp.end {
				inside = true // the text is part of a value, not a comment
				break
			}
			if sp.end < hash && strings.Trim(string(src.data[sp.end:hash]), " \t") == "" {
				mk.node, mk.path = vn.node, vn.path
			}
		}
		switch {
		case inside:
			continue
		case mk.node != nil:
			markers = append(markers, mk)
		case spanErr != nil:
			return nil, fmt.Errorf("setter %s: %w", setter, spanErr)
		default:
			return nil, fmt.Errorf("line %d: setter %s: the marker is not a comment after a scalar value", line, setter)
		}
	}
	return markers, nil
}

// valueNode is a scalar mapping value or sequence item.
type valueNode struct {
	node *yaml.Node
	path string
}

func (p *parsed) valuesByLine() map[int][]valueNode {
	byLine := map[int][]valueNode{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], path+childPath(path, pathSeg{key: n.Content[i].Value, index: -1}))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+childPath(path, pathSeg{index: i}))
			}
		case yaml.ScalarNode:
			byLine[n.Line] = append(byLine[n.Line], valueNode{node: n, path: path})
		}
	}
	for _, root := range p.roots() {
		walk(root, "")
	}
	return byLine
}

// parseRef splits an image reference into repository, tag and digest
// (imageref.Parse).
func parseRef(ref string) (repo, tag, digest string) {
	r := imageref.Parse(ref)
	return r.Name, r.Tag, r.Digest
}

func (p *parsed) setterOccurrences(loc Location) ([]occurrence, error) {
	markers, err := p.markers(loc.Setter)
	if err != nil {
		return nil, err
	}
	occ := make([]occurrence, 0, len(markers))
	for _, mk := range markers {
		o := occurrence{lines: []int{mk.node.Line}}
		switch mk.field {
		case "":
			repo, tag, digest := parseRef(mk.node.Value)
			f := p.foundAt(mk.node, joinVersion(tag, digest), mk.path)
			f.Image = repo
			o.found = &f
		case "tag", "digest":
			f := p.foundAt(mk.node, mk.node.Value, mk.path)
			o.found = &f
		}
		occ = append(occ, o)
	}
	return occ, nil
}

func (p *parsed) planSetter(loc Location, v Version) ([]edit, []Change, error) {
	markers, err := p.markers(loc.Setter)
	if err != nil {
		return nil, nil, err
	}
	pl := planner{p: p}
	carriers := 0
	for _, mk := range markers {
		var value string
		switch mk.field {
		case "":
			repo, _, _ := parseRef(mk.node.Value)
			value = repo
			if v.Tag != "" {
				value += ":" + v.Tag
			}
			if v.Digest != "" {
				value += "@" + v.Digest
			}
		case "tag":
			value = v.Tag
		case "digest":
			value = v.Digest
		default:
			continue
		}
		carriers++
		if value == "" {
			return nil, nil, fmt.Errorf("line %d: setter %s:%s needs a %s, version %s has none", mk.node.Line, loc.Setter, mk.field, mk.field, v.Raw)
		}
		pl.replace(field{raw: mk.node, val: mk.node}, value, mk.path)
	}
	if carriers == 0 {
		return nil, nil, notFound(loc, "")
	}
	return pl.edits, pl.changes, pl.err
}

func (p *parsed) planSetterName(loc Location, name string) ([]edit, []Change, error) {
	markers, err := p.markers(loc.Setter)
	if err != nil {
		return nil, nil, err
	}
	pl := planner{p: p}
	carriers := 0
	for _, mk := range markers {
		value := name
		switch mk.field {
		case "":
			_, tag, digest := parseRef(mk.node.Value)
			if tag != "" {
				value += ":" + tag
			}
			if digest != "" {
				value += "@" + digest
			}
		case "name":
		default:
			continue
		}
		carriers++
		pl.replace(field{raw: mk.node, val: mk.node}, value, mk.path)
	}
	if carriers == 0 {
		return nil, nil, notFound(loc, "no image reference or name marker")
	}
	return pl.edits, pl.changes, pl.err
}
