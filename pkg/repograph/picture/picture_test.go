package picture

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolayout"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// repos are generated skeletons of every operator × layout × environment
// strategy, and the example repositories.
func repos(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{
		"broken-repo":                     "../../../examples/broken-repo",
		"gitops-repo":                     "../../../examples/gitops-repo",
		"layouts-flux-kustomize-helm":     "../../../examples/layouts/flux-kustomize-helm",
		"layouts-flux-multi-tenancy":      "../../../examples/layouts/flux-multi-tenancy",
		"layouts-argocd-helm-app-of-apps": "../../../examples/layouts/argocd-helm-app-of-apps",
		"mixed":                           "../testdata/repos/mixed",
	}
	for _, op := range []repolayout.Operator{repolayout.OperatorArgoCD, repolayout.OperatorFlux} {
		for _, l := range []repolayout.Layout{repolayout.LayoutMono, repolayout.LayoutPerTeam} {
			for _, es := range []repolayout.EnvStrategy{repolayout.EnvDirs, repolayout.EnvBranches} {
				files, err := repolayout.Generate(repolayout.Spec{Operator: op, Layout: l, EnvStrategy: es})
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				if _, err := repolayout.Write(dir, files, repolayout.WriteOptions{}); err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprintf("%s-%s-%s", op, l, es)] = dir
			}
		}
	}
	return out
}

func diagram(t *testing.T, dir string) *repograph.Diagram {
	t.Helper()
	g, err := repograph.Load(dir, nil, repograph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g.Diagram()
}

// checkScene checks the layout's invariants: every node has a box, no two
// boxes overlap, every edge starts on its source's border and ends on its
// target's, no edge passes through a box, every frame holds its nodes and
// no other, everything lies inside the picture.
func checkScene(t *testing.T, d *repograph.Diagram, s *Scene) {
	t.Helper()
	if len(s.Boxes) != len(d.Nodes) {
		t.Fatalf("%d boxes for %d nodes", len(s.Boxes), len(d.Nodes))
	}
	inside := func(r Rect) bool { return r.X >= 0 && r.Y >= 0 && r.X+r.W <= s.W && r.Y+r.H <= s.H }
	for i, a := range s.Boxes {
		if !inside(a.Rect) {
			t.Errorf("box %s %+v outside the picture %gx%g", a.ID, a.Rect, s.W, s.H)
		}
		for _, b := range s.Boxes[i+1:] {
			if a.Overlaps(b.Rect) {
				t.Errorf("boxes %s %+v and %s %+v overlap", a.ID, a.Rect, b.ID, b.Rect)
			}
		}
	}
	if len(s.Edges) != len(d.Edges) {
		t.Errorf("%d edges drawn for %d", len(s.Edges), len(d.Edges))
	}
	for _, e := range s.Edges {
		from, _ := s.Box(e.From)
		to, _ := s.Box(e.To)
		if len(e.Points) < 2 {
			t.Errorf("edge %s→%s has %d points", e.From, e.To, len(e.Points))
			continue
		}
		if e.DependsOn && (e.Label.W == 0 || !inside(e.Label)) {
			t.Errorf("edge %s→%s: label %+v missing or outside the picture", e.From, e.To, e.Label)
		}
		for _, b := range s.Boxes {
			if e.DependsOn && e.Label.Overlaps(b.Rect) {
				t.Errorf("edge %s→%s: label %+v over box %s %+v", e.From, e.To, e.Label, b.ID, b.Rect)
			}
		}
		if p := e.Points[0]; !from.OnBorder(p, 0.01) {
			t.Errorf("edge %s→%s starts at %v, not on %+v", e.From, e.To, p, from.Rect)
		}
		if p := e.Points[len(e.Points)-1]; !to.OnBorder(p, 0.01) {
			t.Errorf("edge %s→%s ends at %v, not on %+v", e.From, e.To, p, to.Rect)
		}
		for i := 1; i < len(e.Points); i++ {
			a, b := e.Points[i-1], e.Points[i]
			for k := 1; k < 8; k++ {
				p := Point{a.X + (b.X-a.X)*float64(k)/8, a.Y + (b.Y-a.Y)*float64(k)/8}
				if p.X < 0 || p.Y < 0 || p.X > s.W || p.Y > s.H {
					t.Errorf("edge %s→%s leaves the picture at %v", e.From, e.To, p)
				}
				for _, bx := range s.Boxes {
					r := bx.Rect
					if p.X > r.X+0.5 && p.X < r.X+r.W-0.5 && p.Y > r.Y+0.5 && p.Y < r.Y+r.H-0.5 {
						t.Errorf("edge %s→%s passes through box %s at %v", e.From, e.To, bx.ID, p)
					}
				}
			}
		}
	}
	if len(s.Frames) != len(d.Clusters) {
		t.Errorf("%d frames for %d clusters", len(s.Frames), len(d.Clusters))
	}
	for _, f := range s.Frames {
		if !inside(f.Rect) {
			t.Errorf("frame %q outside the picture", f.Label)
		}
		member := map[string]bool{}
		for _, id := range f.Nodes {
			member[id] = true
			b, _ := s.Box(id)
			if !f.Contains(b.Rect) {
				t.Errorf("frame %q %+v does not hold its node %s %+v", f.Label, f.Rect, id, b.Rect)
			}
		}
		for _, b := range s.Boxes {
			if !member[b.ID] && f.Overlaps(b.Rect) {
				t.Errorf("frame %q %+v overlaps node %s %+v, not its own", f.Label, f.Rect, b.ID, b.Rect)
			}
		}
		for _, g := range s.Frames {
			if g.Label != f.Label && f.Overlaps(g.Rect) {
				t.Errorf("frames %q and %q overlap", f.Label, g.Label)
			}
		}
	}
}

func TestLayoutInvariants(t *testing.T) {
	for name, dir := range repos(t) {
		t.Run(name, func(t *testing.T) {
			d := diagram(t, dir)
			if len(d.Nodes) == 0 && name != "gitops-repo" {
				t.Fatal("no nodes")
			}
			for _, m := range []struct {
				name string
				m    Metrics
			}{{"svg", SVGMetrics}, {"png", PNGMetrics}} {
				t.Run(m.name, func(t *testing.T) { checkScene(t, d, Layout(d, m.m)) })
			}
		})
	}
}

// The SVG of examples/gitops-repo, which is also the picture in
// docs/repo-structure.md (go test ./pkg/repograph/picture -update
// rewrites both).
func TestSVGGolden(t *testing.T) {
	dirs := repos(t)
	for _, name := range []string{"gitops-repo", "broken-repo", "flux-per-team-dirs", "argocd-mono-dirs"} {
		t.Run(name, func(t *testing.T) {
			d := diagram(t, dirs[name])
			var a, b bytes.Buffer
			if err := WriteSVG(&a, d); err != nil {
				t.Fatal(err)
			}
			if err := WriteSVG(&b, diagram(t, dirs[name])); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("two renderings differ")
			}
			checkXML(t, a.Bytes())
			golden.Check(t, filepath.Join("testdata", name+".svg.golden"), a.Bytes())
			if len(d.Nodes) > 0 {
				golden.Check(t, filepath.Join("../../../docs/img", "repo-graph-"+name+".svg"), a.Bytes())
			}
		})
	}
}

