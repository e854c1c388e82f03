package seal

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/sarifschema"
)

// sarifLog is the part of a SARIF log the tests read.
type sarifLog struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Name  string
				Rules []struct {
					ID   string
					Help *struct{ Text string }
				}
			}
		}
		Results []struct {
			RuleID    string
			RuleIndex int
			Level     string
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct{ URI, URIBaseID string }
					Region           *struct{ StartLine int }
				}
			}
		}
	}
}

// TestScanSARIF: -o sarif is a valid SARIF 2.1.0 log (checked against the
// OASIS schema) with every rule and its help, one result per finding at its
// file and line, warnings at level warning, and never a secret value.
func TestScanSARIF(t *testing.T) {
	dir := scanTree(t, map[string]string{
		"apps/secret.yaml": plainSecret,
		"apps/values.yaml": "grafana:\n  adminPassword: " + scanCanary + "\n",
		"apps/kustomization.yaml": "secretGenerator:\n- name: app\n  literals: [token=" + scanCanary + "]\n" +
			"- name: env\n  envs: [app.env]\n- name: gone\n  files: [missing.txt]\n",
		"apps/app.env": "API_KEY=" + scanCanary + "\n",
	})
	t.Chdir(dir)
	code, out, errOut := runScan(t, "-o", "sarif", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	sarifschema.Validate(t, []byte(out))
	var log sarifLog
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs", len(log.Runs))
	}
	run := log.Runs[0]
	rules := run.Tool.Driver.Rules
	if len(rules) < 11 {
		t.Errorf("%d rules, want every rule of the scanner", len(rules))
	}
	var got []string
	for _, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(rules) || rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result of %s has ruleIndex %d", r.RuleID, r.RuleIndex)
			continue
		}
		if h := rules[r.RuleIndex].Help; h == nil || h.Text == "" {
			t.Errorf("rule %s has no help", r.RuleID)
		}
		if len(r.Locations) != 1 {
			t.Errorf("result of %s has %d locations", r.RuleID, len(r.Locations))
			continue
		}
		pl := r.Locations[0].PhysicalLocation
		line := 0
		if pl.Region != nil {
			line = pl.Region.StartLine
		}
		got = append(got, strings.Join([]string{r.RuleID, r.Level, pl.ArtifactLocation.URIBaseID, pl.ArtifactLocation.URI}, " ")+":"+itoa(line))
	}
	sort.Strings(got)
	want := []string{
		"plaintext-secret error %SRCROOT% apps/secret.yaml:6",
		"secret-generator-env error %SRCROOT% apps/app.env:1",
		"secret-generator-literal error %SRCROOT% apps/kustomization.yaml:3",
		"secret-generator-missing warning %SRCROOT% apps/kustomization.yaml:7",
		"values-secret error %SRCROOT% apps/values.yaml:2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	// Nothing found: a valid log with an empty result list, exit 0.
	code, out, _ = runScan(t, "-o", "sarif", scanTree(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"}))
	if code != 0 {
		t.Errorf("clean tree: exit %d", code)
	}
	sarifschema.Validate(t, []byte(out))
	if !strings.Contains(out, `"results": []`) {
		t.Errorf("clean tree: no empty result list:\n%s", out)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
