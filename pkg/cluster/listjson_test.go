package cluster

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured/unstructuredscheme"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/kubernetes/scheme"
)

// listBodies are LIST response bodies recorded from the self-built
// kube-apiserver v1.37.2 (hack/benchfloor list -per-namespace -save, in
// format "json", "protobuf" or "cbor"; CBOR needs the feature gate
// CBORServingAndStorage): one namespace of hack/bench-drift.sh's data in
// testdata/lists (50 each of ConfigMaps, Deployments, Services and
// RoleBindings, every tenth drifted by kubectl), or every body of a
// directory $KUBECTL_GITOPS_LIST_BODIES/FORMAT (docs/benchmarks.md,
// "Decoding LIST responses"), of at most $KUBECTL_GITOPS_LIST_NAMESPACES
// namespaces. Keyed by file name without the extension.
func listBodies(tb testing.TB, format string) map[string][]byte {
	tb.Helper()
	ext := map[string]string{"json": ".json", "protobuf": ".pb", "cbor": ".cbor"}[format]
	out := map[string][]byte{}
	if dir := os.Getenv("KUBECTL_GITOPS_LIST_BODIES"); dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, format, "*"+ext))
		if err != nil || len(files) == 0 {
			tb.Fatalf("no %s bodies in %s/%s (%v)", format, dir, format, err)
		}
		keep := map[string]bool{}
		var limit int
		if s := os.Getenv("KUBECTL_GITOPS_LIST_NAMESPACES"); s != "" {
			if _, err := fmt.Sscan(s, &limit); err != nil {
				tb.Fatal(err)
			}
		}
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ext)
			ns := namespaceOfBody(name)
			if limit > 0 && !keep[ns] && len(keep) == limit {
				continue
			}
			keep[ns] = true
			data, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			out[name] = data
		}
		return out
	}
	files, err := filepath.Glob(filepath.Join("testdata", "lists", "*"+ext+".gz"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no %s bodies in testdata/lists (%v)", format, err)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		fh.Close()
		if err != nil {
			tb.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ext+".gz")] = data
	}
	return out
}

// namespaceOfBody is the namespace in a recorded body's name
// (api_v1_namespaces_NS_configmaps).
func namespaceOfBody(name string) string {
	parts := strings.Split(name, "_")
	if i := slices.Index(parts, "namespaces"); i >= 0 && i+1 < len(parts) {
		return parts[i+1]
	}
	return ""
}

// decodeListUtiljson is decodeListJSON as it was before parseListJSON:
// the reference parseListJSON must agree with.
func decodeListUtiljson(body []byte) ([]unstructured.Unstructured, string, error) {
	var lb listBody
	if err := utiljson.Unmarshal(body, &lb); err != nil {
		return nil, "", err
	}
	return listItems(lb)
}

// sameAsUtiljson fails unless parseListJSON decodes body exactly as
// utiljson does, or leaves it to utiljson; and decodeListJSON returns
// exactly what utiljson's decoding returned, error or not.
func sameAsUtiljson(t *testing.T, body []byte) (parsed bool) {
	t.Helper()
	lb, ok := parseListJSON(body)
	var want listBody
	wantErr := utiljson.Unmarshal(body, &want)
	if ok {
		if wantErr != nil {
			t.Fatalf("parseListJSON decoded what utiljson rejects (%v): %q", wantErr, body)
		}
		if !reflect.DeepEqual(want, lb) {
			// cmp.Diff only now: it is slow on deep nesting.
			t.Fatalf("parseListJSON differs from utiljson (-utiljson +parseListJSON) on %q:\n%s", body, cmp.Diff(want, lb))
		}
	}
	items, cont, err := decodeListJSON(body)
	wantItems, wantCont, wantErr := decodeListUtiljson(body)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("decodeListJSON error %v, utiljson's %v, on %q", err, wantErr, body)
	}
	if !reflect.DeepEqual(wantItems, items) || cont != wantCont {
		t.Fatalf("decodeListJSON differs (-utiljson +decodeListJSON), continue %q vs %q:\n%s", wantCont, cont, cmp.Diff(wantItems, items))
	}
	return ok
}