// checkXML parses the SVG and returns its text content.
func checkXML(t *testing.T, data []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "script" || tok.Name.Local == "foreignObject" {
				t.Errorf("the SVG has a <%s> element", tok.Name.Local)
			}
		case xml.CharData:
			text.Write(tok)
			text.WriteString("\n")
		}
	}
	return text.String()
}

// Labels come from repository files: markup in them is text, not markup.
func TestSVGEscapesLabels(t *testing.T) {
	evil := `<script>alert("x")</script> & <a href='y'>` + "\x01"
	d := &repograph.Diagram{
		Clusters: []repograph.Cluster{{Label: evil + "/", Nodes: []string{"n1"}}},
		Nodes: []repograph.DiagramNode{
			{ID: "n1", Lines: []string{"Application argocd/" + evil, evil + " (external)"}, Style: repograph.StyleExternal},
			{ID: "n2", Lines: []string{"Kustomization flux-system/" + evil}},
		},
		Edges: []repograph.DiagramEdge{{From: "n1", To: "n2"}, {From: "n2", To: "n1", DependsOn: true}},
		Notes: []string{evil},
	}
	var b bytes.Buffer
	if err := WriteSVG(&b, d); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "<script") || strings.Contains(s, "<a ") || strings.Contains(s, "& ") {
		t.Errorf("a label is written unescaped:\n%s", s)
	}
	text := checkXML(t, b.Bytes())
	want := `<script>alert("x")</script> & <a href='y'>`
	if n := strings.Count(text, want); n != 5 {
		t.Errorf("the label reads back %d times, want 5 (cluster, 2 nodes, note):\n%s", n, text)
	}
}

// The PNG decodes, has the scene's size and has dark pixels along every
// edge (lines are drawn) and in every box (text is drawn).
func TestPNG(t *testing.T) {
	dirs := repos(t)
	for _, name := range []string{"flux-per-team-dirs", "broken-repo", "mixed"} {
		t.Run(name, func(t *testing.T) { checkPNG(t, diagram(t, dirs[name]), name) })
	}
}

