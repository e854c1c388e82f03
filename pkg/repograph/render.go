package repograph

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
)

// waveAnnotation orders Argo CD syncs.
const waveAnnotation = "argocd.argoproj.io/sync-wave"

// targetText describes where a node points.
func targetText(t Target) string {
	switch {
	case t.External && t.RepoURL == "" && t.Path == "":
		return "(another source)"
	case t.External:
		s := t.RepoURL
		if p := strings.Trim(strings.TrimPrefix(t.Path, "./"), "/"); p != "" && p != "." {
			s += "//" + p
		}
		return s + " (external)"
	case t.NotCheckedOut:
		p := strings.Trim(strings.TrimPrefix(t.Path, "./"), "/")
		if p == "" {
			p = "."
		}
		return p + " (not in this checkout: not followed)"
	case t.Escapes && t.ArtifactDir != "":
		return t.Path + " (outside the artifact, pushed from " + t.ArtifactDir + ")"
	case t.Escapes:
		return t.Path + " (outside the repository)"
	case !t.Exists:
		return t.Dir + " (missing)"
	case t.HelmChart && t.Rendered:
		return t.Dir + " (Helm chart)"
	case t.HelmChart:
		return t.Dir + " (Helm chart: not rendered)"
	}
	return t.Dir
}

func revisionOf(n *Node) string {
	for _, t := range n.Targets {
		if t.Revision != "" {
			return t.Revision
		}
	}
	return ""
}

func (n *Node) wave() string {
	return Scalar(Lookup(n.Node, "metadata", "annotations", waveAnnotation))
}

// line is one node's text without tree decoration.
func (n *Node) line(parentRev string) string {
	var b strings.Builder
	b.WriteString(n.Title())
	var targets []string
	for _, t := range n.Targets {
		targets = append(targets, targetText(t))
	}
	if len(targets) > 0 {
		b.WriteString(" → " + strings.Join(targets, ", "))
	}
	for _, t := range n.Targets {
		if t.Via != "" {
			b.WriteString(" (via ArtifactGenerator " + t.Via + ")")
		}
		if t.Artifact != "" {
			b.WriteString(" (OCI artifact " + t.Artifact + ", pushed from " + t.ArtifactDir + ")")
		}
	}
	if rev := revisionOf(n); rev != "" && rev != "HEAD" && rev != parentRev {
		b.WriteString(" @" + rev)
	}
	if w := n.wave(); w != "" {
		b.WriteString(" [wave " + w + "]")
	}
	if n.Kind == KindApplicationSet {
		b.WriteString(" (generates Applications at run time; not expanded)")
	}
	if len(n.DependsOn) > 0 {
		var deps []string
		for _, d := range n.DependsOn {
			s := d.Name
			if d.Namespace != n.Namespace {
				s = d.Namespace + "/" + d.Name
			}
			if d.Node == nil {
				s += " (not found)"
			}
			deps = append(deps, s)
		}
		b.WriteString(" (depends on " + strings.Join(deps, ", ") + ")")
	}
	return b.String()
}

// groups returns the roots by the directory of their file, directories in
// the order of their first root.
func (g *Graph) groups() (dirs []string, byDir map[string][]*Node) {
	byDir = map[string][]*Node{}
	for _, n := range g.Roots {
		d := path.Dir(n.File)
		if _, ok := byDir[d]; !ok {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], n)
	}
	return dirs, byDir
}

// WriteText writes the graph as a tree: one block per directory holding
// root nodes, children indented under the node whose path holds them.
func (g *Graph) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if len(g.Nodes) == 0 {
		fmt.Fprintln(bw, "no Argo CD Applications or Flux Kustomizations found")
		return bw.Flush()
	}
	dirs, byDir := g.groups()
	for i, d := range dirs {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "%s/\n", d)
		roots := sortSiblings(byDir[d])
		for j, n := range roots {
			g.writeNode(bw, n, "", j == len(roots)-1, "", map[*Node]bool{})
		}
	}
	if len(g.Notes) > 0 {
		fmt.Fprintln(bw)
		for _, note := range g.Notes {
			fmt.Fprintf(bw, "note: %s\n", note)
		}
	}
	return bw.Flush()
}

func (g *Graph) writeNode(w io.Writer, n *Node, prefix string, last bool, parentRev string, stack map[*Node]bool) {
	branch, next := "├── ", "│   "
	if last {
		branch, next = "└── ", "    "
	}
	if stack[n] {
		fmt.Fprintf(w, "%s%s%s (cycle)\n", prefix, branch, n.Title())
		return
	}
	fmt.Fprintf(w, "%s%s%s\n", prefix, branch, n.line(parentRev))
	stack[n] = true
	defer delete(stack, n)
	rev := revisionOf(n)
	if rev == "" {
		rev = parentRev
	}
	children := sortChildren(n.Children)
	for i, c := range children {
		g.writeNode(w, c, prefix+next, i == len(children)-1, rev, stack)
	}
}

// sortChildren orders children by sync wave (Argo CD), then dependencies
// (Flux), then file and line.
func sortChildren(nodes []*Node) []*Node {
	out := sortSiblings(nodes)
	waveOf := func(n *Node) int {
		var v int
		if _, err := fmt.Sscan(n.wave(), &v); err != nil {
			return 0
		}
		return v
	}
	// Stable insertion by wave keeps the dependency order within a wave.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && waveOf(out[j]) < waveOf(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// dotQuote quotes s as a DOT string.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// WriteDOT writes the graph in Graphviz DOT: a box per node (dashed when it
// points at another repository, red when its path is missing), solid edges
// from a node to the nodes its path holds, dashed edges labelled dependsOn
// (to a grey dashed "(not found)" box for a Kustomization not in the
// repository), and the root nodes of one directory in a cluster.
func (g *Graph) WriteDOT(w io.Writer) error {
	d := g.Diagram()
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "digraph gitops {")
	fmt.Fprintln(bw, "  rankdir=LR;")
	fmt.Fprintln(bw, `  node [shape=box, style=rounded, fontname="sans-serif"];`)
	for i, c := range d.Clusters {
		fmt.Fprintf(bw, "  subgraph cluster_%d {\n", i+1)
		fmt.Fprintf(bw, "    label=%s;\n", dotQuote(c.Label))
		for _, id := range c.Nodes {
			fmt.Fprintf(bw, "    %s;\n", id)
		}
		fmt.Fprintln(bw, "  }")
	}
	// Placeholders for dependencies not found are declared before their
	// first edge.
	declared := map[string]bool{}
	for _, n := range d.Nodes {
		if n.Style != StyleUnknown {
			fmt.Fprintf(bw, "  %s [%s];\n", n.ID, n.dotAttrs())
		}
	}
	for _, e := range d.Edges {
		if !e.DependsOn {
			fmt.Fprintf(bw, "  %s -> %s;\n", e.From, e.To)
			continue
		}
		if n, ok := d.Node(e.To); ok && n.Style == StyleUnknown && !declared[e.To] {
			declared[e.To] = true
			fmt.Fprintf(bw, "  %s [%s];\n", n.ID, n.dotAttrs())
		}
		fmt.Fprintf(bw, "  %s -> %s [style=dashed, label=\"dependsOn\"];\n", e.From, e.To)
	}
	if len(d.Notes) > 0 {
		fmt.Fprintf(bw, "  labelloc=b;\n  labeljust=l;\n  label=%s;\n", dotQuote("note: "+strings.Join(d.Notes, "\nnote: ")))
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}