// TestParseListJSONAsUtiljson checks parseListJSON against utiljson on the
// recorded bodies (which it must decode itself, not leave to utiljson) and
// on hand-written edge cases of JSON and of a LIST body's shape.
func TestParseListJSONAsUtiljson(t *testing.T) {
	for name, body := range listBodies(t, "json") {
		t.Run(name, func(t *testing.T) {
			if !sameAsUtiljson(t, body) {
				t.Fatal("parseListJSON left a recorded body to utiljson")
			}
		})
	}
	for _, tt := range []struct {
		name, body string
		parsed     bool // parseListJSON decodes it itself
	}{
		{"minimal", `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{},"items":[]}`, true},
		{"no items", `{"kind":"ConfigMapList"}`, true},
		{"null items", `{"kind":"ConfigMapList","items":null}`, true},
		{"null item", `{"kind":"ConfigMapList","items":[null,{}]}`, true},
		{"continue", `{"kind":"L","metadata":{"resourceVersion":"1","continue":"abc","remainingItemCount":3}}`, true},
		{"null strings", `{"kind":"L","apiVersion":null,"metadata":{"continue":null}}`, true},
		{"item without kind", `{"kind":"ConfigMapList","apiVersion":"v1","items":[{"metadata":{"name":"a"}}]}`, true},
		{"space", " \t\r\n{ \"kind\" : \"L\" , \"items\" : [ { \"a\" : [ 1 , 2 ] } ] } \n", true},
		{"values", `{"kind":"L","items":[{"s":"x","t":true,"f":false,"n":null,"o":{},"a":[],"aa":[[],[{}]]}]}`, true},
		{"integers", `{"kind":"L","items":[{"a":0,"b":-0,"c":123456789012345678,"d":-123456789012345678,"e":9223372036854775807,"f":-9223372036854775808}]}`, true},
		{"beyond int64", `{"kind":"L","items":[{"a":9223372036854775808,"b":-9223372036854775809,"c":123456789012345678901234567890}]}`, true},
		{"floats", `{"kind":"L","items":[{"a":1.5,"b":-0.0,"c":1e3,"d":1E-3,"e":2.5e+10,"f":0.1,"g":1.0}]}`, true},
		{"float out of range", `{"kind":"L","items":[{"a":1e400}]}`, false},
		{"escapes", `{"kind":"L","items":[{"a":"\"\\\/\b\f\n\r\t","b":"\u00fc\u20ac","c":"\ud83d\ude00","k:{\"port\":80}":{}}]}`, true},
		{"UTF-8", `{"kind":"L","items":[{"ü":"€ 😀 </script>"}]}`, true},
		{"lone surrogate", `{"kind":"L","items":[{"a":"\ud83d"}]}`, false},
		{"lone low surrogate", `{"kind":"L","items":[{"a":"\ude00x"}]}`, false},
		{"surrogate then letter", `{"kind":"L","items":[{"a":"\ud83d\u0041"}]}`, false},
		{"invalid UTF-8", "{\"kind\":\"L\",\"items\":[{\"a\":\"\xff\"}]}", false},
		{"invalid UTF-8 in key", "{\"kind\":\"L\",\"items\":[{\"\xc3\":1}]}", false},
		{"repeated key in item", `{"kind":"L","items":[{"a":1,"a":2,"m":{"x":1},"m":{"y":2}}]}`, true},
		{"escaped field name", `{"kind":"L","\u0069tems":[{"a":1}]}`, true},
		{"field name in other case", `{"Kind":"L","kind":"M","Items":[{"a":1}]}`, true},
		{"unknown fields", `{"kind":"L","x":{"items":[1]},"y":[{"kind":2}],"z":"\u0041","w":-1.5e3}`, true},
		{"repeated items", `{"kind":"L","items":[{"a":1}],"items":[{"b":2}]}`, false},
		{"repeated kind", `{"kind":"L","kind":"M"}`, false},
		{"repeated continue", `{"kind":"L","metadata":{"continue":"a","continue":"b"}}`, false},
		{"kind not a string", `{"kind":1}`, false},
		{"item not an object", `{"kind":"L","items":[1]}`, false},
		{"items not an array", `{"kind":"L","items":{}}`, false},
		{"metadata not an object", `{"kind":"L","metadata":[]}`, false},
		{"no kind", `{"items":[]}`, true},
		{"null", `null`, false},
		{"empty", ``, false},
		{"trailing data", `{"kind":"L"}x`, false},
		{"two values", `{"kind":"L"} {}`, false},
		{"truncated", `{"kind":"L","items":[{"a":"b`, false},
		{"trailing comma", `{"kind":"L","items":[{"a":1,}]}`, false},
		{"leading zero", `{"kind":"L","items":[{"a":01}]}`, false},
		{"bare minus", `{"kind":"L","items":[{"a":-}]}`, false},
		{"bad fraction", `{"kind":"L","items":[{"a":1.}]}`, false},
		{"bad exponent", `{"kind":"L","items":[{"a":1e}]}`, false},
		{"plus", `{"kind":"L","items":[{"a":+1}]}`, false},
		{"control character", "{\"kind\":\"L\",\"items\":[{\"a\":\"\t\"}]}", false},
		{"bad escape", `{"kind":"L","items":[{"a":"\x"}]}`, false},
		{"short unicode escape", `{"kind":"L","items":[{"a":"\u12"}]}`, false},
		{"single quotes", `{'kind':'L'}`, false},
		{"bad literal", `{"kind":"L","items":[{"a":tru}]}`, false},
		{"deep", `{"kind":"L","items":[{"a":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}]}`, false},
		{"too deep for utiljson", `{"kind":"L","items":[{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}]}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameAsUtiljson(t, []byte(tt.body)); got != tt.parsed {
				t.Errorf("parseListJSON decoded it itself: %v, want %v", got, tt.parsed)
			}
		})
	}
}

// FuzzParseListJSON: whatever the body, decodeListJSON returns what
// utiljson's decoding returned.
func FuzzParseListJSON(f *testing.F) {
	f.Add([]byte(`{"kind":"L","apiVersion":"v1","metadata":{"continue":"c"},"items":[{"a":[1,-2.5e3,"\u00fc\ud83d\ude00",{"b":null}],"t":true}]}`))
	f.Add([]byte(`{"kind":"L","items":[{"a":9223372036854775808,"b":"\ud83d"}]}`))
	if body, ok := listBodies(f, "json")["api_v1_namespaces_bench-000_configmaps"]; ok {
		f.Add(body[:4096])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAsUtiljson(t, body)
	})
}

// TestDecodeListJSONAllocatesLess pins issue 17.3 without timing: decoding
// the recorded LIST bodies makes at most 75 % of the allocations utiljson's
// decoding makes (parseListJSON interns keys and short values, sizes each
// map and slice once and decodes small integers without strconv; measured:
// 53 %, with 94 % of the bytes: the maps themselves are the same).
func TestDecodeListJSONAllocatesLess(t *testing.T) {
	bodies := listBodies(t, "json")
	measure := func(decode func([]byte) ([]unstructured.Unstructured, string, error)) testing.BenchmarkResult {
		return testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, body := range bodies {
					if _, _, err := decode(body); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
	before, after := measure(decodeListUtiljson), measure(decodeListJSON)
	t.Logf("per decode of %d bodies: utiljson %d allocations, %d B; decodeListJSON %d allocations, %d B",
		len(bodies), before.AllocsPerOp(), before.AllocedBytesPerOp(), after.AllocsPerOp(), after.AllocedBytesPerOp())
	if after.AllocsPerOp()*4 > before.AllocsPerOp()*3 {
		t.Errorf("decodeListJSON makes %d allocations, more than 75%% of utiljson's %d", after.AllocsPerOp(), before.AllocsPerOp())
	}
	if after.AllocedBytesPerOp() > before.AllocedBytesPerOp() {
		t.Errorf("decodeListJSON allocates %d B, more than utiljson's %d B", after.AllocedBytesPerOp(), before.AllocedBytesPerOp())
	}
}

// The decoders compared in docs/benchmarks.md, "Decoding LIST responses".
var (
	cborList = cbor.NewSerializer(unstructuredscheme.NewUnstructuredCreator(), unstructuredscheme.NewUnstructuredObjectTyper())
	// protobufTyped decodes built-in kinds' protobuf into their Go types.
	protobufTyped = scheme.Codecs.UniversalDeserializer()
)

func decodeCBOR(body []byte) ([]unstructured.Unstructured, error) {
	var list unstructured.UnstructuredList
	if _, _, err := cborList.Decode(body, nil, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// decodeProtobuf decodes a built-in kind's protobuf LIST into its typed
// list and, with convert, each item into the unstructured form the compare
// engine works on (as the typed list's JSON would decode).
func decodeProtobuf(body []byte, convert bool) ([]unstructured.Unstructured, error) {
	obj, _, err := protobufTyped.Decode(body, nil, nil)
	if err != nil {
		return nil, err
	}
	if !convert {
		return nil, nil
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	objs, err := meta.ExtractList(obj)
	if err != nil {
		return nil, err
	}
	items := make([]unstructured.Unstructured, len(objs))
	for i, o := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, err
		}
		items[i].Object = m
		items[i].SetAPIVersion(gvk.GroupVersion().String())
		items[i].SetKind(strings.TrimSuffix(gvk.Kind, "List"))
	}
	return items, nil
}

// decodeListStreaming is the streaming decode of LIST items measured for
// issue 17.3 and not adopted (docs/benchmarks.md, "Decoding LIST
// responses"): encoding/json's Decoder reads the body as a stream and
// decodes one item at a time, so that no whole body need be held; numbers
// as utiljson gives them (int64 when they fit, else float64).
func decodeListStreaming(r io.Reader) ([]unstructured.Unstructured, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var lb listBody
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch key {
		case "items":
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			for dec.More() {
				var m map[string]any
				if err := dec.Decode(&m); err != nil {
					return nil, err
				}
				lb.Items = append(lb.Items, withInts(m).(map[string]any))
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
		case "apiVersion":
			err = dec.Decode(&lb.APIVersion)
		case "kind":
			err = dec.Decode(&lb.Kind)
		case "metadata":
			err = dec.Decode(&lb.Metadata)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, err
		}
	}
	items, _, err := listItems(lb)
	return items, err
}

// withInts turns v's json.Numbers into int64 or float64, as utiljson does.
func withInts(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = withInts(x)
		}
	case []any:
		for i, x := range t {
			t[i] = withInts(x)
		}
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// TestListFormatsDecodeAlike records, for docs/benchmarks.md, whether the
// protobuf and CBOR decodings, and the streaming decode of JSON, give the
// objects the JSON decoding gives (they must, to replace it).
func TestListFormatsDecodeAlike(t *testing.T) {
	jsonBodies := listBodies(t, "json")
	for _, format := range []string{"protobuf", "cbor", "json-streaming"} {
		bodies := jsonBodies
		if format != "json-streaming" {
			bodies = listBodies(t, format)
		}
		for name, body := range bodies {
			want, _, err := decodeListJSON(jsonBodies[name])
			if err != nil {
				t.Fatal(err)
			}
			var got []unstructured.Unstructured
			switch format {
			case "cbor":
				got, err = decodeCBOR(body)
			case "json-streaming":
				got, err = decodeListStreaming(bytes.NewReader(body))
			default:
				got, err = decodeProtobuf(body, true)
			}
			if err != nil {
				t.Fatalf("%s %s: %v", format, name, err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s %s differs from JSON (-json +%s):\n%.3000s", format, name, format, d)
			}
		}
	}
}

// processCPU is the process's user and system CPU time so far, in ns.
func processCPU(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkDecodeList decodes every recorded body (listBodies) per op, in
// each format. Its numbers are in docs/benchmarks.md.
func BenchmarkDecodeList(b *testing.B) {
	run := func(format string, decode func([]byte) error) func(*testing.B) {
		return func(b *testing.B) {
			bodies := listBodies(b, format)
			var size int64
			for _, body := range bodies {
				size += int64(len(body))
			}
			b.ReportAllocs()
			b.SetBytes(size)
			cpu0 := processCPU(b)
			for b.Loop() {
				for _, body := range bodies {
					if err := decode(body); err != nil {
						b.Fatal(err)
					}
				}
			}
			// CPU time (the process's, so the collector's too) says more
			// than wall time on a loaded machine.
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		}
	}
	discard := func(decode func([]byte) ([]unstructured.Unstructured, string, error)) func([]byte) error {
		return func(body []byte) error { _, _, err := decode(body); return err }
	}
	b.Run("utiljson", run("json", discard(decodeListUtiljson)))
	b.Run("parseListJSON", run("json", discard(decodeListJSON)))
	b.Run("protobuf-typed", run("protobuf", func(body []byte) error { _, err := decodeProtobuf(body, false); return err }))
	b.Run("protobuf-unstructured", run("protobuf", func(body []byte) error { _, err := decodeProtobuf(body, true); return err }))
	b.Run("cbor-unstructured", run("cbor", func(body []byte) error { _, err := decodeCBOR(body); return err }))
	b.Run("json-streaming", run("json", func(body []byte) error { _, err := decodeListStreaming(bytes.NewReader(body)); return err }))
}
