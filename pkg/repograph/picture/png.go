package picture

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
)

// pngFace is the PNG's font: the 7×13 pixel font of golang.org/x/image
// (ASCII and Latin-1; other characters draw as a box).
var pngFace = basicfont.Face7x13

// PNGMetrics measure text with the PNG font's own advances.
var PNGMetrics = Metrics{
	Width:      func(s string) float64 { return float64(font.MeasureString(pngFace, s)) / 64 },
	LineHeight: 15,
	Ascent:     12,
}

// maxPixels bounds the image (a repository of thousands of nodes draws
// a picture too large to be useful, and too large to allocate).
const maxPixels = 40_000_000

var (
	black = color.RGBA{0, 0, 0, 255}
	red   = color.RGBA{220, 0, 0, 255}
	gray  = color.RGBA{128, 128, 128, 255}
	dark  = color.RGBA{68, 68, 68, 255}
	frame = color.RGBA{136, 136, 136, 255}
	light = color.RGBA{247, 247, 247, 255}
)

// WritePNG lays out the diagram and writes it as a PNG image.
func WritePNG(w io.Writer, d *repograph.Diagram) error {
	img, err := Layout(d, PNGMetrics).Image()
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("encoding the PNG: %w", err)
	}
	return nil
}

// Image rasterises the scene: the same frames, lines, arrowheads, boxes
// and text as WriteSVG.
func (s *Scene) Image() (*image.RGBA, error) {
	if !(s.W >= 1 && s.H >= 1 && s.W*s.H <= maxPixels) { // NaN too
		return nil, fmt.Errorf("drawing the PNG: %.0f×%.0f pixels is too large (at most %d in all; -o svg has no limit)", s.W, s.H, maxPixels)
	}
	w, h := int(math.Ceil(s.W)), int(math.Ceil(s.H))
	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h))}
	draw.Draw(c.img, c.img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	m := s.Metrics
	for _, f := range s.Frames {
		c.fill(f.Rect, light)
		c.polyline(roundRect(f.Rect, 4), frame, false)
		c.text(f.X+padX/2, f.Y+2+m.Ascent, f.Label, dark)
	}
	for _, e := range s.Edges {
		hd := arrowHead(e.Points)
		pts := append([]Point(nil), e.Points[:len(e.Points)-1]...)
		pts = append(pts, Point{(hd[1].X + hd[2].X) / 2, (hd[1].Y + hd[2].Y) / 2})
		c.polyline(pts, black, e.DependsOn)
		c.polygon(hd[:], black)
		if e.DependsOn {
			c.text(e.Label.X, e.Label.Y+m.Ascent, "dependsOn", dark)
		}
	}
	for _, b := range s.Boxes {
		col, dashed := black, false
		switch b.Style {
		case repograph.StyleMissing:
			col = red
		case repograph.StyleExternal:
			dashed = true
		case repograph.StyleUnknown:
			col, dashed = gray, true
		}
		c.fill(b.Rect, color.RGBA{255, 255, 255, 255})
		c.polyline(roundRect(b.Rect, 6), col, dashed)
		for i, l := range b.Lines {
			c.text(b.X+padX, b.Y+padY+float64(i)*m.LineHeight+m.Ascent, l, col)
		}
	}
	for i, note := range s.Notes {
		c.text(s.NotesAt.X, s.NotesAt.Y+float64(i)*m.LineHeight+m.Ascent, note, dark)
	}
	return c.img, nil
}

// canvas draws anti-aliased shapes on an image.
type canvas struct {
	img *image.RGBA
	z   vector.Rasterizer
}

// polygon fills a convex polygon.
func (c *canvas) polygon(pts []Point, col color.RGBA) {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		minX, minY, maxX, maxY = min(minX, p.X), min(minY, p.Y), max(maxX, p.X), max(maxY, p.Y)
	}
	r := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX))+1, int(math.Ceil(maxY))+1).Intersect(c.img.Bounds())
	if r.Empty() {
		return
	}
	c.z.Reset(r.Dx(), r.Dy())
	c.z.DrawOp = draw.Over
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	c.z.MoveTo(float32(pts[0].X)-ox, float32(pts[0].Y)-oy)
	for _, p := range pts[1:] {
		c.z.LineTo(float32(p.X)-ox, float32(p.Y)-oy)
	}
	c.z.ClosePath()
	c.z.Draw(c.img, r, image.NewUniform(col), image.Point{})
}

// segment strokes a line 1.2 pixels wide.
func (c *canvas) segment(a, b Point, col color.RGBA) {
	dx, dy := b.X-a.X, b.Y-a.Y
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	const half = 0.6
	nx, ny := -dy/l*half, dx/l*half
	c.polygon([]Point{{a.X + nx, a.Y + ny}, {b.X + nx, b.Y + ny}, {b.X - nx, b.Y - ny}, {a.X - nx, a.Y - ny}}, col)
}

// polyline strokes a polyline, dashed 5 on 3 off when asked.
func (c *canvas) polyline(pts []Point, col color.RGBA, dashed bool) {
	const on, off = 5.0, 3.0
	phase := 0.0 // distance into the current on+off period
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		if !dashed {
			c.segment(a, b, col)
			continue
		}
		l := math.Hypot(b.X-a.X, b.Y-a.Y)
		for t := 0.0; t < l; {
			step := min(l-t, on+off-phase)
			if phase < on {
				step = min(l-t, on-phase)
				p := Point{a.X + (b.X-a.X)*t/l, a.Y + (b.Y-a.Y)*t/l}
				q := Point{a.X + (b.X-a.X)*(t+step)/l, a.Y + (b.Y-a.Y)*(t+step)/l}
				c.segment(p, q, col)
			}
			t += step
			phase = math.Mod(phase+step, on+off)
		}
	}
}

// fill paints a rectangle.
func (c *canvas) fill(r Rect, col color.RGBA) {
	rr := image.Rect(int(math.Round(r.X)), int(math.Round(r.Y)), int(math.Round(r.X+r.W)), int(math.Round(r.Y+r.H)))
	draw.Draw(c.img, rr, image.NewUniform(col), image.Point{}, draw.Src)
}

// text draws one line with its baseline at y.
func (c *canvas) text(x, y float64, s string, col color.RGBA) {
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: pngFace,
		Dot: fixed.Point26_6{X: fixed.Int26_6(math.Round(x * 64)), Y: fixed.Int26_6(math.Round(y * 64))}}
	d.DrawString(s)
}

// roundRect is a rectangle's outline with rounded corners, closed.
func roundRect(r Rect, rad float64) []Point {
	rad = min(rad, r.W/2, r.H/2)
	var pts []Point
	corner := func(cx, cy, from float64) {
		for i := 0; i <= 4; i++ {
			a := from + float64(i)*math.Pi/8
			pts = append(pts, Point{cx + rad*math.Cos(a), cy + rad*math.Sin(a)})
		}
	}
	corner(r.X+r.W-rad, r.Y+rad, -math.Pi/2)
	corner(r.X+r.W-rad, r.Y+r.H-rad, 0)
	corner(r.X+rad, r.Y+r.H-rad, math.Pi/2)
	corner(r.X+rad, r.Y+rad, math.Pi)
	return append(pts, pts[0])
}
