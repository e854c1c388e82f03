package textdiff

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

func TestColorize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{
			"simple",
			"--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n",
			"\x1b[1m--- a\x1b[0m\n\x1b[1m+++ b\x1b[0m\n\x1b[36m@@ -1,2 +1,2 @@\x1b[0m\n x\n\x1b[31m-y\x1b[0m\n\x1b[32m+z\x1b[0m\n",
		},
		{
			// A removed line reading "-- x" renders as "--- x": the hunk
			// counts say it is a removal, not a header.
			"header-lookalikes",
			"--- a\n+++ b\n@@ -1 +1 @@\n--- x\n+++ y\n",
			"\x1b[1m--- a\x1b[0m\n\x1b[1m+++ b\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n\x1b[31m--- x\x1b[0m\n\x1b[32m+++ y\x1b[0m\n",
		},
		{
			"no-newline-marker",
			"--- a\n+++ b\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n",
			"\x1b[1m--- a\x1b[0m\n\x1b[1m+++ b\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n\x1b[31m-x\x1b[0m\n\\ No newline at end of file\n\x1b[32m+y\x1b[0m\n\\ No newline at end of file\n",
		},
		{
			"no-final-newline",
			"--- a\n+++ b\n@@ -0,0 +1 @@\n+y",
			"\x1b[1m--- a\x1b[0m\n\x1b[1m+++ b\x1b[0m\n\x1b[36m@@ -0,0 +1 @@\x1b[0m\n\x1b[32m+y\x1b[0m",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Colorize(tt.in)); diff != "" {
				t.Errorf("Colorize(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestColorizeGolden colours two concatenated diffs with several hunks, each
// preceded by a "diff" line as multi-object output has, and checks that
// stripping the colours gives the input back.
func TestColorizeGolden(t *testing.T) {
	in := "diff apps/v1/Deployment/prod/web\n" +
		Unified("live", "merged", numbered(20, nil), numbered(20, map[int]string{2: "two\n", 18: ""}), 3) +
		"diff v1/ConfigMap/prod/settings\n" +
		Unified("live", "merged", "a: 1\nb: 2", "a: 1\nb: 3", 3)
	got := Colorize(in)
	golden.CheckString(t, filepath.Join("testdata", "colorize.golden"), got)
	plain := strings.NewReplacer(bold, "", cyan, "", red, "", green, "", reset, "").Replace(got)
	if diff := cmp.Diff(in, plain); diff != "" {
		t.Errorf("Colorize changed the text (-in +uncoloured):\n%s", diff)
	}
}
