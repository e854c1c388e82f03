package sarif

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/sarifschema"
)

func TestBuildWritesAValidLog(t *testing.T) {
	log := Build("kubectl-gitops-seal", "v1.2.3", "https://example.com/docs", []RuleInfo{
		{ID: "plaintext-secret", Short: "a Secret in plaintext", Help: "Seal it."},
		{ID: "secret-generator-missing", Short: "a missing file", Level: LevelWarning},
	}, []Finding{
		{Rule: "plaintext-secret", Message: "Secret db holds data", File: "apps/db.yaml", Line: 3},
		{Rule: "secret-generator-missing", Level: LevelWarning, Message: "not there", File: "./kustomization.yaml"},
		{Rule: "unlisted-rule", Message: "m", File: "/abs/dir/has space.yaml", Line: 9},
		{Rule: "plaintext-secret", Message: "no file"},
	})
	var buf bytes.Buffer
	if err := Write(&buf, log); err != nil {
		t.Fatal(err)
	}
	sarifschema.Validate(t, buf.Bytes())

	var got struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID, Name string }
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string } `json:"artifactLocation"`
						Region           *struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	run := got.Runs[0]
	var rules []string
	for _, r := range run.Tool.Driver.Rules {
		rules = append(rules, r.ID+"/"+r.Name)
	}
	if diff := cmp.Diff([]string{"plaintext-secret/PlaintextSecret", "secret-generator-missing/SecretGeneratorMissing", "unlisted-rule/UnlistedRule"}, rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	type loc struct {
		Rule       string
		Index      int
		Level      string
		URI, Base  string
		Line       int
		NoLocation bool
	}
	var locs []loc
	for _, r := range run.Results {
		l := loc{Rule: r.RuleID, Index: r.RuleIndex, Level: r.Level, NoLocation: len(r.Locations) == 0}
		if len(r.Locations) > 0 {
			pl := r.Locations[0].PhysicalLocation
			l.URI, l.Base = pl.ArtifactLocation.URI, pl.ArtifactLocation.URIBaseID
			if pl.Region != nil {
				l.Line = pl.Region.StartLine
			}
		}
		locs = append(locs, l)
	}
	want := []loc{
		{"plaintext-secret", 0, "error", "apps/db.yaml", SrcRoot, 3, false},
		{"secret-generator-missing", 1, "warning", "kustomization.yaml", SrcRoot, 0, false},
		{"unlisted-rule", 2, "error", "file:///abs/dir/has%20space.yaml", "", 9, false},
		{"plaintext-secret", 0, "error", "", "", 0, true},
	}
	if diff := cmp.Diff(want, locs); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestBuildWithoutFindingsIsValid(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Build("tool", "", "", nil, nil)); err != nil {
		t.Fatal(err)
	}
	sarifschema.Validate(t, buf.Bytes())
	if !bytes.Contains(buf.Bytes(), []byte(`"results": []`)) {
		t.Errorf("no empty results list (code scanning needs one):\n%s", buf.Bytes())
	}
}
