package picture

import (
	"cmp"
	"math"
	"slices"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
)

// Metrics measure text: the width of a line and the height of a line of
// a node's label.
type Metrics struct {
	Width      func(s string) float64
	LineHeight float64
	// Ascent is the distance from a line's top to its baseline.
	Ascent float64
}

// Point is a position in the picture, y downwards.
type Point struct{ X, Y float64 }

// Rect is a rectangle: its top left corner, width and height.
type Rect struct{ X, Y, W, H float64 }

// Contains reports whether r holds s entirely.
func (r Rect) Contains(s Rect) bool {
	return s.X >= r.X && s.Y >= r.Y && s.X+s.W <= r.X+r.W && s.Y+s.H <= r.Y+r.H
}

// Overlaps reports whether r and s share an inner point.
func (r Rect) Overlaps(s Rect) bool {
	return r.X < s.X+s.W && s.X < r.X+r.W && r.Y < s.Y+s.H && s.Y < r.Y+r.H
}

// OnBorder reports whether p lies on r's border (within eps).
func (r Rect) OnBorder(p Point, eps float64) bool {
	in := p.X >= r.X-eps && p.X <= r.X+r.W+eps && p.Y >= r.Y-eps && p.Y <= r.Y+r.H+eps
	onX := math.Abs(p.X-r.X) <= eps || math.Abs(p.X-r.X-r.W) <= eps
	onY := math.Abs(p.Y-r.Y) <= eps || math.Abs(p.Y-r.Y-r.H) <= eps
	return in && (onX || onY)
}

// Box is a node drawn: its rectangle, label lines and style.
type Box struct {
	Rect
	ID    string
	Lines []string
	Style repograph.Style
}

// Frame is an environment's cluster: a rectangle around its nodes with
// its label at the top.
type Frame struct {
	Rect
	Label string
	Nodes []string
}

// Edge is an arrow from one box's border to another's: a polyline whose
// last point is the arrowhead's tip.
type Edge struct {
	From, To  string
	Points    []Point
	DependsOn bool
	// Label is where the "dependsOn" label is written (DependsOn only):
	// its line's top left corner and extent.
	Label Rect
}

// Scene is a laid-out diagram.
type Scene struct {
	W, H    float64
	Metrics Metrics
	Frames  []Frame
	Edges   []Edge
	Boxes   []Box
	// Notes are lines written from NotesAt (the first line's top left)
	// down: the diagram's notes, or what an empty diagram means.
	Notes   []string
	NotesAt Point
}

// Box returns the box of a node.
func (s *Scene) Box(id string) (Box, bool) {
	for _, b := range s.Boxes {
		if b.ID == id {
			return b, true
		}
	}
	return Box{}, false
}

// Sizes, in pixels.
const (
	margin     = 12.0
	padX       = 8.0
	padY       = 5.0
	layerGap   = 96.0
	nodeGap    = 14.0
	framePad   = 10.0
	frameGap   = 18.0
	dummyH     = 4.0
	arrowLen   = 9.0
	arrowWidth = 4.0
	maxSweeps  = 8
)

// vertex is a node or a dummy point of an edge crossing a layer.
type vertex struct {
	node  int // index in d.Nodes, -1 for a dummy
	layer int
	w, h  float64
	x, y  float64
	pos   int // position in its layer
}

// chain is an edge through its layers: vertices from the lower layer to
// the higher one.
type chain struct {
	edge     int
	vs       []int
	reversed bool // the edge points from the higher layer to the lower
	lane     int  // for an edge within a layer: its lane right of it
}

