package helmrender

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigChart writes a chart the size of a large real one: templates and a
// values.schema.json of about schemaSize bytes (large charts ship
// schemas of 100-300 KB), with internal $refs.
func bigChart(tb testing.TB, templates, schemaSize int) (root, dir string) {
	tb.Helper()
	root = tb.TempDir()
	dir = filepath.Join(root, "charts", "big")
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("Chart.yaml", "apiVersion: v2\nname: big\nversion: 1.0.0\n")
	write("values.yaml", "replicas: 1\n")
	for i := range templates {
		write(fmt.Sprintf("templates/cm%03d.yaml", i), fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm%03d}\ndata: {replicas: \"{{ .Values.replicas }}\"}\n", i))
	}
	var props []string
	for i := 0; len(strings.Join(props, ",")) < schemaSize; i++ {
		props = append(props, fmt.Sprintf(`"p%05d": {"type": "object", "description": "a property of the chart, described at length as real schemas do", "properties": {"enabled": {"type": "boolean", "default": false}, "ref": {"$ref": "#/definitions/x"}}}`, i))
	}
	write("values.schema.json", `{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"x": {"type": "string"}}, "properties": {`+strings.Join(props, ",")+`}}`)
	return root, dir
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRenderAgain renders a large chart again and again, as drift
// watch does at every check, with and without a Confiner, with and without
// Helm's schema validation (helm-controller validates; an Argo CD source
// may skip it), reporting CPU time per render (cpu-ns/op) besides wall
// time: go test -bench RenderAgain -benchtime 50x ./pkg/helmrender
func BenchmarkRenderAgain(b *testing.B) {
	root, dir := bigChart(b, 80, 200<<10)
	for _, skip := range []bool{false, true} {
		for _, memo := range []bool{false, true} {
			b.Run(fmt.Sprintf("skipSchemaValidation=%v/confiner=%v", skip, memo), func(b *testing.B) {
				rel := Release{Name: "big", Namespace: "default", Chart: dir, Root: root, SkipSchemaValidation: skip}
				if memo {
					rel.Confiner = &Confiner{}
				}
				start := cpuTime(b)
				for b.Loop() {
					if _, err := Render(context.Background(), rel); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// BenchmarkConfined is the check alone: the walk and the schema's parse,
// or with a Confiner that has seen the schema, the walk and its digest.
func BenchmarkConfined(b *testing.B) {
	root, dir := bigChart(b, 80, 200<<10)
	for _, memo := range []bool{false, true} {
		b.Run(fmt.Sprintf("confiner=%v", memo), func(b *testing.B) {
			var c *Confiner
			if memo {
				c = &Confiner{}
			}
			start := cpuTime(b)
			for b.Loop() {
				if err := c.Check(root, dir); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
