package repo

import (
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
)

// dotNodes returns the node IDs the DOT declares with attributes.
func dotNodes(t *testing.T, dot string) []string {
	t.Helper()
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^  ([nu]\d+) \[`).FindAllStringSubmatch(dot, -1) {
		ids = append(ids, m[1])
	}
	if len(ids) == 0 {
		t.Fatalf("no nodes in DOT:\n%s", dot)
	}
	return ids
}

// svgNodes parses the SVG as XML and returns the id of every node group
// and the text of the document.
func svgNodes(t *testing.T, svg string) (ids map[string]bool, text string) {
	t.Helper()
	ids = map[string]bool{}
	var b strings.Builder
	dec := xml.NewDecoder(strings.NewReader(svg))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			for _, a := range tok.Attr {
				if tok.Name.Local == "g" && a.Name.Local == "id" {
					ids[a.Value] = true
				}
			}
		case xml.CharData:
			b.Write(tok)
			b.WriteString("\n")
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return ids, b.String()
}

func TestGraphSVG(t *testing.T) {
	flux := t.TempDir()
	if r := runRepo(t, "", "init", "--operator", "flux", "--dir", flux); r.code != 0 {
		t.Fatal(r)
	}
	// broken-repo: clusters, missing paths, an unknown dependency; mixed:
	// external sources and a cycle; flux: a generated repository.
	for _, dir := range []string{"../../examples/broken-repo", "../../pkg/repograph/testdata/repos/mixed", flux} {
		dot := runRepo(t, "", "graph", dir, "-o", "dot")
		if dot.code != 0 {
			t.Fatal(dot)
		}
		r := runRepo(t, "", "graph", dir, "-o", "svg")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%s: %s", dir, r)
		}
		ids, text := svgNodes(t, r.stdout)
		for _, id := range dotNodes(t, dot.stdout) {
			if !ids[id] {
				t.Errorf("%s: node %s of the DOT is not in the SVG", dir, id)
			}
		}
		// Every directory of roots is a cluster, labelled with the directory.
		for _, m := range regexp.MustCompile(`label="([^"]+/)";`).FindAllStringSubmatch(dot.stdout, -1) {
			if !strings.Contains(text, m[1]+"\n") {
				t.Errorf("%s: cluster %s not in the SVG", dir, m[1])
			}
		}
	}
}

func TestGraphPNG(t *testing.T) {
	dir := t.TempDir()
	if r := runRepo(t, "", "init", "--operator", "flux", "--dir", dir); r.code != 0 {
		t.Fatal(r)
	}
	r := runRepo(t, "", "graph", dir, "-o", "png")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	img, err := png.Decode(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X < 300 || s.Y < 300 {
		t.Errorf("a %v picture is too small for a generated repository's graph", s)
	}
}

// A failing drawing is an error (exit 2) that says what failed, and no
// partial image reaches stdout.
func TestGraphDrawError(t *testing.T) {
	old := writePNG
	t.Cleanup(func() { writePNG = old })
	writePNG = func(w io.Writer, d *repograph.Diagram) error {
		_, _ = w.Write([]byte("\x89PNG\r\n\x1a\npartial"))
		return errors.New("drawing the PNG: too large")
	}
	r := runRepo(t, "", "graph", "../../examples/broken-repo", "-o", "png")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "drawing the graph: drawing the PNG: too large") {
		t.Errorf("draw error: %s", r)
	}
}