// Layout places the diagram's nodes in layers from left to right: the
// environments' roots (clusters, in their order) in the first, every other
// node right of the nodes that hold it or depend on it (cycles broken),
// each layer ordered by barycentre sweeps to reduce crossings.
func Layout(d *repograph.Diagram, m Metrics) *Scene {
	n := len(d.Nodes)
	index := make(map[string]int, n)
	for i, nd := range d.Nodes {
		index[nd.ID] = i
	}
	clusterOf := make([]int, n)
	for i := range clusterOf {
		clusterOf[i] = -1
	}
	for c, cl := range d.Clusters {
		for _, id := range cl.Nodes {
			if i, ok := index[id]; ok && clusterOf[i] < 0 {
				clusterOf[i] = c
			}
		}
	}
	type arc struct{ from, to int }
	arcs := make([]arc, len(d.Edges))
	for k, e := range d.Edges {
		f, okF := index[e.From]
		t, okT := index[e.To]
		if !okF || !okT {
			arcs[k] = arc{-1, -1}
			continue
		}
		arcs[k] = arc{f, t}
	}

	// Layers: longest path over the edges whose target is not a cluster
	// root (those stay in the first layer), after dropping the edges that
	// close a cycle (found by a depth-first search in node order).
	out := make([][]int, n)
	for k, a := range arcs {
		if a.from >= 0 && a.from != a.to && clusterOf[a.to] < 0 {
			out[a.from] = append(out[a.from], k)
		}
	}
	state := make([]int, n) // 0 new, 1 on the stack, 2 done
	var order []int         // reverse post-order: a topological order
	back := make([]bool, len(arcs))
	var visit func(u int)
	visit = func(u int) {
		state[u] = 1
		for _, k := range out[u] {
			v := arcs[k].to
			switch state[v] {
			case 0:
				visit(v)
			case 1:
				back[k] = true
			}
		}
		state[u] = 2
		order = append(order, u)
	}
	for u := range n {
		if clusterOf[u] >= 0 && state[u] == 0 {
			visit(u)
		}
	}
	for u := range n {
		if state[u] == 0 {
			visit(u)
		}
	}
	slices.Reverse(order)
	layer := make([]int, n)
	for _, u := range order {
		for _, k := range out[u] {
			if v := arcs[k].to; !back[k] {
				layer[v] = max(layer[v], layer[u]+1)
			}
		}
	}

	// Vertices: the nodes, then one dummy per layer an edge crosses.
	vs := make([]vertex, n)
	for i, nd := range d.Nodes {
		w := 0.0
		for _, l := range nd.Lines {
			w = max(w, m.Width(l))
		}
		vs[i] = vertex{node: i, layer: layer[i], w: math.Ceil(w + 2*padX), h: math.Ceil(float64(max(len(nd.Lines), 1))*m.LineHeight + 2*padY)}
	}
	var chains []chain
	for k, a := range arcs {
		if a.from < 0 {
			continue
		}
		lo, hi, rev := a.from, a.to, false
		if layer[lo] > layer[hi] {
			lo, hi, rev = hi, lo, true
		}
		c := chain{edge: k, vs: []int{lo}, reversed: rev}
		for l := layer[lo] + 1; l < layer[hi]; l++ {
			vs = append(vs, vertex{node: -1, layer: l, h: dummyH})
			c.vs = append(c.vs, len(vs)-1)
		}
		c.vs = append(c.vs, hi)
		chains = append(chains, c)
	}
	nLayers := 0
	for _, v := range vs {
		nLayers = max(nLayers, v.layer+1)
	}
	layers := make([][]int, max(nLayers, 1))
	// The first layer: the clusters' nodes in their order, then the rest.
	for _, cl := range d.Clusters {
		for _, id := range cl.Nodes {
			if i, ok := index[id]; ok && layer[i] == 0 && !slices.Contains(layers[0], i) {
				layers[0] = append(layers[0], i)
			}
		}
	}
	for i, v := range vs {
		if v.layer > 0 || (v.layer == 0 && !slices.Contains(layers[0], i)) {
			layers[v.layer] = append(layers[v.layer], i)
		}
	}
	// Neighbours in the adjacent layers.
	up := make([][]int, len(vs))   // in layer-1
	down := make([][]int, len(vs)) // in layer+1
	for _, c := range chains {
		for j := 1; j < len(c.vs); j++ {
			a, b := c.vs[j-1], c.vs[j]
			if vs[a].layer+1 == vs[b].layer {
				down[a] = append(down[a], b)
				up[b] = append(up[b], a)
			}
		}
	}
	setPos := func() {
		for _, l := range layers {
			for p, v := range l {
				vs[v].pos = p
			}
		}
	}
	setPos()
	crossings := func() int {
		total := 0
		for l := 0; l+1 < len(layers); l++ {
			type seg struct{ a, b int }
			var segs []seg
			for _, u := range layers[l] {
				for _, v := range down[u] {
					segs = append(segs, seg{vs[u].pos, vs[v].pos})
				}
			}
			for i := range segs {
				for j := i + 1; j < len(segs); j++ {
					if (segs[i].a-segs[j].a)*(segs[i].b-segs[j].b) < 0 {
						total++
					}
				}
			}
		}
		return total
	}
	sortBy := func(l int, nb [][]int) {
		bary := func(v int) float64 {
			if len(nb[v]) == 0 {
				return float64(vs[v].pos)
			}
			s := 0.0
			for _, u := range nb[v] {
				s += float64(vs[u].pos)
			}
			return s / float64(len(nb[v]))
		}
		keys := make(map[int]float64, len(layers[l]))
		for _, v := range layers[l] {
			keys[v] = bary(v)
		}
		slices.SortStableFunc(layers[l], func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
		for p, v := range layers[l] {
			vs[v].pos = p
		}
	}
	copyLayers := func() [][]int {
		c := make([][]int, len(layers))
		for i, l := range layers {
			c[i] = slices.Clone(l)
		}
		return c
	}
	// The first layer keeps the clusters' order; the others are sorted
	// by the barycentre of their neighbours, downwards then upwards,
	// keeping the order with the fewest crossings.
	for l := 1; l < len(layers); l++ {
		sortBy(l, up)
	}
	best, bestX := copyLayers(), crossings()
	for sweep := 0; sweep < maxSweeps && bestX > 0; sweep++ {
		for l := len(layers) - 2; l >= 1; l-- {
			sortBy(l, down)
		}
		for l := 1; l < len(layers); l++ {
			sortBy(l, up)
		}
		if x := crossings(); x < bestX {
			best, bestX = copyLayers(), x
		}
	}
	layers = best
	setPos()

	// Coordinates: layers are columns as wide as their widest node.
	s := &Scene{Metrics: m}
	if n == 0 {
		s.Notes = append(s.Notes, "no Argo CD Applications or Flux Kustomizations found")
	}
	for _, note := range d.Notes {
		s.Notes = append(s.Notes, "note: "+note)
	}
	left := margin
	if len(d.Clusters) > 0 {
		left += framePad
	}
	colX := make([]float64, len(layers))
	colW := make([]float64, len(layers))
	x := left
	for l, vl := range layers {
		for _, v := range vl {
			colW[l] = max(colW[l], vs[v].w)
		}
		colX[l] = x
		x += colW[l] + layerGap
	}
	// The first layer: the clusters' frames stacked, then the rest.
	y := margin
	labelH := m.LineHeight + 4
	for c, cl := range d.Clusters {
		var members []int
		for _, v := range layers[0] {
			if clusterOf[v] == c {
				members = append(members, v)
			}
		}
		if len(members) == 0 {
			continue
		}
		top := y
		y += labelH
		fw := 0.0
		for _, v := range members {
			vs[v].x, vs[v].y = colX[0], y
			y += vs[v].h + nodeGap
			fw = max(fw, vs[v].w)
		}
		y += framePad - nodeGap
		fw = max(fw, m.Width(cl.Label)+padX)
		s.Frames = append(s.Frames, Frame{Rect: Rect{colX[0] - framePad, top, fw + 2*framePad, y - top}, Label: cl.Label, Nodes: cl.Nodes})
		y += frameGap
	}
	for _, v := range layers[0] {
		if clusterOf[v] < 0 {
			vs[v].x, vs[v].y = colX[0], y
			y += vs[v].h + nodeGap
		}
	}
	// The other layers: each vertex at the mean height of its neighbours
	// on the left, pushed down past the one above it.
	for l := 1; l < len(layers); l++ {
		next := margin
		for _, v := range layers[l] {
			want := next
			if len(up[v]) > 0 {
				c := 0.0
				for _, u := range up[v] {
					c += vs[u].y + vs[u].h/2
				}
				want = c/float64(len(up[v])) - vs[v].h/2
			}
			vs[v].x, vs[v].y = colX[l], math.Round(max(want, next))
			next = vs[v].y + vs[v].h + nodeGap
		}
	}

	// The first layer's blocks (a cluster and its frame, or a node) move
	// down towards the middle of the nodes they hold, keeping their order.
	type block struct {
		members []int
		frame   int // index in s.Frames, -1 for none
	}
	var blocks []block
	for c := range d.Clusters {
		var members []int
		for _, v := range layers[0] {
			if clusterOf[v] == c {
				members = append(members, v)
			}
		}
		if len(members) > 0 {
			blocks = append(blocks, block{members, len(blocks)})
		}
	}
	for _, v := range layers[0] {
		if clusterOf[v] < 0 {
			blocks = append(blocks, block{[]int{v}, -1})
		}
	}
	floor := 0.0 // the lowest a block may start
	for _, b := range blocks {
		top, bottom, have, want, nWant := math.Inf(1), 0.0, 0.0, 0.0, 0
		for _, v := range b.members {
			top, bottom = min(top, vs[v].y), max(bottom, vs[v].y+vs[v].h)
			have += vs[v].y + vs[v].h/2
			for _, u := range down[v] {
				want += vs[u].y + vs[u].h/2
				nWant++
			}
		}
		if b.frame >= 0 {
			top, bottom = s.Frames[b.frame].Y, s.Frames[b.frame].Y+s.Frames[b.frame].H
		}
		shift := 0.0
		if nWant > 0 {
			shift = want/float64(nWant) - have/float64(len(b.members))
		}
		shift = math.Round(max(shift, floor-top, 0))
		for _, v := range b.members {
			vs[v].y += shift
		}
		if b.frame >= 0 {
			s.Frames[b.frame].Y += shift
		}
		floor = bottom + shift + frameGap
	}

	// An edge between nodes of one layer runs down a lane right of the
	// layer, labelled right of it: edges whose spans overlap get lanes
	// of their own, and the gap after the layer widens to hold them.
	laneW := m.Width("dependsOn") + 12
	lanes := make([]int, len(layers))
	type span struct{ lo, hi float64 }
	used := make([][][]span, len(layers)) // layer, lane: spans
	for k := range chains {
		c := &chains[k]
		a, b := vs[c.vs[0]], vs[c.vs[len(c.vs)-1]]
		if a.layer != b.layer {
			continue
		}
		sp := span{min(a.y, b.y) - nodeGap/2, max(a.y+a.h, b.y+b.h) + nodeGap/2}
		l := a.layer
		for c.lane = 0; c.lane < len(used[l]); c.lane++ {
			if !slices.ContainsFunc(used[l][c.lane], func(o span) bool { return o.lo < sp.hi && sp.lo < o.hi }) {
				break
			}
		}
		if c.lane == len(used[l]) {
			used[l] = append(used[l], nil)
		}
		used[l][c.lane] = append(used[l][c.lane], sp)
		lanes[l] = len(used[l])
	}
	x = left
	for l := range layers {
		colX[l] = x
		x += colW[l] + layerGap + float64(lanes[l])*laneW
	}
	for i := range vs {
		vs[i].x = colX[vs[i].layer]
	}
	for i, nd := range d.Nodes {
		v := vs[i]
		s.Boxes = append(s.Boxes, Box{Rect: Rect{v.x, v.y, v.w, v.h}, ID: nd.ID, Lines: nd.Lines, Style: nd.Style})
	}
	for _, c := range chains {
		s.Edges = append(s.Edges, route(d.Edges[c.edge], c, vs, colX, colW, m, laneW))
	}

	// The extent, and the notes below everything.
	for _, b := range s.Boxes {
		s.W, s.H = max(s.W, b.X+b.W), max(s.H, b.Y+b.H)
	}
	for _, f := range s.Frames {
		s.W, s.H = max(s.W, f.X+f.W), max(s.H, f.Y+f.H)
	}
	for _, e := range s.Edges {
		for _, p := range e.Points {
			s.W, s.H = max(s.W, p.X), max(s.H, p.Y)
		}
		s.W, s.H = max(s.W, e.Label.X+e.Label.W), max(s.H, e.Label.Y+e.Label.H)
	}
	if len(s.Notes) > 0 {
		s.NotesAt = Point{margin, s.H + 2*padY}
		for _, note := range s.Notes {
			s.W = max(s.W, margin+m.Width(note))
		}
		s.H = s.NotesAt.Y + float64(len(s.Notes))*m.LineHeight
	}
	s.W, s.H = math.Ceil(s.W+margin), math.Ceil(s.H+margin)
	return s
}

// route draws an edge: from the right border of the left node through
// its dummies to the left border of the right one (reversed for an edge
// pointing left); between nodes of one layer, a curve right of them.
func route(e repograph.DiagramEdge, c chain, vs []vertex, colX, colW []float64, m Metrics, laneW float64) Edge {
	mid := func(v vertex) float64 { return v.y + v.h/2 }
	a, b := vs[c.vs[0]], vs[c.vs[len(c.vs)-1]]
	var pts []Point
	if a.layer == b.layer {
		from, to := a, b
		if c.reversed {
			from, to = b, a
		}
		if c.vs[0] == c.vs[len(c.vs)-1] { // a node depending on itself
			to = from
		}
		// Out of the right border and back in, through the gap right of
		// the layer.
		x := colX[from.layer] + colW[from.layer] + 12 + float64(c.lane)*laneW
		p0, p3 := Point{from.x + from.w, mid(from) - 3}, Point{to.x + to.w, mid(to) + 3}
		pts = []Point{p0, {x, p0.Y}, {x, p3.Y}, p3}
		out := Edge{From: e.From, To: e.To, Points: pts, DependsOn: e.DependsOn}
		if e.DependsOn {
			out.Label = Rect{x + 3, (p0.Y+p3.Y)/2 - m.LineHeight/2, m.Width("dependsOn"), m.LineHeight}
		}
		return out
	} else {
		// A reversed edge runs a little lower, apart from an edge the
		// other way between the same nodes.
		dy := 0.0
		if c.reversed {
			dy = min(4, a.h/4, b.h/4)
		}
		// Out of the left node's right border to the column's edge, so
		// as not to cross a wider node of its column.
		pts = append(pts, Point{a.x + a.w, mid(a) + dy})
		if r := colX[a.layer] + colW[a.layer]; r > a.x+a.w {
			pts = append(pts, Point{r, mid(a) + dy})
		}
		// The label goes over the first segment across a gap, where no
		// box is.
		seg := len(pts) - 1
		for _, v := range c.vs[1 : len(c.vs)-1] {
			d := vs[v]
			pts = append(pts, Point{colX[d.layer], mid(d)}, Point{colX[d.layer] + colW[d.layer], mid(d)})
		}
		pts = append(pts, Point{b.x, mid(b) + dy})
		if c.reversed {
			// From the right node's left border back to the left node's
			// right border.
			slices.Reverse(pts)
			seg = len(pts) - 2 - seg
		}
		out := Edge{From: e.From, To: e.To, Points: pts, DependsOn: e.DependsOn}
		if e.DependsOn {
			p, q, w := pts[seg], pts[seg+1], m.Width("dependsOn")
			out.Label = Rect{(p.X+q.X)/2 - w/2, (p.Y+q.Y)/2 - m.LineHeight - 1, w, m.LineHeight}
		}
		return out
	}
}

// arrowHead is the triangle at the end of a polyline: tip, then the two
// back corners.
func arrowHead(pts []Point) [3]Point {
	tip, from := pts[len(pts)-1], pts[len(pts)-2]
	dx, dy := tip.X-from.X, tip.Y-from.Y
	l := math.Hypot(dx, dy)
	if l == 0 {
		dx, dy, l = 1, 0, 1
	}
	ux, uy := dx/l, dy/l
	bx, by := tip.X-ux*arrowLen, tip.Y-uy*arrowLen
	return [3]Point{tip, {bx - uy*arrowWidth, by + ux*arrowWidth}, {bx + uy*arrowWidth, by - ux*arrowWidth}}
}
