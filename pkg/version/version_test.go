package version

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sigs.k8s.io/yaml"
)

func TestWrite(t *testing.T) {
	info := Report{
		ClientVersion: Info{Version: "v1.2.3", GitCommit: "abc", BuildDate: "2026-01-01T00:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"},
		ServerVersion: &Server{GitVersion: "v1.37.2", GoVersion: "go1.26.8", Platform: "linux/amd64"},
	}
	tests := []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{FormatText, func(t *testing.T, out string) {
			want := "kubectl gitops version v1.2.3 (commit abc, built 2026-01-01T00:00:00Z, go1.26.8, linux/amd64)\nServer Version: v1.37.2\n"
			if out != want {
				t.Errorf("got %q, want %q", out, want)
			}
		}},
		{FormatJSON, func(t *testing.T, out string) {
			var got Report
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(info, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		}},
		{FormatYAML, func(t *testing.T, out string) {
			var got Report
			if err := yaml.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(info, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		}},
	}
	for _, tt := range tests {
		t.Run("format="+tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := info.Write(&buf, "kubectl gitops", tt.format); err != nil {
				t.Fatal(err)
			}
			tt.check(t, buf.String())
		})
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	err := Report{}.Write(&bytes.Buffer{}, "x", "xml")
	if err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Fatalf("want an error naming the format, got %v", err)
	}
}

func TestGetDefaults(t *testing.T) {
	i := Get()
	if i.Version == "" || i.GitCommit == "" || i.BuildDate == "" || i.GoVersion == "" || i.Platform == "" {
		t.Fatalf("every field must be filled: %+v", i)
	}
}