func checkPNG(t *testing.T, d *repograph.Diagram, name string) {
	var b bytes.Buffer
	if err := WritePNG(&b, d); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("PICTURE_PNG_DIR"); dir != "" { // to look at them
		_ = os.WriteFile(filepath.Join(dir, name+".png"), b.Bytes(), 0o644)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	s := Layout(d, PNGMetrics)
	if got := img.Bounds().Size(); got.X != int(s.W) || got.Y != int(s.H) {
		t.Errorf("size %v, want %gx%g", got, s.W, s.H)
	}
	dark := func(x, y float64) bool {
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				r, g, bl, _ := img.At(int(math.Round(x))+dx, int(math.Round(y))+dy).RGBA()
				if r+g+bl < 3*0xffff*6/10 {
					return true
				}
			}
		}
		return false
	}
	if len(s.Edges) == 0 {
		t.Fatal("no edges")
	}
	for _, e := range s.Edges {
		// Points along the first segment (solid or dashed: one dash in
		// three samples at least), and the arrowhead's inside.
		a, z := e.Points[0], e.Points[1]
		hits := 0
		for k := 1; k <= 6; k++ {
			if dark(a.X+(z.X-a.X)*float64(k)/7, a.Y+(z.Y-a.Y)*float64(k)/7) {
				hits++
			}
		}
		if hits < 3 {
			t.Errorf("edge %s→%s: %d of 6 points along %v–%v drawn", e.From, e.To, hits, a, z)
		}
		h := arrowHead(e.Points)
		if !dark((h[0].X+h[1].X+h[2].X)/3, (h[0].Y+h[1].Y+h[2].Y)/3) {
			t.Errorf("edge %s→%s: no arrowhead at %v", e.From, e.To, h)
		}
	}
	inked := func(x, y float64) bool {
		c := color.RGBAModel.Convert(img.At(int(math.Round(x)), int(math.Round(y)))).(color.RGBA)
		return c.R < 200 || c.G < 200 || c.B < 200
	}
	for _, bx := range s.Boxes {
		top := false
		for x := bx.X + 10; x < bx.X+bx.W-10; x++ {
			top = top || inked(x, bx.Y) || inked(x, bx.Y+1) || inked(x, bx.Y-1)
		}
		ink := 0
		for x := bx.X + padX; x < bx.X+bx.W-padX; x++ {
			for y := bx.Y + padY; y < bx.Y+padY+s.Metrics.LineHeight; y++ {
				if inked(x, y) {
					ink++
				}
			}
		}
		if !top || ink < 20 {
			t.Errorf("box %s: border drawn %v, %d pixels of text", bx.ID, top, ink)
		}
	}
}

// Random diagrams (cycles, self-dependencies, edges skipping layers and
// going back, clusters of several roots, empty labels) keep the layout's
// invariants.
func TestLayoutRandom(t *testing.T) {
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 7))
		d := &repograph.Diagram{}
		n := 1 + r.IntN(25)
		for i := range n {
			var lines []string
			for range r.IntN(4) {
				lines = append(lines, strings.Repeat("x", r.IntN(40)))
			}
			d.Nodes = append(d.Nodes, repograph.DiagramNode{ID: fmt.Sprintf("n%d", i), Lines: lines, Style: repograph.Style(r.IntN(4))})
		}
		// Some of the first nodes are roots in clusters.
		roots := 1 + r.IntN(min(n, 6))
		for i := 0; i < roots; {
			c := repograph.Cluster{Label: fmt.Sprintf("dir%d/", len(d.Clusters))}
			for k := 1 + r.IntN(3); k > 0 && i < roots; k-- {
				c.Nodes = append(c.Nodes, fmt.Sprintf("n%d", i))
				i++
			}
			d.Clusters = append(d.Clusters, c)
		}
		for range r.IntN(2 * n) {
			d.Edges = append(d.Edges, repograph.DiagramEdge{
				From: fmt.Sprintf("n%d", r.IntN(n)), To: fmt.Sprintf("n%d", r.IntN(n)), DependsOn: r.IntN(3) == 0})
		}
		if r.IntN(4) == 0 {
			d.Notes = []string{"a note"}
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkScene(t, d, Layout(d, SVGMetrics))
			checkScene(t, d, Layout(d, PNGMetrics))
		})
	}
}

// A picture too large to allocate is an error, and nothing is written.
func TestPNGTooLarge(t *testing.T) {
	d := &repograph.Diagram{Nodes: []repograph.DiagramNode{
		{ID: "n1", Lines: []string{strings.Repeat("x", 200_000)}},
		{ID: "n2", Lines: make([]string, 5000)},
	}}
	var b bytes.Buffer
	err := WritePNG(&b, d)
	if err == nil || !strings.Contains(err.Error(), "drawing the PNG: ") || b.Len() != 0 {
		t.Errorf("err %v, %d bytes written", err, b.Len())
	}
}
