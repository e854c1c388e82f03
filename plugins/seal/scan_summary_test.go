package seal

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestScanSummaryWhenClean: with nothing found, scan says so in one line on
// stderr, whatever the format; stdout stays the report (empty for the
// table, parseable for -o json and -o sarif).
func TestScanSummaryWhenClean(t *testing.T) {
	t.Parallel()
	clean := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: op://prod/db/password\n  token: ${TOKEN}\n"
	for _, format := range []string{"table", "json", "sarif"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			dir := scanTree(t, map[string]string{"secret.yaml": clean})
			code, out, errOut := runScan(t, "-o", format, dir)
			if code != 0 {
				t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if errOut != "no plaintext secrets found\n" {
				t.Errorf("stderr = %q, want the one-line summary", errOut)
			}
			switch format {
			case "table":
				if out != "" {
					t.Errorf("stdout = %q, want empty", out)
				}
			default:
				var v any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Errorf("stdout is not JSON: %v\n%s", err, out)
				}
			}
		})
	}
	// With findings the summary is the count, not "no ... found".
	dir := scanTree(t, map[string]string{"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${DB_PASSWORD:=" + scanCanary + "}\n"})
	code, _, errOut := runScan(t, dir)
	if code != 1 || strings.Contains(errOut, "no plaintext") || !strings.Contains(errOut, "1 plaintext secret(s) found") {
		t.Errorf("literal default: exit %d, stderr %q; want 1 and the count", code, errOut)
	}
}
