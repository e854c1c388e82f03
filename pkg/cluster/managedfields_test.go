package cluster

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWithoutManagedFields(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
	}{
		{"last member",
			`{"kind":"ConfigMap","metadata":{"name":"a","managedFields":[{"manager":"x","fieldsV1":{"f:data":{".":{},"f:k":{}}}}]},"data":{"k":"v"}}`,
			`{"kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}`},
		{"first member, spaces",
			"{ \"metadata\" : { \"managedFields\" : [ {\"m\":\"}]\\\"{\"} ] ,\n \"name\" : \"a\" } }",
			"{ \"metadata\" : { \n \"name\" : \"a\" } }"},
		{"middle member, strings with brackets",
			`{"a":"{[","metadata":{"name":"]}","managedFields":[{"x":"\\"}],"uid":"u"},"b":[1,{"c":null}]}`,
			`{"a":"{[","metadata":{"name":"]}","uid":"u"},"b":[1,{"c":null}]}`},
		{"only member", `{"metadata":{"managedFields":[]}}`, `{"metadata":{}}`},
		{"none", `{"metadata":{"name":"a"},"managedFields":[1]}`, `{"metadata":{"name":"a"},"managedFields":[1]}`},
		{"nested object named metadata", `{"spec":{"metadata":{"managedFields":[]}},"metadata":{"name":"a"}}`, `{"spec":{"metadata":{"managedFields":[]}},"metadata":{"name":"a"}}`},
		{"not an object", `[1]`, `[1]`},
		{"truncated", `{"metadata":{"managedFields":[{"a":"b"`, `{"metadata":{"managedFields":[{"a":"b"`},
		{"metadata not an object", `{"metadata":null}`, `{"metadata":null}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(withoutManagedFields([]byte(tt.in)))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			var a, b any
			if json.Unmarshal([]byte(tt.in), &a) == nil {
				if err := json.Unmarshal([]byte(got), &b); err != nil {
					t.Fatalf("valid input, invalid output: %v", err)
				}
				top, _ := a.(map[string]any)
				if md, ok := top["metadata"].(map[string]any); ok {
					delete(md, "managedFields")
				}
				if d := cmp.Diff(a, b); d != "" {
					t.Errorf("not the input less metadata.managedFields (-want +got):\n%s", d)
				}
			}
		})
	}
}
