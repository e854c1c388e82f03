package picture

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
)

// SVG text: a monospace font whose advance is 0.6 em (DejaVu Sans Mono,
// Courier, Menlo): the fixed-width estimate that sizes the boxes.
const (
	svgFontSize = 12.0
	svgAdvance  = 0.6 * svgFontSize
)

// SVGMetrics measure text for an SVG picture: every character as wide as
// a monospace character.
var SVGMetrics = Metrics{
	Width:      func(s string) float64 { return float64(len([]rune(s))) * svgAdvance },
	LineHeight: 15,
	Ascent:     11.5,
}

// WriteSVG lays out the diagram and writes it as an SVG image. Every
// label is XML-escaped: labels come from repository files.
func WriteSVG(w io.Writer, d *repograph.Diagram) error {
	return Layout(d, SVGMetrics).WriteSVG(w)
}

// num formats a coordinate with one decimal at most.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// esc escapes text for XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// svgStroke is a style's stroke, text colour and dash.
func svgStroke(st repograph.Style) (stroke, text, dash string) {
	switch st {
	case repograph.StyleMissing:
		return "red", "red", ""
	case repograph.StyleExternal:
		return "black", "black", "5,3"
	case repograph.StyleUnknown:
		return "gray", "gray", "5,3"
	}
	return "black", "black", ""
}

// WriteSVG writes the scene as an SVG image.
func (s *Scene) WriteSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	m := s.Metrics
	fmt.Fprintln(bw, `<?xml version="1.0" encoding="UTF-8"?>`)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="%s">`+"\n",
		num(s.W), num(s.H), num(s.W), num(s.H), num(svgFontSize))
	fmt.Fprintf(bw, `<rect width="%s" height="%s" fill="white"/>`+"\n", num(s.W), num(s.H))
	for _, f := range s.Frames {
		fmt.Fprintf(bw, `<g class="cluster"><rect x="%s" y="%s" width="%s" height="%s" rx="4" fill="#f7f7f7" stroke="#888"/><text x="%s" y="%s" fill="#444">%s</text></g>`+"\n",
			num(f.X), num(f.Y), num(f.W), num(f.H), num(f.X+padX/2), num(f.Y+2+m.Ascent), esc(f.Label))
	}
	for _, e := range s.Edges {
		var d strings.Builder
		for i, p := range e.Points[:len(e.Points)-1] {
			if i == 0 {
				d.WriteString("M")
			} else {
				d.WriteString(" L")
			}
			d.WriteString(num(p.X) + "," + num(p.Y))
		}
		// The line stops at the arrowhead's base.
		h := arrowHead(e.Points)
		base := Point{(h[1].X + h[2].X) / 2, (h[1].Y + h[2].Y) / 2}
		d.WriteString(" L" + num(base.X) + "," + num(base.Y))
		dash := ""
		if e.DependsOn {
			dash = ` stroke-dasharray="5,3"`
		}
		fmt.Fprintf(bw, `<g class="edge"><path d="%s" fill="none" stroke="black"%s/><polygon points="%s,%s %s,%s %s,%s"/>`,
			d.String(), dash, num(h[0].X), num(h[0].Y), num(h[1].X), num(h[1].Y), num(h[2].X), num(h[2].Y))
		if e.DependsOn {
			fmt.Fprintf(bw, `<text x="%s" y="%s" fill="#333">dependsOn</text>`, num(e.Label.X), num(e.Label.Y+m.Ascent))
		}
		fmt.Fprintln(bw, "</g>")
	}
	for _, b := range s.Boxes {
		stroke, text, dash := svgStroke(b.Style)
		if dash != "" {
			dash = ` stroke-dasharray="` + dash + `"`
		}
		fmt.Fprintf(bw, `<g class="node" id="%s"><rect x="%s" y="%s" width="%s" height="%s" rx="6" fill="white" stroke="%s"%s/>`,
			esc(b.ID), num(b.X), num(b.Y), num(b.W), num(b.H), stroke, dash)
		for i, l := range b.Lines {
			fmt.Fprintf(bw, `<text x="%s" y="%s" fill="%s" xml:space="preserve">%s</text>`,
				num(b.X+padX), num(b.Y+padY+float64(i)*m.LineHeight+m.Ascent), text, esc(l))
		}
		fmt.Fprintln(bw, "</g>")
	}
	for i, note := range s.Notes {
		fmt.Fprintf(bw, `<text x="%s" y="%s" fill="#444" xml:space="preserve">%s</text>`+"\n",
			num(s.NotesAt.X), num(s.NotesAt.Y+float64(i)*m.LineHeight+m.Ascent), esc(note))
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}
