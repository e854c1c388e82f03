package promote

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletion: application names for the arguments, environment names
// for --to, from the repository's pipeline file.
func TestCompletion(t *testing.T) {
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, t.TempDir(), "init", "-q", "--bare", "-b", "main", bare)
	dir := exampleRepo(t, bare, nil)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "-C", dir, "w"}, []string{"web", "worker", "api"}}, // cobra filters by prefix in the shell script, not here
		{[]string{"__complete", "-C", dir, "web", "--to", ""}, []string{"dev", "staging", "prod"}},
		{[]string{"__complete", "-C", dir, "rollback", "web", "--env", ""}, []string{"dev", "staging", "prod"}},
		{[]string{"__complete", "-C", dir, "status", "-o", ""}, []string{"text", "wide", "json", "yaml"}},
		{[]string{"__complete", "-C", dir, "history", "-o", ""}, []string{"text", "json", "yaml"}},
	}
	for _, tt := range tests {
		r := promote(t, "", dir, tt.args...)
		var names []string
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if !strings.Contains(l, "\t") && !strings.HasPrefix(l, ":") {
				names = append(names, l)
			}
		}
		if strings.Join(names, ",") != strings.Join(tt.want, ",") || !strings.Contains(r.stdout, "\n:4") {
			t.Errorf("%v: got %v, want %v\n%s", tt.args, names, tt.want, r)
		}
	}
}
