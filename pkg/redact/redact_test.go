package redact

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// secret builds a v1 Secret named name; mods add to it.
func secret(name string, mods ...func(map[string]any)) map[string]any {
	obj := map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   map[string]any{"name": name, "namespace": "shop"},
	}
	for _, m := range mods {
		m(obj)
	}
	return obj
}

// data sets data from key, value pairs, base64-encoding the values.
func data(kv ...string) func(map[string]any) {
	return func(obj map[string]any) {
		d := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			d[kv[i]] = b64(kv[i+1])
		}
		obj["data"] = d
	}
}

// stringData sets stringData from key, value pairs.
func stringData(kv ...string) func(map[string]any) {
	return func(obj map[string]any) {
		d := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			d[kv[i]] = kv[i+1]
		}
		obj["stringData"] = d
	}
}

// annotation sets one annotation.
func annotation(k, v string) func(map[string]any) {
	return func(obj map[string]any) {
		md := obj["metadata"].(map[string]any)
		ann, _ := md["annotations"].(map[string]any)
		if ann == nil {
			ann = map[string]any{}
			md["annotations"] = ann
		}
		ann[k] = v
	}
}

// lastApplied sets the last-applied annotation to obj as JSON.
func lastApplied(t *testing.T, obj map[string]any) func(map[string]any) {
	t.Helper()
	j, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return annotation(LastApplied, string(j)+"\n")
}

func annotationOf(obj map[string]any, k string) any {
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	return ann[k]
}

// jsonText compares strings holding JSON objects (last-applied annotations)
// by their content, not their spelling.
var jsonText = cmp.FilterValues(func(a, b string) bool {
	return strings.HasPrefix(a, "{") && strings.HasPrefix(b, "{")
}, cmp.Transformer("ParseJSON", func(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	return v
}))

func TestIsSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		obj  map[string]any
		want bool
	}{
		{secret("s"), true},
		{map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}, false},
		{map[string]any{"apiVersion": "example.com/v1", "kind": "Secret"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsSecret(tt.obj); got != tt.want {
			t.Errorf("IsSecret(%v) = %v, want %v", tt.obj, got, tt.want)
		}
	}
}

