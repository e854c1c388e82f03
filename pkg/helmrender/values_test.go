package helmrender

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestComposeValues: valuesFrom merged in order (a targetPath sets one
// path, a quoted value stays a string), optional entries that were not
// found left out, spec.values merged last; the values that came from
// Secrets are returned for masking, those from ConfigMaps are not.
func TestComposeValues(t *testing.T) {
	t.Parallel()
	refs := []ValuesRef{
		{Kind: "ConfigMap", Name: "base", ValuesKey: "values.yaml", Found: true, Data: []byte("replicas: 1\nsmtp: {host: a.example.com, port: 25}\nimage: {tag: '1.0'}\n")},
		{Kind: "Secret", Name: "creds", ValuesKey: "values.yaml", Found: true, Data: []byte("db:\n  password: canary-s3cr3t-7f3a-db\n  port: 5432\n")},
		{Kind: "Secret", Name: "smtp", ValuesKey: "pass", TargetPath: "smtp.pass", Found: true, Data: []byte("canary-s3cr3t-7f3a-smtp")},
		{Kind: "ConfigMap", Name: "ver", ValuesKey: "v", TargetPath: "image.tag", Found: true, Data: []byte(`"2.0"`)},
		{Kind: "ConfigMap", Name: "absent", ValuesKey: "values.yaml", Found: false},
	}
	got, secrets, err := ComposeValues(refs, map[string]any{"replicas": 3, "smtp": map[string]any{"port": 587}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"replicas": 3,
		"smtp":     map[string]any{"host": "a.example.com", "port": 587, "pass": "canary-s3cr3t-7f3a-smtp"},
		"image":    map[string]any{"tag": "2.0"},
		"db":       map[string]any{"password": "canary-s3cr3t-7f3a-db", "port": float64(5432)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"5432", "canary-s3cr3t-7f3a-db", "canary-s3cr3t-7f3a-smtp"}, secrets); diff != "" {
		t.Errorf("secret values (-want +got):\n%s", diff)
	}
}

// TestComposeValuesErrorsHideData: a Secret that is not a values file is
// an error that does not quote it.
func TestComposeValuesErrorsHideData(t *testing.T) {
	t.Parallel()
	_, _, err := ComposeValues([]ValuesRef{{Kind: "Secret", Name: "bad", ValuesKey: "values.yaml", Found: true, Data: []byte("canary-s3cr3t-7f3a: [unclosed")}}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	if s := err.Error(); contains(s, "canary") {
		t.Errorf("error quotes the Secret: %s", s)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
