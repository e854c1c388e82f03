package repograph

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Style is how a diagram node is drawn: the decisions of WriteDOT, shared
// with the pictures of pkg/repograph/picture.
type Style int

// Styles.
const (
	// StylePlain is a node whose paths are in this repository.
	StylePlain Style = iota
	// StyleExternal (dashed) points at another repository, a revision not
	// checked out or a Helm chart: not followed.
	StyleExternal
	// StyleMissing (red) has a path that does not exist or leaves the
	// repository.
	StyleMissing
	// StyleUnknown (grey, dashed) is a dependsOn target not found in the
	// repository.
	StyleUnknown
)

// DiagramNode is one box: its ID, its label's lines and its style.
type DiagramNode struct {
	ID    string
	Lines []string
	Style Style
}

// DiagramEdge goes From a node To another: the node's path holds To, or
// (DependsOn) From depends on To.
type DiagramEdge struct {
	From, To  string
	DependsOn bool
}

// Cluster is the root nodes of one directory (an environment).
type Cluster struct {
	Label string
	Nodes []string
}

// Diagram is the graph as boxes and arrows, in the order WriteDOT writes
// them. Labels come from repository files: untrusted text.
type Diagram struct {
	Clusters []Cluster
	Nodes    []DiagramNode
	Edges    []DiagramEdge
	Notes    []string
}

// Diagram returns the graph as boxes and arrows.
func (g *Graph) Diagram() *Diagram {
	d := &Diagram{Notes: slices.Clone(g.Notes)}
	dirs, byDir := g.groups()
	for _, dir := range dirs {
		c := Cluster{Label: dir + "/"}
		for _, n := range sortSiblings(byDir[dir]) {
			c.Nodes = append(c.Nodes, n.ID())
		}
		d.Clusters = append(d.Clusters, c)
	}
	var all []*Node
	for _, n := range slices.Concat(g.Nodes, g.Variants, g.Others) {
		if !n.Replaced() {
			all = append(all, n)
		}
	}
	for _, n := range all {
		lines := []string{n.Title()}
		missing, external := false, false
		for _, t := range n.Targets {
			lines = append(lines, targetText(t))
			missing = missing || (!t.External && !t.NotCheckedOut && (!t.Exists || t.Escapes))
			external = external || t.External || t.NotCheckedOut || t.HelmChart
		}
		if rev := revisionOf(n); rev != "" && rev != "HEAD" {
			lines = append(lines, "@"+rev)
		}
		style := StylePlain
		switch {
		case missing:
			style = StyleMissing
		case external:
			style = StyleExternal
		}
		d.Nodes = append(d.Nodes, DiagramNode{ID: n.ID(), Lines: lines, Style: style})
	}
	for _, n := range all {
		for _, c := range n.Children {
			d.Edges = append(d.Edges, DiagramEdge{From: n.ID(), To: c.ID()})
		}
	}
	// A dependency not in the repository is a placeholder, one per
	// directory and name, so that the picture shows what the text's
	// "(not found)" says.
	unknown := map[string]string{}
	for _, n := range all {
		for _, dep := range n.DependsOn {
			to := ""
			if dep.Node != nil {
				to = dep.Node.ID()
			} else {
				key := path.Dir(n.File) + "\x00" + dep.Namespace + "/" + dep.Name
				if to = unknown[key]; to == "" {
					to = fmt.Sprintf("u%d", len(unknown)+1)
					unknown[key] = to
					d.Nodes = append(d.Nodes, DiagramNode{ID: to, Style: StyleUnknown,
						Lines: []string{"Kustomization " + dep.Namespace + "/" + dep.Name, "(not found)"}})
				}
			}
			d.Edges = append(d.Edges, DiagramEdge{From: n.ID(), To: to, DependsOn: true})
		}
	}
	return d
}

// Node returns the node with the given ID.
func (d *Diagram) Node(id string) (DiagramNode, bool) {
	for _, n := range d.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return DiagramNode{}, false
}

// dotAttrs is a node's DOT attributes.
func (n DiagramNode) dotAttrs() string {
	attrs := "label=" + dotQuote(strings.Join(n.Lines, "\n"))
	switch n.Style {
	case StyleMissing:
		attrs += `, color=red, fontcolor=red`
	case StyleExternal:
		attrs += `, style="rounded,dashed"`
	case StyleUnknown:
		attrs += `, style="rounded,dashed", color=gray, fontcolor=gray`
	}
	return attrs
}
