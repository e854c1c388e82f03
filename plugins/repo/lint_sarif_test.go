package repo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repolint"
	"github.com/kubectl-gitops/kubectl-gitops/test/sarifschema"
)

// TestLintSARIF: -o sarif is a valid SARIF 2.1.0 log (checked against the
// OASIS schema) listing every rule, with one result per finding, located
// at a file that exists relative to the working directory.
func TestLintSARIF(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	r := runRepo(t, "", "lint", "../../examples/broken-repo", "-o", "sarif")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r)
	}
	sarifschema.Validate(t, []byte(r.stdout))
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Rules []struct{ ID string } }
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) < len(repolint.Rules) {
		t.Errorf("%d rules, want every lint rule (%d)", len(run.Tool.Driver.Rules), len(repolint.Rules))
	}
	if len(run.Results) != 12 {
		t.Errorf("%d results, want the 12 findings", len(run.Results))
	}
	levels := map[string]int{}
	for _, res := range run.Results {
		levels[res.Level]++
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result of %s points at rule %d", res.RuleID, res.RuleIndex)
		}
		al := res.Locations[0].PhysicalLocation.ArtifactLocation
		if al.URIBaseID != "%SRCROOT%" || !strings.HasPrefix(al.URI, "../../examples/broken-repo/") {
			t.Errorf("result of %s at %+v, want under ../../examples/broken-repo/ from %%SRCROOT%%", res.RuleID, al)
			continue
		}
		if _, err := os.Stat(filepath.FromSlash(al.URI)); err != nil {
			t.Errorf("result of %s: %v", res.RuleID, err)
		}
	}
	if levels["error"] != 11 || levels["warning"] != 1 {
		t.Errorf("levels %v, want 11 errors and 1 warning", levels)
	}
}
