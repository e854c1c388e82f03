package ignore

import (
	"context"
	"errors"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/itchyny/gojq"
)

// uncheckedJQ compiles exprs as compileJQ does but without checkJQ, so
// that the runtime bounds can be tested on expressions checkJQ rejects.
func uncheckedJQ(t *testing.T, exprs ...string) []*gojq.Code {
	t.Helper()
	var codes []*gojq.Code
	for _, expr := range exprs {
		q, err := gojq.Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		c, err := gojq.Compile(&gojq.Query{Term: &gojq.Term{
			Type: gojq.TermTypeFunc,
			Func: &gojq.Func{Name: "path", Args: []*gojq.Query{q}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c)
	}
	return codes
}

// allocatedBytes is what the process has allocated so far.
func allocatedBytes() uint64 {
	s := []metrics.Sample{{Name: heapAllocsMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestJQRejectsBlowUps: expressions that loop, grow values, or read the
// environment are refused when the rule is compiled, so they never run.
// Before checkJQ, `.data["x" * 1000000000]` allocated a gigabyte in one
// gojq step, past the 1 s timeout, and OOM-killed drift watch.
func TestJQRejectsBlowUps(t *testing.T) {
	exprs := []string{
		`.data["x" * 1000000000]`,
		`"x" * 1e9`,
		`.data[.a * 1e9]`,
		`[range(1e9)]`,
		`.spec | range(1e9)`,
		`[limit(1e9; repeat(.))]`,
		`repeat(.)`,
		`def f: f; f`,
		`def f: [f]; f`,
		`.spec | recurse(.spec)`,
		`.spec | recurse(.; true)`,
		`[.[] | while(true; .)]`,
		`until(false; .)`,
		`reduce range(30) as $i ("x"; . + .)`,
		`foreach (1,2) as $i (.; .)`,
		`label $out | .a`,
		`. as $a | .data[$a + $a]`,
		`.data[(.a | tostring) + (.a | tostring)]`,
		`.data[.a - .b]`,
		`.data["x" / ""]`,
		`.data[[.[]] | add]`,
		`.data[[.[]] | join("")]`,
		`.data[[.[], .[]] | flatten | length]`,
		`.data[tojson]`,
		`.data[tostring]`,
		`.data["\(.)\(.)"]`,
		`.data[@base64]`,
		`.data[@json "\(.)"]`,
		`.data[ltrimstr("a") | tojson | tojson]`,
		`.data[explode | implode]`,
		`.data[gsub(""; "xxxxxxxx")]`,
		`.data[[match(""; "g")] | length]`,
		`.data[pow(2; 1e9)]`,
		`.data[[combinations] | length]`,
		`.a = 1`,
		`.[1e9] |= 1`,
		`.a += "x"`,
		`setpath([1e9]; 1)`,
		`.data[{} | from_entries | length]`,
		`.data[$__loc__.file]`,
		`.data[$ENV.HOME]`,
		`.data[env.HOME]`,
		`.data[$__prog_args[0]]`,
		`. as {$__loc__} | .a`,
		`.data[input]`,
		`.data[[inputs] | length]`,
		`.data[input_filename]`,
		`.data[debug]`,
		`.data[stderr]`,
		`.data[error(.)]`,
		`select(error)`,
		`.data[now]`,
		`.data[halt]`,
		`import "a" as a; .a`,
	}
	for _, expr := range exprs {
		t.Run(expr, func(t *testing.T) {
			t.Parallel()
			before := allocatedBytes()
			_, err := compileJQ(expr)
			if err == nil {
				t.Fatalf("compileJQ(%q) succeeded, want it refused", expr)
			}
			if a := allocatedBytes() - before; a > 64<<20 {
				t.Errorf("compiling allocated %d MiB", a>>20)
			}
			t.Log(err)
		})
	}
}

// TestJQAllowsFieldPaths: the expressions ignore rules are written with
// (Argo CD's documentation and issues) still compile and select fields.
func TestJQAllowsFieldPaths(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`.spec.template.spec.containers[] | select(.name == "istio-proxy")`, []string{"/spec/template/spec/containers/1", "/spec/template/spec/containers/3"}},
		{`.spec.template.spec.initContainers[]? | select(.name == "injected-init-container")`, nil},
		{`.webhooks[]?.clientConfig.caBundle`, nil},
		{`.spec.template.spec.containers[] | select(.name | startswith("istio")) | .image`, []string{"/spec/template/spec/containers/1/image", "/spec/template/spec/containers/3/image"}},
		{`.spec.template.spec.containers[] | select(.image | test("^fluent-bit:[0-9]+$"))`, []string{"/spec/template/spec/containers/2"}},
		{`.spec.template.spec.containers[] | select(.name | IN("app", "log")) | .ports`, []string{"/spec/template/spec/containers/0/ports", "/spec/template/spec/containers/2/ports"}},
		{`.spec.template.spec.containers[] | select(any(.ports[]?; .containerPort > 2020 and .containerPort % 2 == 0)) | .name`, []string{"/spec/template/spec/containers/0/name"}},
		{`.spec.template.spec.containers[] | select(has("ports") | not) | .image`, []string{"/spec/template/spec/containers/1/image", "/spec/template/spec/containers/3/image"}},
		{`.spec.template.spec.containers[.spec.replicas - 2].name`, []string{"/spec/template/spec/containers/1/name"}},
		{`.spec.template.spec.containers | .[length - 1]`, []string{"/spec/template/spec/containers/3"}},
		{`.metadata.annotations | select(to_entries | any(.key | contains("example"))) | .["a~b"]`, []string{"/metadata/annotations/a~0b"}},
		{`.metadata.annotations | .[keys[] | select(ascii_downcase | endswith("/note"))]`, []string{"/metadata/annotations/example.com~1note"}},
		{`.. | objects | select(.name? == "log") | .image`, []string{"/spec/template/spec/containers/2/image"}},
		{`first(.spec.template.spec.containers[] | select(.name == "istio-proxy"))`, []string{"/spec/template/spec/containers/1"}},
		{`.spec.template.spec.containers[] as $c | .spec.replicas | select($c.name == "app")`, []string{"/spec/replicas"}},
		{`if .spec.replicas > 1 then .spec.replicas else empty end`, []string{"/spec/replicas"}},
		{`.metadata.labels."app.kubernetes.io/version" // .metadata.name`, []string{"/metadata/name"}},
		{`try .spec.replicas[] catch empty`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			code, err := compileJQ(tt.expr)
			if err != nil {
				t.Fatalf("compileJQ(%q): %v", tt.expr, err)
			}
			r := &Rule{Name: "t", JQPathExpressions: []string{tt.expr}, jq: []*gojq.Code{code}}
			got, err := r.Paths(context.Background(), workload())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, pointers(got)); diff != "" {
				t.Errorf("Paths mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJQRuntimeBudget: what gets past the compile-time check is still
// stopped by the step and allocation budget, long before its timeout, and
// having allocated far less than the 512 MiB the deployment allows. The
// expressions are compiled without checkJQ.
func TestJQRuntimeBudget(t *testing.T) {
	exprs := []string{
		`.data[[limit(1e9; repeat(.))] | length]`, // a list growing by one item a step
		`.data[[range(1e9)] | length]`,            // the same through range
		`def f: f; f`,                             // steps without allocating
		`def f: [., f]; f`,                        // recursion
		`.data[.data.a as $s | [limit(1e9; repeat($s + $s))] | length]`, // a growing list of new 2 KiB strings
	}
	for _, expr := range exprs {
		t.Run(expr, func(t *testing.T) {
			// Not parallel: the allocation budget is measured process-wide.
			r := &Rule{Name: "t", JQPathExpressions: []string{expr}, JQTimeout: time.Minute, jq: uncheckedJQ(t, expr)}
			before := allocatedBytes()
			start := time.Now()
			_, err := r.Paths(context.Background(), map[string]any{"data": map[string]any{"a": strings.Repeat("x", 1<<10)}})
			allocated := allocatedBytes() - before
			t.Logf("%v after %v, %d MiB allocated", err, time.Since(start), allocated>>20)
			if !errors.Is(err, errJQBudget) {
				t.Fatalf("error = %v, want the budget exceeded", err)
			}
			if allocated > 192<<20 {
				t.Errorf("allocated %d MiB, want at most 192", allocated>>20)
			}
		})
	}
}

// TestJQErrorOnSecretWithheld: gojq's error messages quote the value they
// failed on; on a Secret that is its data, so the message is withheld.
func TestJQErrorOnSecretWithheld(t *testing.T) {
	secret := map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "db", "namespace": "prod"},
		"data":       map[string]any{"password": "Y2FuYXJ5LXMzY3IzdC03ZjNhLWxvbmdlci10aGFuLWEtcHJldmlldw=="},
		"stringData": map[string]any{"token": "canary-s3cr3t-7f3a"},
	}
	for _, expr := range []string{`.data.password[]`, `.stringData.token[]`, `.stringData.token.x`, `.data.password | keys`} {
		r := &Rule{Name: "t", JQPathExpressions: []string{expr}}
		_, err := r.Paths(context.Background(), secret)
		if err == nil {
			t.Fatalf("%s: no error", expr)
		}
		if msg := err.Error(); strings.Contains(msg, "Y2FuYXJ5") || strings.Contains(msg, "canary") || !strings.Contains(msg, "withheld") {
			t.Errorf("%s: error %q, want the message withheld", expr, msg)
		}
	}
	// Other objects keep gojq's message.
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"a": "plain"}}
	r := &Rule{Name: "t", JQPathExpressions: []string{`.data.a[]`}}
	if _, err := r.Paths(context.Background(), cm); err == nil || !strings.Contains(err.Error(), `cannot iterate over: string ("plain")`) {
		t.Errorf("ConfigMap: error %v, want gojq's", err)
	}
}
