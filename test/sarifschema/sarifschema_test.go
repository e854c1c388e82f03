package sarifschema

import (
	"strings"
	"testing"
)

// TestCheckRejectsInvalidLogs: the validation can fail, so a test that
// passes it means something.
func TestCheckRejectsInvalidLogs(t *testing.T) {
	valid := `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}`
	if err := Check([]byte(valid)); err != nil {
		t.Fatalf("a minimal log is refused: %v", err)
	}
	for name, doc := range map[string]string{
		"wrong version": strings.Replace(valid, "2.1.0", "2.0.0", 1),
		"no runs":       `{"version": "2.1.0"}`,
		"unknown field": strings.Replace(valid, `"name": "x"`, `"name": "x", "colour": "red"`, 1),
		"line zero":     strings.Replace(valid, `"results": []`, `"results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]`, 1),
		"bad level":     strings.Replace(valid, `"results": []`, `"results": [{"message": {"text": "m"}, "level": "fatal"}]`, 1),
		"not JSON":      "{",
	} {
		if Check([]byte(doc)) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