func TestPair(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		before, after         map[string]any
		wantBefore, wantAfter map[string]any
	}{
		{
			name:       "equal values",
			before:     secret("db", data("user", "app")),
			after:      secret("db", data("user", "app")),
			wantBefore: secret("db", func(o map[string]any) { o["data"] = map[string]any{"user": Mask} }),
			wantAfter:  secret("db", func(o map[string]any) { o["data"] = map[string]any{"user": Mask} }),
		},
		{
			name:       "differing values stay visible as changed",
			before:     secret("db", data("user", "app", "password", "old-pass")),
			after:      secret("db", data("user", "app", "password", "new-pass")),
			wantBefore: secret("db", func(o map[string]any) { o["data"] = map[string]any{"user": Mask, "password": MaskBefore} }),
			wantAfter:  secret("db", func(o map[string]any) { o["data"] = map[string]any{"user": Mask, "password": MaskAfter} }),
		},
		{
			name:       "keys only one side has",
			before:     secret("db", data("removed", "r-value")),
			after:      secret("db", data("added", "a-value")),
			wantBefore: secret("db", func(o map[string]any) { o["data"] = map[string]any{"removed": Mask} }),
			wantAfter:  secret("db", func(o map[string]any) { o["data"] = map[string]any{"added": Mask} }),
		},
		{
			name:       "stringData",
			before:     secret("db", stringData("password", "old-pass", "user", "app")),
			after:      secret("db", stringData("password", "new-pass", "user", "app")),
			wantBefore: secret("db", stringData("password", MaskBefore, "user", Mask)),
			wantAfter:  secret("db", stringData("password", MaskAfter, "user", Mask)),
		},
		{
			name:      "missing: only after",
			after:     secret("db", data("password", "pass"), stringData("token", "tok")),
			wantAfter: secret("db", stringData("token", Mask), func(o map[string]any) { o["data"] = map[string]any{"password": Mask} }),
		},
		{
			name:       "extraneous: only before",
			before:     secret("db", data("password", "pass")),
			wantBefore: secret("db", func(o map[string]any) { o["data"] = map[string]any{"password": Mask} }),
		},
		{
			name:       "last-applied annotation of both sides",
			before:     secret("db", data("password", "old-pass"), lastApplied(t, secret("db", data("password", "old-pass")))),
			after:      secret("db", data("password", "old-pass"), lastApplied(t, secret("db", stringData("password", "new-pass")))),
			wantBefore: secret("db", func(o map[string]any) { o["data"] = map[string]any{"password": Mask} }, lastApplied(t, secret("db", func(o map[string]any) { o["data"] = map[string]any{"password": Mask} }))),
			wantAfter:  secret("db", func(o map[string]any) { o["data"] = map[string]any{"password": Mask} }, lastApplied(t, secret("db", stringData("password", Mask)))),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			Pair(tt.before, tt.after)
			if diff := cmp.Diff(tt.wantBefore, tt.before, jsonText); diff != "" {
				t.Errorf("before (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAfter, tt.after, jsonText); diff != "" {
				t.Errorf("after (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		before, after         any
		wantBefore, wantAfter any
	}{
		{"changed value", b64("old"), b64("new"), MaskBefore, MaskAfter},
		{"value only live (extra)", b64("old"), nil, Mask, nil},
		{"value only in Git (missing)", nil, b64("new"), nil, Mask},
		{"equal values", b64("same"), b64("same"), Mask, Mask},
		{
			"whole data map",
			map[string]any{"a": b64("1"), "b": b64("2"), "gone": b64("3")},
			map[string]any{"a": b64("1"), "b": b64("x"), "new": b64("4")},
			map[string]any{"a": Mask, "b": MaskBefore, "gone": Mask},
			map[string]any{"a": Mask, "b": MaskAfter, "new": Mask},
		},
		{"map against a scalar", map[string]any{"a": "1"}, "x", map[string]any{"a": Mask}, MaskAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gotBefore, gotAfter := Value(tt.before, tt.after)
			if diff := cmp.Diff([]any{tt.wantBefore, tt.wantAfter}, []any{gotBefore, gotAfter}); diff != "" {
				t.Errorf("Value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLastAppliedAnnotation(t *testing.T) {
	t.Parallel()
	masked := func(o map[string]any) { o["data"] = map[string]any{"password": Mask} }
	configMap := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}, "data": map[string]any{"k": "v & <w>"}}
	list := func(items ...any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
	}
	cmJSON, err := json.Marshal(configMap)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		obj  map[string]any
		want any // the annotation after masking; an object is compared as JSON
	}{
		{"Secret", secret("db", lastApplied(t, secret("db", data("password", "hunter22")))), secret("db", masked)},
		{"Secret with stringData", secret("db", lastApplied(t, secret("db", stringData("password", "hunter22")))), secret("db", stringData("password", Mask))},
		{
			"List holding a Secret",
			configMapWith(lastAppliedFor(t, list(configMap, secret("db", data("password", "hunter22"))))),
			list(configMap, secret("db", masked)),
		},
		// Untouched, byte for byte.
		{"not a Secret", configMapWith(string(cmJSON) + "\n"), string(cmJSON) + "\n"},
		{"invalid JSON", secret("db", annotation(LastApplied, `{"kind":"Secret","data":{"password":"aHVudGVy`)), Mask},
		{"JSON but not an object", secret("db", annotation(LastApplied, `["aHVudGVy"]`)), Mask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			LastAppliedAnnotation(tt.obj)
			got := annotationOf(tt.obj, LastApplied)
			if _, isObject := tt.want.(map[string]any); isObject {
				var obj map[string]any
				if err := json.Unmarshal([]byte(got.(string)), &obj); err != nil {
					t.Fatalf("annotation is not JSON: %v: %q", err, got)
				}
				got = obj
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("annotation (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no annotation", func(t *testing.T) {
		t.Parallel()
		for _, obj := range []map[string]any{nil, {}, secret("db"), secret("db", annotation("other", "x"))} {
			LastAppliedAnnotation(obj)
			if got := annotationOf(obj, LastApplied); got != nil {
				t.Errorf("annotation added: %v", got)
			}
		}
	})
}

func lastAppliedFor(t *testing.T, obj map[string]any) string {
	t.Helper()
	j, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

func configMapWith(lastApplied string) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "c", "annotations": map[string]any{LastApplied: lastApplied}},
	}
}

func TestSweeper(t *testing.T) {
	t.Parallel()
	const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEAAoIB\n-----END PRIVATE KEY-----\n"
	tests := []struct {
		name    string
		secrets []map[string]any
		in      string
		want    string
	}{
		{
			name:    "data value as stored and decoded",
			secrets: []map[string]any{secret("db", data("password", "hunter2!"))},
			in:      "token hunter2! or " + b64("hunter2!") + " here",
			want:    "token *** or *** here",
		},
		{
			name:    "stringData value and its encoding",
			secrets: []map[string]any{secret("db", stringData("token", "tok-12345"))},
			in:      "x tok-12345 " + b64("tok-12345"),
			want:    "x *** ***",
		},
		{
			name:    "multi-line decoded value: whole and line by line",
			secrets: []map[string]any{secret("tls", data("tls.key", pem))},
			in:      "whole: " + pem + "line: MIIEvQIBADANBgkqhkiG9w0B.",
			want:    "whole: ***line: ***.",
		},
		{
			name:    "multi-line stringData value: line by line too",
			secrets: []map[string]any{secret("tls", stringData("tls.key", pem))},
			in:      "line: AQEFAASCBKcwggSjAgEAAoIB.",
			want:    "line: ***.",
		},
		{
			name:    "values shorter than 4 characters are left",
			secrets: []map[string]any{secret("db", data("a", "abc", "b", "abcd"))},
			in:      "abc abcd",
			want:    "abc ***",
		},
		{
			name:    "longest first",
			secrets: []map[string]any{secret("db", stringData("short", "pass", "long", "password1"))},
			in:      "password1 pass",
			want:    "*** ***",
		},
		{
			name:    "embedded in the last-applied annotation only",
			secrets: []map[string]any{secret("db", data("password", "****"), lastApplied(t, secret("db", stringData("password", "older-secret"))))},
			in:      "was older-secret",
			want:    "was ***",
		},
		{
			name:    "Secrets of a List",
			secrets: []map[string]any{{"kind": "List", "items": []any{secret("a", stringData("k", "from-list"))}}},
			in:      "from-list",
			want:    "***",
		},
		{
			name:    "masks are not values",
			secrets: []map[string]any{secret("db", stringData("a", Mask, "b", MaskBefore, "c", MaskAfter))},
			in:      "*** (before) *** (after)",
			want:    "*** (before) *** (after)",
		},
		{
			name:    "other kinds are not collected",
			secrets: []map[string]any{{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"mode": "production"}}, nil},
			in:      "mode production",
			want:    "mode production",
		},
		{
			name:    "not base64",
			secrets: []map[string]any{secret("db", func(o map[string]any) { o["data"] = map[string]any{"k": "not base64!"} })},
			in:      "not base64! here",
			want:    "*** here",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewSweeper()
			for _, obj := range tt.secrets {
				s.Add(obj)
			}
			if got := s.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSweeperValue(t *testing.T) {
	t.Parallel()
	s := NewSweeper()
	s.Add(secret("db", stringData("password", "hunter22")))
	in := map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{"note": "pw=hunter22", "hunter22": "as a key"}},
		"list":     []any{"hunter22", int64(7), true, nil, map[string]any{"x": "a hunter22 b"}},
	}
	want := map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{"note": "pw=***", "***": "as a key"}},
		"list":     []any{"***", int64(7), true, nil, map[string]any{"x": "a *** b"}},
	}
	got := s.Value(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Value (-want +got):\n%s", diff)
	}
	if in["list"].([]any)[0] != "hunter22" {
		t.Error("Value modified its input")
	}
	empty := NewSweeper()
	if got := empty.Value(in); !cmp.Equal(got, in) {
		t.Errorf("an empty sweeper changed the value: %v", got)
	}
	if got := empty.String("hunter22"); got != "hunter22" {
		t.Errorf("an empty sweeper changed the string: %q", got)
	}
}

func TestSweeperAddAfterString(t *testing.T) {
	t.Parallel()
	s := NewSweeper()
	s.Add(secret("a", stringData("k", "first-value")))
	if got := s.String("first-value second-value"); got != "*** second-value" {
		t.Fatalf("String = %q", got)
	}
	s.Add(secret("b", stringData("k", "second-value")))
	if got := s.String("first-value second-value"); got != "*** ***" {
		t.Errorf("a value added after a sweep is not swept: %q", got)
	}
	if strings.Contains(s.String(b64("second-value")), "c2Vjb25k") {
		t.Error("the encoding of a value added later is not swept")
	}
}
