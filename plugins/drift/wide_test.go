package drift

import (
	"bytes"
	"strings"
	"testing"
)

// TestStatusWide: 'drift status -o wide' is the table with REVISION, COMMIT,
// APPLIED and PATH added before NOTE (free text, kept last); the default
// table is unchanged.
func TestStatusWide(t *testing.T) {
	st := JSONStatus{Sources: []JSONStatusSource{{
		Name: "flux/flux-system/apps", Type: "flux", Revision: "main", Commit: "0123abcd", Path: "apps/prod",
		Operator: &JSONOperator{Ready: "True", Revision: "main@sha1:0123abcd"}, Drift: driftDrifted,
		Summary: map[string]int{"modified": 2}, Reason: "two objects could not be compared",
	}}}
	lines := func(format string) [][]string {
		var b bytes.Buffer
		if err := writeStatus(&b, st, format, false); err != nil {
			t.Fatal(err)
		}
		var out [][]string
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			out = append(out, strings.Fields(l))
		}
		return out
	}
	wide := lines("wide")
	if got, want := strings.Join(wide[0], " "), "SOURCE SYNC HEALTH READY DRIFT MODIFIED MISSING EXTRANEOUS WHO REVISION COMMIT APPLIED PATH NOTE"; got != want {
		t.Errorf("wide header:\n got %s\nwant %s", got, want)
	}
	if got, want := strings.Join(wide[1], " "), "flux/flux-system/apps - - True drifted 2 0 0 - main 0123abcd main@sha1:0123abcd apps/prod two objects could not be compared"; got != want {
		t.Errorf("wide row:\n got %s\nwant %s", got, want)
	}
	table := lines("table")
	if got, want := strings.Join(table[0], " "), "SOURCE SYNC HEALTH READY DRIFT MODIFIED MISSING EXTRANEOUS WHO NOTE"; got != want {
		t.Errorf("table header:\n got %s\nwant %s", got, want)
	}
	if got, want := strings.Join(table[1], " "), "flux/flux-system/apps - - True drifted 2 0 0 - two objects could not be compared"; got != want {
		t.Errorf("table row:\n got %s\nwant %s", got, want)
	}
}
